"""Console login: names, root by email, same message for every failure, locks, password policy."""

from __future__ import annotations

import threading
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from accounts.errors import InvalidParameter
from accounts.hashers import IamArgon2PasswordHasher
from accounts.login import LOGIN_FAILED, ip_blocked, login_attempt
from accounts.models import PasswordPolicy, User
from accounts.services import login_profile_set, password_change, password_policy_set
from audit.models import AuditEvent
from policies.principal import RequestMeta
from tests.conftest import PASSWORD, principal_for

pytestmark = pytest.mark.django_db
META = RequestMeta(source_ip="10.9.8.7", user_agent="pytest", request_id="R1")


def attempt(identifier, password=PASSWORD):
    return login_attempt(identifier=identifier, password=password, meta=META)


def test_ram_user_logs_in_by_name_at_alias_domain(tenant, plain):
    assert attempt("plain@acme.iam.localhost").user == plain
    assert attempt("PLAIN@ACME.iam.localhost").user == plain
    assert attempt(f"plain@{tenant.account.uid}.iam.localhost").user == plain


def test_root_logs_in_by_email(tenant):
    assert attempt("root@acme.example", tenant.root_password).user == tenant.root
    assert attempt("ROOT@acme.example", tenant.root_password).user == tenant.root


def test_user_of_another_alias_is_not_found(tenant, other_tenant, plain):
    assert attempt("plain@globex.iam.localhost").user is None


@pytest.mark.parametrize(
    "identifier",
    ["nobody@acme.iam.localhost", "plain@acme.iam.localhost", "no-at-sign", "root@unknown.example"],
)
def test_every_failure_gets_the_same_message(plain, identifier):
    result = attempt(identifier, "wrong password entirely")
    assert result.user is None and result.message == LOGIN_FAILED


def test_user_without_console_access_cannot_log_in(tenant):
    tenant.make_user("robot", console=False)
    assert attempt("robot@acme.iam.localhost", "").message == LOGIN_FAILED


def test_unknown_user_still_runs_the_hasher(tenant):
    with mock.patch("accounts.login._burn_hash_time", wraps=lambda pw: None) as burn:
        attempt("ghost@acme.iam.localhost")
    burn.assert_called_once()


def test_lock_after_max_attempts_and_lock_checked_before_hashing(plain):
    for _ in range(5):
        assert attempt("plain@acme.iam.localhost", "bad").user is None
    plain.refresh_from_db()
    assert plain.locked_until is not None
    with mock.patch.object(User, "check_password") as check:
        result = attempt("plain@acme.iam.localhost")  # the right password
    assert result.user is None and result.message == LOGIN_FAILED
    check.assert_not_called()  # the user's own hash is never checked while locked
    reasons = list(
        AuditEvent.objects.filter(action="console:Login").values_list("details__reason", flat=True)
    )
    assert reasons.count("wrong_password") == 5 and reasons[0] == "locked"


def test_lock_expires_after_an_hour_and_success_resets(plain):
    for _ in range(5):
        attempt("plain@acme.iam.localhost", "bad")
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        assert attempt("plain@acme.iam.localhost").user == plain
    plain.refresh_from_db()
    assert plain.failed_login_count == 0 and plain.locked_until is None


def test_failures_outside_the_hour_window_start_a_new_count(plain):
    for _ in range(4):
        attempt("plain@acme.iam.localhost", "bad")
    with time_machine.travel(timezone.now() + timedelta(minutes=70)):
        attempt("plain@acme.iam.localhost", "bad")
        plain.refresh_from_db()
        assert plain.failed_login_count == 1 and plain.locked_until is None


