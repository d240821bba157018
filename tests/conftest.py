"""Personas and helpers shared by the suite: root, admin, plain user, auditor, outsider."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from django.core.management import call_command

from accounts.models import Account, User
from accounts.selectors import principal_for_user
from accounts.services import account_create, user_create
from policies.authorization import clear_cache
from policies.models import Policy
from policies.principal import Principal, RequestMeta
from policies.services import policy_attach

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    """SAML tests need Debian's xmlsec1. Without it they are skipped on a developer machine,
    like the browser tests without Chromium; IAM_REQUIRE_XMLSEC=1 (set by CI) runs them anyway,
    so a missing xmlsec1 fails there."""
    import shutil

    if shutil.which("xmlsec1") or os.environ.get("IAM_REQUIRE_XMLSEC"):
        return
    skip = pytest.mark.skip(reason="xmlsec1 is not installed (apt-get install xmlsec1)")
    for item in items:
        if "saml" in item.keywords:
            item.add_marker(skip)


PASSWORD = "correct horse battery staple 42"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("createcachetable", verbosity=0)


@pytest.fixture(autouse=True)
def _fresh_policy_cache():
    clear_cache()
    yield
    clear_cache()


@pytest.fixture(autouse=True)
def _fresh_shared_cache(request):
    """Redis outlives each test (unlike the database cache table): start every test clean, so
    per-address sign-in counters and nonces of one test never leak into the next."""
    from django.conf import settings

    if "RedisCache" in settings.CACHES["default"]["BACKEND"]:
        from django.core.cache import cache

        cache.clear()
    yield


def principal_for(user: User, *, mfa: bool = False, ip: str = "127.0.0.1") -> Principal:
    """The Principal a console session of `user` resolves to (re-read for a fresh version)."""
    user = User.objects.select_related("account").get(pk=user.pk)
    meta = RequestMeta(source_ip=ip, user_agent="pytest", request_id="TEST")
    return principal_for_user(user, mfa_present=mfa, credential="test", meta=meta)


def system_policy(name: str) -> Policy:
    return Policy.objects.get(account__isnull=True, name=name)


@dataclass
class Tenant:
    account: Account
    root: User
    root_password: str

    @property
    def root_principal(self) -> Principal:
        return principal_for(self.root)

    def make_user(self, name: str, *policies: str, console: bool = True) -> User:
        user = user_create(
            actor=self.root_principal,
            name=name,
            console_access=console,
            password=PASSWORD if console else "",
        )
        for policy in policies:
            policy_attach(actor=self.root_principal, policy=system_policy(policy), user=user)
        return User.objects.get(pk=user.pk)


def make_tenant(alias: str) -> Tenant:
    account, root, password = account_create(alias=alias, email=f"root@{alias}.example")
    return Tenant(account, root, password)


@pytest.fixture
def tenant(db) -> Tenant:
    return make_tenant("acme")


@pytest.fixture
def other_tenant(db) -> Tenant:
    return make_tenant("globex")


@pytest.fixture
def admin(tenant: Tenant) -> User:
    return tenant.make_user("admin", "AdministratorAccess")


@pytest.fixture
def plain(tenant: Tenant) -> User:
    return tenant.make_user("plain")


@pytest.fixture
def auditor(tenant: Tenant) -> User:
    return tenant.make_user("auditor", "AuditReadOnlyAccess")


@pytest.fixture
def outsider(other_tenant: Tenant) -> User:
    return other_tenant.make_user("intruder", "AdministratorAccess")
