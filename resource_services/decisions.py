"""Authenticate and authorize a request a resource service received, for that service.

The same signature, clock and single-use checks as this server's own API
(`openapi.auth.authenticate_signed`), the same `authorize()`, and one audit event in the
resource owner's account (and the caller's, when that is another account) naming the service
that asked. Denials are always recorded; allowed decisions ("data events") unless the owner
turned them off.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.db import connection, transaction

from accounts.access_keys import access_key_touch
from accounts.errors import IamError, NoPermission
from accounts.models import Account
from accounts.selectors import KeyRecord
from audit.models import AuditEvent
from audit.services import event_record
from openapi.auth import authenticate_signed, claimed_credential
from openapi.errors import ApiError
from openapi.params import refuse_unsafe_characters
from policies.authorization import authorize, resource_account
from policies.engine import Decision, Effect
from policies.principal import Principal, RequestMeta
from resource_services.models import DataEventSetting
from resource_services.wire import Question
from sts.service_principals import RESERVED_PREFIXES, ServiceRecord, action_prefix


@dataclass(frozen=True)
class Answer:
    principal: Principal | None
    decision: Decision | None
    error: IamError | None

    @property
    def allowed(self) -> bool:
        return self.decision is not None and self.decision.allowed


def check_prefix(service: ServiceRecord, action: str) -> None:
    prefix = action.split(":", 1)[0]
    own = action_prefix(service.name)
    if prefix in RESERVED_PREFIXES or prefix != own:
        raise ApiError(
            "NoPermission.ServiceAction",
            f"The service {service.name} decides only {own}:* actions, not {action}.",
            status=403,
        )


def decide(service: ServiceRecord, question: Question, meta: RequestMeta) -> Answer:
    """Who signed the request, and may they? Never raises for the caller's faults: they come
    back as the answer's error, for the service to return to its caller."""
    check_prefix(service, question.action)
    try:
        _check_caller_request(service, question)
        auth = authenticate_signed(question.request, meta)
    except IamError as exc:
        _record_failure(service, question, meta, exc)
        return Answer(None, None, exc)
    question = question.for_caller(auth.principal.account_uid)
    decision = decide_resources(auth.principal, question)
    error = None
    if not decision.allowed:
        explicit = decision.effect is Effect.EXPLICIT_DENY
        error = NoPermission(question.action, ", ".join(question.resources), explicit=explicit)
    _record_decision(service, question, auth.principal, decision, error)
    if isinstance(auth.key, KeyRecord):
        access_key_touch(auth.key, source_ip=meta.source_ip, action=question.action)
    return Answer(auth.principal, decision, error)


def _check_caller_request(service: ServiceRecord, question: Question) -> None:
    """The caller's faults, before its nonce is spent: a malformed request, or one signed for
    another service's host (a request can't be redirected to a service it wasn't meant for)."""
    if question.caller_error is not None:
        raise question.caller_error
    headers = question.request.headers
    refuse_unsafe_characters(
        question.request.params, {name: "".join(values) for name, values in headers.items()}
    )
    host = question.request.header("host") or ""
    if not service.serves(host):
        raise ApiError(
            "InvalidParameter.Host",
            f"This request was signed for {host!r}, not for a host of the service {service.name}.",
            status=400,
        )


def decide_resources(principal: Principal, question: Question) -> Decision:
    """Allowed only when every resource is: an explicit Deny on any wins, then the first
    implicit deny; else the first resource's Allow."""
    decisions = [
        authorize(principal, question.action, resource, question.conditions)
        for resource in question.resources
    ]
    for wanted in (Effect.EXPLICIT_DENY, Effect.IMPLICIT_DENY):
        for decision in decisions:
            if decision.effect is wanted:
                return decision
    return decisions[0]


@cache
def _owners_sql() -> str:
    account = connection.ops.quote_name(Account._meta.db_table)
    setting = connection.ops.quote_name(DataEventSetting._meta.db_table)
    # Table names come from the models; the uids are bound parameters.
    return (
        f"SELECT a.id, s.record_allowed FROM {account} a "  # noqa: S608
        f"LEFT JOIN {setting} s ON s.account_id = a.id WHERE a.uid IN "
    )


def _owners(question: Question) -> dict[int, bool]:
    """Accounts owning the resources: {account id: record allowed decisions} (one raw query:
    this runs for every question)."""
    found = {resource_account(r) for r in question.resources}
    uids = sorted(uid for uid in found if uid and uid != "*")
    if not uids:
        return {}
    marks = ", ".join(["%s"] * len(uids))
    with connection.cursor() as cursor:
        cursor.execute(f"{_owners_sql()}({marks})", uids)
        rows = cursor.fetchall()
    return {pk: record is None or bool(record) for pk, record in rows}


def _details(service: ServiceRecord, question: Question, **extra: object) -> dict[str, object]:
    return {"service": service.name, "resources": list(question.resources), **extra}


def _record_decision(
    service: ServiceRecord,
    question: Question,
    principal: Principal,
    decision: Decision,
    error: IamError | None,
) -> None:
    owners = _owners(question)
    if not owners:  # a resource of no known account: the caller's own trail has it
        owners = {principal.account_id: True}
    if decision.allowed:
        accounts = {pk for pk, record in owners.items() if record}
    else:
        accounts = set(owners) | {principal.account_id}
    deciding = decision.deciding
    statement = None
    if deciding is not None:
        source = deciding.source
        statement = {
            "policy": getattr(source, "policy_name", ""),
            "type": getattr(source, "policy_type", ""),
            "version": getattr(source, "version_id", ""),
            "via": getattr(source, "via", ""),
            "index": deciding.statement.index,
            "sid": deciding.statement.sid,
        }
    details = _details(service, question, decision=decision.effect.value, statement=statement)
    with transaction.atomic():
        for account_id in sorted(a for a in accounts if a):
            _decision_event(question, principal, account_id, error, details)


def _decision_event(
    question: Question,
    principal: Principal,
    account_id: int,
    error: IamError | None,
    details: dict[str, object],
) -> None:
    event_record(
        action=question.action,
        actor=principal,
        account=account_id,
        target_arn=question.resources[0],
        outcome=AuditEvent.Outcome.SUCCESS if error is None else AuditEvent.Outcome.DENIED,
        error_code=error.code if error else "",
        details=details,
    )


def _record_failure(
    service: ServiceRecord, question: Question, meta: RequestMeta, error: IamError
) -> None:
    """A request that did not authenticate: recorded where the claimed key belongs, and where
    the resources belong."""
    header = question.request.header("authorization") or ""
    account_id, arn, key_id = claimed_credential(question.request.params, header)
    accounts = set(_owners(question)) | ({account_id} if account_id else set())
    details = _details(service, question, stage="authentication", access_key_id=key_id[:64])
    targets: list[int | None] = [*sorted(accounts)] or [None]
    with transaction.atomic():
        for account in targets:
            event_record(
                action=question.action,
                account=account,
                actor_arn=arn,
                meta=meta,
                target_arn=question.resources[0],
                outcome=AuditEvent.Outcome.ERROR,
                error_code=error.code,
                details=details,
            )


def record_service_failure(meta: RequestMeta, error: IamError) -> None:
    """The asking service's own signature or key failed: recorded in no account's trail."""
    event_record(
        action="resource-services:Authorize",
        meta=meta,
        actor_kind="service",
        outcome=AuditEvent.Outcome.ERROR,
        error_code=error.code,
        details={"stage": "service authentication"},
    )
