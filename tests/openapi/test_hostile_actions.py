"""Every registered action, driven with hostile values by an account's root key: never a 5xx,
and a refused call changes nothing.

The actions come from the registry and the parameters each one reads are found by watching it
read them, so a new action (or a new parameter) is driven without anyone listing it here. Each
example runs in a savepoint that is rolled back, so every example sees the same small world.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock
from urllib.parse import quote

import pytest
from django.apps import apps
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Account
from openapi.params import Params
from openapi.registry import registered
from openapi.signature import v1_signature, v1_string_to_sign
from policies.authorization import clear_cache
from tests.openapi.conftest import Api, now

pytestmark = pytest.mark.django_db

COMMON = {
    "Action",
    "Version",
    "Format",
    "AccessKeyId",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "Timestamp",
    "Signature",
    "SecurityToken",
}
# Bookkeeping that a refused call may write: its audit event, its nonce, sessions and runs.
NOT_STATE = {"audit", "singleuse", "sessions", "contenttypes", "housekeeping", "auth"}


def document(**statement: Any) -> str:
    base = {"Effect": "Allow", "Action": "ram:GetUser", "Resource": "*"}
    return json.dumps({"Version": "1", "Statement": [{**base, **statement}]})


def trust(uid: str, **statement: Any) -> str:
    base = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": [uid]}}
    return json.dumps({"Version": "1", "Statement": [{**base, **statement}]})


def huge_number_document() -> str:
    return document()[:-3] + ',"Sid":' + "9" * 5000 + "}]}"


HOSTILE = [
    "ab\x00cd",
    "\x00",
    "a\x01\x02b",
    "\x1b[31mred",
    "\x7f",
    "\ud800",  # lone surrogates: over the wire they arrive as U+FFFD
    "a\udfffb",
    "9" * 5000,
    "-" + "9" * 5000,
    "99999999999999999999",
    "-1",
    "1e999",
    "NaN",
    "a" * 70_000,
    "é" * 20_000,
    "*",
    "*" * 3000,
    "*?" * 1500,
    "acs:ram:*:*:" + "*a" * 1000,
    "[" * 5000 + "]" * 5000,
    '{"a":' * 3000 + "1" + "}" * 3000,
    '[{"Key": "\\ud800", "Value": "\\u0000"}]',
    huge_number_document(),
    document(Sid="a\x00b"),  # JSON escapes: \u0000 and \ud800 inside the document
    document(Sid="\ud800"),
    document(Resource="acs:ram:*:*:" + "*?" * 1000),
    document(Condition={"NumericEquals": {"acs:x": 10**80}}),
    '{"Version":"1","Statement":' + "[" * 2000 + "]" * 2000 + "}",
    "",
    " ",
    "true",
    "null",
    "%00",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "'; DROP TABLE accounts_user; --",
    "\u202etxt.exe",
    "😀" * 1000,
]
hostile_values = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(exclude_categories=()), max_size=40),
)


def on_the_wire(value: str) -> str:
    """What the server decodes a value to: a lone surrogate can't be UTF-8, so it is replaced."""
    return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def send(api: Api, version: str, action: str, params: dict[str, str]) -> Any:
    """A V1-signed POST that may carry any str, signed over what the server will decode."""
    query = {
        "Action": action,
        "Version": version,
        "Format": "JSON",
        "AccessKeyId": api.key_id,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": secrets.token_hex(16),
        "Timestamp": now(),
        **params,
    }
    seen = {name: on_the_wire(value) for name, value in query.items()}
    query["Signature"] = v1_signature(v1_string_to_sign("POST", seen), api.secret)
    encoded = "&".join(
        f"{quote(name, safe='')}={quote(value.encode('utf-8', 'surrogatepass'), safe='')}"
        for name, value in query.items()
    )
    return api.client.post("/?" + encoded)


@contextmanager
def rolled_back() -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)
    clear_cache()


@contextmanager
def watching(seen: dict[str, str]) -> Iterator[None]:
    """Record every parameter name a handler asks its Params for, with a value of the kind
    asked for (text, a flag, a number in range) to try next time."""

    class Watched(dict):
        def get(self, key: Any, default: Any = None) -> Any:
            seen.setdefault(key, "x")
            return super().get(key, default)

        def __contains__(self, key: object) -> bool:
            seen.setdefault(str(key), "x")
            return super().__contains__(key)

    original_init, original_flag, original_number = Params.__init__, Params.flag, Params.number

    def init(self: Params, values: dict[str, str]) -> None:
        original_init(self, Watched(values))

    def flag(self: Params, name: str, default: bool | None = None) -> bool | None:
        seen[name] = "false"
        return original_flag(self, name, default)

    def number(self: Params, name: str, **kwargs: Any) -> int | None:
        seen[name] = str(kwargs["low"])
        return original_number(self, name, **kwargs)

    with (
        mock.patch.object(Params, "__init__", init),
        mock.patch.object(Params, "flag", flag),
        mock.patch.object(Params, "number", number),
    ):
        yield


