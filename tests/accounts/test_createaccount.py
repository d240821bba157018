"""The createaccount management command and account isolation."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Account, User

pytestmark = pytest.mark.django_db


def run(*args, stdin=""):
    out = io.StringIO()
    import sys

    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        call_command("createaccount", *args, stdout=out)
    finally:
        sys.stdin = old
    return out.getvalue()


def test_json_output_and_generated_password():
    result = json.loads(run("--alias", "acme", "--email", "ops@acme.example", "--json"))
    assert set(result) == {"account_uid", "alias", "root_login", "root_password"}
    assert len(result["account_uid"]) == 16 and result["account_uid"].isdigit()
    assert result["root_login"] == "ops@acme.example"
    root = User.objects.get(kind="root", account__uid=result["account_uid"])
    assert root.check_password(result["root_password"])


def test_password_from_stdin():
    passphrase = "a very long root passphrase 123"
    result = json.loads(
        run(
            "--alias",
            "initech",
            "--email",
            "r@initech.example",
            "--json",
            "--password-stdin",
            stdin=passphrase + "\n",
        )
    )
    assert result["root_password"] == passphrase
    assert User.objects.get(email="r@initech.example").check_password(passphrase)


@pytest.mark.parametrize("alias", ["ab", "-bad", "bad-", "dou--ble", "Upper", "ünï"])
def test_bad_alias_is_refused_and_nothing_is_written(alias):
    with pytest.raises(CommandError, match="AccountAlias"):
        run(f"--alias={alias}", "--email", "x@example.com")
    assert not Account.objects.exists()


def test_weak_stdin_password_is_refused():
    with pytest.raises(CommandError, match="TooWeak"):
        run("--alias", "weak", "--email", "x@example.com", "--password-stdin", stdin="short\n")
    assert not Account.objects.exists()


def test_duplicate_alias_and_email():
    run("--alias", "dup", "--email", "a@dup.example")
    with pytest.raises(CommandError, match=r"EntityAlreadyExists\.AccountAlias"):
        run("--alias", "dup", "--email", "b@dup.example")
    with pytest.raises(CommandError, match=r"EntityAlreadyExists\.User"):
        run("--alias", "dup2", "--email", "A@dup.example")


def test_many_accounts_get_distinct_uids():
    uids = {
        json.loads(run("--alias", f"t{i:03d}", "--email", f"r{i}@t.example", "--json"))[
            "account_uid"
        ]
        for i in range(5)
    }
    assert len(uids) == 5


def test_bootstrapdemo_runs_once():
    out = io.StringIO()
    call_command("bootstrapdemo", stdout=out)
    assert "Root password:" in out.getvalue()
    out = io.StringIO()
    call_command("bootstrapdemo", stdout=out)
    assert "Root password" not in out.getvalue()
    assert Account.objects.count() == 1
