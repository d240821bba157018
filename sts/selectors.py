"""The hot-path lookup of an STS credential, with its checks at use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.errors import IamError
from accounts.models import Account
from policies.engine import ParsedPolicy, parse_policy
from policies.principal import Principal, RequestMeta
from roles.models import Role
from sts.models import StsSession
from sts.services import token_matches


@lru_cache(maxsize=1024)
def _parsed_session_policy(text: str) -> ParsedPolicy:
    return parse_policy(text, max_chars=4096)


def _moment(value: object) -> datetime | None:
    """Raw SQL returns datetimes on PostgreSQL and ISO strings on SQLite; both become aware."""
    moment = value if value is None or isinstance(value, datetime) else parse_datetime(str(value))
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return moment


@dataclass(frozen=True)
class StsRecord:
    pk: int
    access_key_id: str
    secret_sealed: str
    token_digest: str
    session_name: str
    session_policy: str
    source_arn: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    role_pk: int
    role_name: str
    sessions_valid_after: datetime | None
    account_id: int
    account_uid: str
    authz_version: int

    @property
    def arn(self) -> str:
        return f"acs:ram::{self.account_uid}:role/{self.role_name}/{self.session_name}"

    def check(self, token: str | None) -> None:
        """The token must be this key's, unexpired and unrevoked — checked at every call."""
        if not token:
            raise IamError(
                "MissingSecurityToken", "SecurityToken is mandatory for STS credentials."
            )
        if not token_matches(token, self.token_digest):
            raise IamError(
                "InvalidSecurityToken.MismatchWithAccessKey",
                "The SecurityToken does not belong to this AccessKeyId.",
            )
        now = timezone.now()
        if self.expires_at <= now:
            raise IamError("InvalidSecurityToken.Expired", "Specified SecurityToken is expired.")
        revoked = self.revoked_at is not None or (
            self.sessions_valid_after is not None and self.created_at < self.sessions_valid_after
        )
        if revoked:
            raise IamError("InvalidSecurityToken.Revoked", "Specified SecurityToken was revoked.")

    def principal(self, meta: RequestMeta) -> Principal:
        policy = _parsed_session_policy(self.session_policy) if self.session_policy else None
        return Principal(
            account_id=self.account_id,
            account_uid=self.account_uid,
            kind="role-session",
            arn=self.arn,
            name=self.session_name,
            user_pk=None,
            authz_version=self.authz_version,
            credential=self.access_key_id,
            meta=meta,
            session_policy=policy,
            role_pk=self.role_pk,
            source_arn=self.source_arn,
        )


def _sql() -> str:
    session, role, account = (m._meta.db_table for m in (StsSession, Role, Account))
    return (
        "SELECT s.id, s.access_key_id, s.secret_sealed, s.token_digest, s.session_name, "  # noqa: S608
        "s.session_policy, s.source_arn, s.created_at, s.expires_at, s.revoked_at, r.id, "
        "r.name, r.sessions_valid_after, a.id, a.uid, a.authz_version "
        f'FROM "{session}" s JOIN "{role}" r ON r.id = s.role_id '
        f'JOIN "{account}" a ON a.id = r.account_id WHERE s.access_key_id = %s'
    )


def sts_record(access_key_id: str) -> StsRecord | None:
    with connection.cursor() as cursor:
        cursor.execute(_sql(), [access_key_id])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for index in (7, 8, 9, 12):
        values[index] = _moment(values[index])
    return StsRecord(*values)
