"""Password rules: the account's policy, a common-password blocklist and context words."""

from __future__ import annotations

import string
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.auth.password_validation import CommonPasswordValidator
from django.utils import timezone

from accounts.hashers import normalize_password
from accounts.models import PasswordPolicy, User

PRODUCT_WORDS = ("iamconsole", "password", "administrator")


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    return frozenset(CommonPasswordValidator().passwords)


def password_problems(
    policy: PasswordPolicy, password: str, *, context_words: tuple[str, ...] = ()
) -> list[str]:
    """Everything wrong with `password` under `policy`, as readable sentences."""
    problems: list[str] = []
    normalized = normalize_password(password)
    if len(normalized) > settings.IAM_PASSWORD_MAX_LENGTH:
        return [f"Use at most {settings.IAM_PASSWORD_MAX_LENGTH} characters."]
    if len(normalized) < policy.minimum_password_length:
        problems.append(f"Use at least {policy.minimum_password_length} characters.")
    classes = [
        (policy.require_lowercase_characters, string.ascii_lowercase, "a lowercase letter"),
        (policy.require_uppercase_characters, string.ascii_uppercase, "an uppercase letter"),
        (policy.require_numbers, string.digits, "a number"),
        (policy.require_symbols, string.punctuation, "a symbol"),
    ]
    for required, alphabet, label in classes:
        if required and not any(ch in alphabet for ch in normalized):
            problems.append(f"Include {label}.")
    folded = normalized.casefold()
    if policy.block_common_passwords and folded in _common_passwords():
        problems.append("This password is on the list of commonly used passwords; choose another.")
    if len(set(folded)) < 4:
        problems.append("Use more than a few distinct characters.")
    words = {w.casefold() for w in (*context_words, *PRODUCT_WORDS) if w}
    if folded in words:
        problems.append("Don't use your user name, the account alias or the product name.")
    return problems


def reuses_recent_password(user: User, policy: PasswordPolicy, password: str) -> bool:
    if not policy.password_reuse_prevention:
        return False
    recent = user.password_history.all()[: policy.password_reuse_prevention]
    return any(check_password(password, entry.password) for entry in recent)


def password_expired(user: User, policy: PasswordPolicy) -> bool:
    if not policy.max_password_age or user.password_changed_at is None:
        return False
    age = timedelta(days=policy.max_password_age)
    return timezone.now() >= user.password_changed_at + age
