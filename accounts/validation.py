"""Field rules for RAM entities (reference §5, §8), raising InvalidParameter with Alibaba codes."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from accounts.errors import InvalidParameter

NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
ALIAS_RE = re.compile(r"^(?!-)(?!.*--)[a-z0-9-]{3,32}(?<!-)$")
MOBILE_RE = re.compile(r"^\d{1,4}-\d{4,15}$")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def check_name(value: str, param: str = "UserName", pattern: re.Pattern[str] = NAME_RE) -> str:
    if not value or len(value) > 64:
        raise InvalidParameter(
            f"InvalidParameter.{param}.Length",
            f'The parameter - "{param}" is beyond the length limit (1 to 64 characters).',
        )
    if not pattern.match(value):
        raise InvalidParameter(
            f"InvalidParameter.{param}.InvalidChars",
            f'The parameter - "{param}" contains invalid chars: use letters, digits, '
            "periods (.), underscores (_) and hyphens (-).",
        )
    return value


def check_text(value: str, param: str, limit: int = 128) -> str:
    if len(value) > limit:
        raise InvalidParameter(
            f"InvalidParameter.{param}.Length",
            f'The parameter - "{param}" is beyond the length limit ({limit} characters).',
        )
    if CONTROL_RE.search(value):
        raise InvalidParameter(
            f"InvalidParameter.{param}.InvalidChars",
            f'The parameter - "{param}" contains control or direction-override characters.',
        )
    return value


def check_email(value: str, param: str = "Email") -> str:
    if value:
        try:
            validate_email(value)
        except ValidationError as exc:
            raise InvalidParameter(
                f"InvalidParameter.{param}.Format",
                f'The parameter - "{param}" is not a valid email address.',
            ) from exc
    return value


def check_mobile(value: str, param: str = "MobilePhone") -> str:
    if value and not MOBILE_RE.match(value):
        raise InvalidParameter(
            f"InvalidParameter.{param}.Format",
            f'The parameter - "{param}" must look like <country code>-<number>, '
            "e.g. 86-18600008888.",
        )
    return value


def check_alias(value: str) -> str:
    if not 3 <= len(value) <= 32:
        raise InvalidParameter(
            "InvalidParameter.AccountAlias.Length",
            "The account alias must be 3 to 32 characters long.",
        )
    if value.isdigit():
        raise InvalidParameter(
            "InvalidParameter.AccountAlias.Format",
            "The account alias must contain a letter (all-digit names are account uids).",
        )
    if not ALIAS_RE.match(value):
        raise InvalidParameter(
            "InvalidParameter.AccountAlias.Format",
            "The account alias may contain lowercase letters, digits and single hyphens, "
            "and must not start or end with a hyphen.",
        )
    return value
