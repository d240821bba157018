"""Hints with <placeholders> read as text: Django renders a form's help_text as HTML, so a raw
`<uid>` would vanish into the markup."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from html.parser import HTMLParser

import pytest
from django import forms
from django.apps import apps
from django.conf import settings
from django.test import Client

from tests.conftest import PASSWORD


class _Text(HTMLParser):
    """The text a browser shows: markup dropped, entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def shown(html: bytes) -> str:
    parser = _Text()
    parser.feed(html.decode())
    return " ".join("".join(parser.parts).split())


def sign_in(login: str, password: str) -> Client:
    client = Client()
    assert client.post("/console/login", {"login": login, "password": password}).status_code == 302
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("/console/switch-role", "acs:ram::<account uid>:role/<role name>"),
        ("/console/simulator/", "A user name, or role/<role name> for a role's session"),
        ("/console/simulator/", "acs:ram:*:<uid>:user/alice or acs:oss:*:<uid>:bucket/key"),
        ("/console/simulator/", "oss:GetObject on acs:oss:*:<uid>:bucket/key"),
        ("/console/security/", "users then sign in as name@<account uid>.<domain>."),
    ],
)
def test_hints_show_their_placeholders(tenant, admin, url, hint):
    page = sign_in("admin@acme.iam.localhost", PASSWORD).get(url)
    assert page.status_code == 200
    assert hint in shown(page.content)


@pytest.mark.django_db
def test_sso_page_names_the_login_domain(tenant, admin):
    page = sign_in("admin@acme.iam.localhost", PASSWORD).get("/console/sso/")
    assert page.status_code == 200
    assert f"name@acme.{settings.IAM_LOGON_DOMAIN}-style login names" in shown(page.content)


def _project_forms() -> list[type[forms.BaseForm]]:
    found: list[type[forms.BaseForm]] = []
    for app in apps.get_app_configs():
        if "site-packages" in app.path:
            continue
        for info in pkgutil.walk_packages([app.path], f"{app.name}."):
            if ".migrations" in info.name or ".management" in info.name:
                continue
            module = importlib.import_module(info.name)
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__:
                    found.append(cls)
    return found


def test_no_help_text_carries_raw_markup():
    """as_p/as_div print help_text unescaped: a literal `<…>` must be escaped at the source."""
    form_classes = _project_forms()
    assert len(form_classes) > 10
    raw = [
        f"{cls.__module__}.{cls.__name__}.{name}"
        for cls in form_classes
        for name, field in cls.base_fields.items()
        if "<" in str(field.help_text)
    ]
    assert raw == []