_PARAMETERS: dict[tuple[str, str], dict[str, str]] = {}


def parameters_of(api: Api, version: str, action: str, baseline: dict[str, str]) -> dict[str, str]:
    """The names an action reads with a good value for each, found by calling it with what it
    asked for so far (once per action and session)."""
    if (version, action) in _PARAMETERS:
        return _PARAMETERS[(version, action)]
    names: dict[str, str] = {}
    for _ in range(8):
        seen: dict[str, str] = {}
        with watching(seen), rolled_back():
            send(api, version, action, {n: baseline.get(n, v) for n, v in names.items()})
        fresh = {n: v for n, v in seen.items() if n not in COMMON}
        if fresh.keys() <= names.keys():
            break
        names.update(fresh)
    _PARAMETERS[(version, action)] = {n: baseline.get(n, v) for n, v in sorted(names.items())}
    return _PARAMETERS[(version, action)]


def state(account: Account) -> dict[str, Any]:
    """The account's rows of every model that holds IAM state, the row count of every other
    one (versions, memberships, …), and the account's authz_version."""
    rows: dict[str, Any] = {
        "authz_version": Account.objects.get(pk=account.pk).authz_version,
    }
    for model in apps.get_models():
        if model._meta.app_label in NOT_STATE:
            continue
        manager = model._default_manager
        if any(field.name == "account" for field in model._meta.fields):
            rows[model._meta.label] = list(manager.filter(account=account).order_by("pk").values())
        else:
            rows[model._meta.label] = manager.count()
    return rows


@pytest.fixture
def world(tenant, api_for) -> tuple[Api, dict[str, str]]:
    """The root key of an account holding one of each thing, and good values to mix in."""
    api = api_for(tenant.root)
    api.client = Client(raise_request_exception=False)
    uid = tenant.account.uid
    baseline = {
        "UserName": "u1",
        "NewUserName": "u2",
        "GroupName": "g1",
        "NewGroupName": "g2",
        "RoleName": "r1",
        "NewRoleName": "r2",
        "PolicyName": "p1",
        "PolicyType": "Custom",
        "VersionId": "v2",
        "PolicyDocument": document(),
        "Policy": document(),
        "AssumeRolePolicyDocument": trust(f"acs:ram::{uid}:root"),
        "NewAssumeRolePolicyDocument": trust(f"acs:ram::{uid}:root"),
        "RoleArn": f"acs:ram::{uid}:role/r1",
        "RoleSessionName": "s1",
        "DurationSeconds": "3600",
        "Password": "correct horse battery staple 42",
        "NewPassword": "another horse battery staple 43",
        "MaxItems": "10",
        "Status": "Inactive",
        "CascadingDelete": "false",
    }
    for action, params in [
        ("CreateUser", {"UserName": "u1"}),
        ("CreateGroup", {"GroupName": "g1"}),
        ("AddUserToGroup", {"UserName": "u1", "GroupName": "g1"}),
        (
            "CreateRole",
            {"RoleName": "r1", "AssumeRolePolicyDocument": trust(f"acs:ram::{uid}:root")},
        ),
        ("CreatePolicy", {"PolicyName": "p1", "PolicyDocument": document()}),
        ("CreatePolicyVersion", {"PolicyName": "p1", "PolicyDocument": document(Sid="two")}),
        ("AttachPolicyToUser", {"PolicyName": "p1", "PolicyType": "Custom", "UserName": "u1"}),
        ("AttachPolicyToRole", {"PolicyName": "p1", "PolicyType": "Custom", "RoleName": "r1"}),
    ]:
        api.v1(action, **params)
    return api, baseline


@pytest.mark.parametrize(("version", "action"), registered())
@settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_hostile_values_never_crash_and_a_refusal_writes_nothing(
    world, tenant, version, action, data
):
    api, baseline = world
    good = parameters_of(api, version, action, baseline)
    params = dict(good)
    target = data.draw(st.sampled_from(sorted(good) or ["SignatureNonce", "SecurityToken"]))
    params[target] = data.draw(hostile_values)
    for name in good:
        if data.draw(st.integers(0, 3)) == 0:
            params[name] = data.draw(hostile_values)
    with rolled_back():
        before = state(tenant.account)
        response = send(api, version, action, params)
        assert response.status_code < 500, (target, response.content[:300])
        if response.status_code >= 400:
            assert state(tenant.account) == before, (target, response.json()["Code"])