@pytest.mark.django_db(transaction=True)
def test_lock_counter_is_atomic_under_concurrency(tenant):
    user = tenant.make_user("racer")
    password_policy_set(actor=tenant.root_principal, max_login_attempts=32)
    threads = [
        threading.Thread(target=_fail_login, args=("racer@acme.iam.localhost",)) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    user.refresh_from_db()
    assert user.failed_login_count == 8


def _fail_login(identifier):
    try:
        attempt(identifier, "wrong")
    finally:
        connection.close()


def test_password_policy_rules_apply_to_every_set(tenant, plain):
    root = tenant.root_principal
    for bad, reason in [
        ("short", "at least 15"),
        ("a" * 1025, "at most 1024"),
        ("1q2w3e4r5t6y7u8i", "commonly used"),
        ("aaaaaaaaaaaaaaaaaaaa", "distinct characters"),
        ("plain", "at least 15"),
    ]:
        with pytest.raises(InvalidParameter) as info:
            login_profile_set(actor=root, user=plain, password=bad)
        assert info.value.code == "InvalidParameter.Password.TooWeak"
        assert reason in info.value.message
    password_policy_set(
        actor=root, minimum_password_length=8, require_symbols=True, require_numbers=True
    )
    with pytest.raises(InvalidParameter, match="Include a symbol"):
        login_profile_set(actor=root, user=plain, password="abcdefgh1")
    login_profile_set(actor=root, user=plain, password="abcdefgh1!")


def test_reuse_prevention(tenant, plain):
    password_policy_set(actor=tenant.root_principal, password_reuse_prevention=2)
    me = principal_for(plain)
    password_change(
        actor=me, user=plain, old_password=PASSWORD, new_password="a brand new passphrase 1"
    )
    with pytest.raises(InvalidParameter, match="last 2 passwords"):
        password_change(
            actor=me, user=plain, old_password="a brand new passphrase 1", new_password=PASSWORD
        )


def test_unicode_passwords_are_normalized(tenant, plain):
    composed, decomposed = "caf\u00e9 au lait tous les matins", "cafe\u0301 au lait tous les matins"
    login_profile_set(actor=tenant.root_principal, user=plain, password=composed)
    assert attempt("plain@acme.iam.localhost", decomposed).user == plain


def test_forced_change_at_next_login(tenant, plain):
    login_profile_set(actor=tenant.root_principal, user=plain, password_reset_required=True)
    assert attempt("plain@acme.iam.localhost").must_change_password


def test_max_age_soft_and_hard_expiry(tenant, plain):
    password_policy_set(actor=tenant.root_principal, max_password_age=30)
    later = timezone.now() + timedelta(days=31)
    with time_machine.travel(later):
        result = attempt("plain@acme.iam.localhost")
        assert result.user == plain and result.must_change_password
    password_policy_set(actor=tenant.root_principal, hard_expiry=True)
    with time_machine.travel(later):
        result = attempt("plain@acme.iam.localhost")
        assert result.user is None and "expired" in result.message


def test_password_policy_ranges_are_checked(tenant):
    with pytest.raises(InvalidParameter):
        password_policy_set(actor=tenant.root_principal, minimum_password_length=7)
    assert PasswordPolicy.objects.get(account=tenant.account).minimum_password_length == 15


def test_login_events_carry_request_meta(plain):
    attempt("plain@acme.iam.localhost")
    event = AuditEvent.objects.filter(action="console:Login").first()
    assert event.outcome == "success" and event.source_ip == "10.9.8.7"
    assert event.request_id == "R1" and event.actor_arn == plain.arn


@pytest.mark.django_db(transaction=True)
def test_concurrent_failures_cannot_exceed_the_limit(tenant):
    """Ten simultaneous wrong passwords with a limit of three: three checks run, then locked."""
    user = tenant.make_user("hammer")
    password_policy_set(actor=tenant.root_principal, max_login_attempts=3)
    threads = [
        threading.Thread(target=_fail_login, args=("hammer@acme.iam.localhost",)) for _ in range(10)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reasons = list(
        AuditEvent.objects.filter(action="console:Login", actor_arn=user.arn).values_list(
            "details__reason", flat=True
        )
    )
    assert reasons.count("wrong_password") == 3
    assert reasons.count("locked") == 7
    user.refresh_from_db()
    assert user.locked_until is not None


def _verify_calls(identifier: str, password: str = PASSWORD) -> int:
    with mock.patch.object(
        IamArgon2PasswordHasher, "verify", autospec=True, return_value=False
    ) as verify:
        assert attempt(identifier, password).message == LOGIN_FAILED
    return verify.call_count


def test_locked_and_unknown_users_cost_one_hash_like_a_wrong_password(tenant, plain):
    """Same cost for every failure: a locked user runs the hasher (against a dummy hash) just
    like an unknown user and a wrong password, so timing tells no one who exists."""
    tenant.make_user("robot", console=False)
    for _ in range(5):
        attempt("plain@acme.iam.localhost", "bad")
    plain.refresh_from_db()
    assert plain.locked_until is not None
    assert _verify_calls("plain@acme.iam.localhost") == 1  # locked, right password
    assert _verify_calls("ghost@acme.iam.localhost") == 1  # unknown
    assert _verify_calls("robot@acme.iam.localhost") == 1  # no console access
    other = tenant.make_user("other")
    assert _verify_calls(f"{other.name}@acme.iam.localhost", "wrong") == 1  # wrong password


def test_attempts_on_a_locked_user_count_toward_the_address_limit(plain, settings):
    for _ in range(5):
        attempt("plain@acme.iam.localhost", "bad")
    settings.IAM_LOGIN_FAILURES_PER_IP = 7
    attempt("plain@acme.iam.localhost")  # locked: the 6th failure from this address
    assert not ip_blocked(META)
    attempt("plain@acme.iam.localhost")  # locked: the 7th
    assert ip_blocked(META)
