"""Trusted services: registration (with credentials shown once) and their signed-request
identity. A service's only permission is to assume roles that trust it by name."""

from __future__ import annotations

import json
import re
import secrets
import string
from dataclasses import dataclass
from functools import cache

from django.db import connection, transaction

from accounts.crypto import encrypt
from accounts.errors import Conflict, IamError, InvalidParameter
from audit.services import event_record
from policies.principal import Principal, RequestMeta
from sts.models import TrustedService

NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,126}[a-z0-9])?$")
HOST_RE = re.compile(r"^(\[[0-9a-f:]+\]|[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?)(:\d{1,5})?$")
_ALNUM = string.ascii_letters + string.digits


# Prefixes this server decides for itself: no registered service may answer for them.
RESERVED_PREFIXES = frozenset({"ram", "sts", "ims", "audit", "console", "acs"})


def action_prefix(service_name: str) -> str:
    """A service decides the actions of its name's first label: `oss.example` decides `oss:*`,
    `fc.iam.example.com` decides `fc:*` (docs/resource-services.md)."""
    return service_name.split(".", 1)[0]


def _check_hosts(hosts: list[str]) -> list[str]:
    cleaned = [host.strip().lower() for host in hosts]
    if len(cleaned) > 20 or not all(HOST_RE.match(host) for host in cleaned):
        raise InvalidParameter(
            "InvalidParameter.Host",
            "Hosts are up to 20 names or addresses with an optional port, e.g. oss.example.com.",
        )
    return cleaned


def service_create(*, name: str, hosts: list[str] | None = None) -> tuple[TrustedService, str]:
    """Register a service; return it with its secret (shown once). No two services share an
    action prefix: the prefix names whose actions a service decides."""
    if not NAME_RE.match(name):
        raise InvalidParameter(
            "InvalidParameter.ServiceName",
            "A service name is lowercase letters, digits, '.' and '-', e.g. fc.iam.example.com.",
        )
    if TrustedService.objects.filter(name=name).exists():
        raise Conflict("EntityAlreadyExists.Service", f"The service {name} already exists.")
    prefix = action_prefix(name)
    if prefix in RESERVED_PREFIXES:
        raise InvalidParameter(
            "InvalidParameter.ServiceName",
            f"{prefix}:* actions are decided by iamconsole itself; pick another first label.",
        )
    sharing = [
        other
        for other in TrustedService.objects.values_list("name", flat=True)
        if action_prefix(other) == prefix
    ]
    if sharing:
        raise Conflict(
            "EntityAlreadyExists.ServicePrefix",
            f"The service {sharing[0]} already decides {prefix}:* actions; "
            "pick a name with another first label.",
        )
    checked_hosts = _check_hosts(hosts or [])
    key_id = "LTAS" + "".join(secrets.choice(_ALNUM) for _ in range(20))
    secret = "".join(secrets.choice(_ALNUM) for _ in range(30))
    with transaction.atomic():
        service = TrustedService.objects.create(
            name=name,
            access_key_id=key_id,
            secret_sealed=encrypt(secret, context=key_id),
            hosts=checked_hosts,
        )
        event_record(
            action="console:CreateService",
            actor_kind="operator",
            target_arn=service.arn,
            details={"access_key_id": key_id, "hosts": checked_hosts},
        )
    return service, secret


@dataclass(frozen=True)
class ServiceRecord:
    pk: int
    access_key_id: str
    secret_sealed: str
    name: str
    active: bool
    hosts: tuple[str, ...] = ()

    def check(self) -> None:
        if not self.active:
            raise IamError("InvalidAccessKeyId.Inactive", "Specified access key is disabled.")

    def serves(self, host: str) -> bool:
        """Whether a request signed for `host` was meant for this service (any host when the
        service registered none)."""
        if not self.hosts:
            return True
        host = host.strip().lower()
        return host in self.hosts or host.rsplit(":", 1)[0] in self.hosts

    def principal(self, meta: RequestMeta) -> Principal:
        return Principal(
            account_id=0,
            account_uid="",
            kind="service",
            arn=f"acs:ram:::service/{self.name}",
            name=self.name,
            user_pk=None,
            authz_version=0,
            credential=self.access_key_id,
            meta=meta,
        )


@cache
def _service_lookup_sql() -> str:
    table = connection.ops.quote_name(TrustedService._meta.db_table)
    # The table name comes from the model, never from input; the key id is a bound parameter.
    return (
        f"SELECT id, access_key_id, secret_sealed, name, active, hosts FROM {table} "  # noqa: S608
        "WHERE access_key_id = %s"
    )


def service_record(access_key_id: str) -> ServiceRecord | None:
    """A service's key, on the hot path of every resource-service question: one
    parameterised query, no ORM compilation."""
    with connection.cursor() as cursor:
        cursor.execute(_service_lookup_sql(), [access_key_id])
        row = cursor.fetchone()
    if row is None:
        return None
    pk, key_id, sealed, name, active, hosts = row
    if isinstance(hosts, str):  # SQLite returns JSON as text
        hosts = json.loads(hosts)
    return ServiceRecord(pk, key_id, sealed, name, bool(active), tuple(hosts or ()))
