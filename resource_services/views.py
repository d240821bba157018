"""POST /resource-services/2026-12-01/authorize — a registered service asks about a request it
received. The service signs this call with its own key (V3, which covers the JSON body)."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.errors import IamError
from accounts.middleware import request_meta
from openapi.auth import authenticate_signed, signed_request_of
from openapi.errors import ApiError
from openapi.views import HOST_ID, error_response
from policies.engine import Effect
from policies.principal import Principal, RequestMeta
from resource_services.decisions import Answer, decide, record_service_failure
from resource_services.wire import VERSION, question_of
from sts.service_principals import ServiceRecord

logger = logging.getLogger(__name__)


@csrf_exempt
@login_not_required
@require_POST
def authorize_request(request: HttpRequest) -> JsonResponse:
    meta = getattr(request, "meta", None) or request_meta(request)
    try:
        service = _service(request, meta)
        question = question_of(request.body)
        caller_meta = RequestMeta(
            source_ip=question.source_ip,
            user_agent=question.request.header("user-agent") or "",
            request_id=meta.request_id,
            secure_transport=question.secure_transport,
        )
        answer = decide(service, question, caller_meta)
    except IamError as exc:
        return error_response(exc, meta.request_id)
    except Exception:
        logger.exception("resource-service question %s failed", meta.request_id)
        error = ApiError("InternalError", "An internal error occurred.", status=500)
        return error_response(error, meta.request_id)
    return JsonResponse(
        {"RequestId": meta.request_id, "Version": VERSION, **render(answer, meta.request_id)},
        json_dumps_params={"ensure_ascii": False},
    )


def _service(request: HttpRequest, meta: RequestMeta) -> ServiceRecord:
    """The asking service, authenticated by its own V3 signature."""
    if not (request.META.get("HTTP_AUTHORIZATION") or "").startswith("ACS3-"):
        raise ApiError(
            "IncompleteSignature",
            "Sign this call with the service's key in ACS3-HMAC-SHA256 (it covers the body).",
        )
    params = {name: str(value) for name, value in request.GET.items()}
    try:
        auth = authenticate_signed(signed_request_of(request, params), meta)
    except IamError as exc:
        record_service_failure(meta, exc)
        raise
    if not isinstance(auth.key, ServiceRecord):
        raise ApiError(
            "NoPermission.NotAService",
            "Only a registered service (manage.py createservice) may ask for decisions.",
            status=403,
        )
    return auth.key


def principal_of(principal: Principal) -> dict[str, Any]:
    kinds = {
        "root": "Root",
        "user": "RAMUser",
        "role-session": "AssumedRoleUser",
        "service": "Service",
    }
    described: dict[str, Any] = {
        "Type": kinds.get(principal.kind, principal.kind),
        "Arn": principal.arn,
        "AccountId": principal.account_uid,
        "AccessKeyId": principal.credential,
        "MfaPresent": principal.mfa_present,
    }
    if principal.kind == "user":
        described["UserName"] = principal.name
    if principal.kind == "role-session":
        role, _, session = principal.arn.split(":role/", 1)[1].partition("/")
        described.update(RoleName=role, RoleSessionName=session, SourceArn=principal.source_arn)
    return described


def render(answer: Answer, request_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Authenticated": answer.principal is not None,
        "Principal": principal_of(answer.principal) if answer.principal else None,
        "Decision": answer.decision.effect.value if answer.decision else None,
        "Allowed": answer.allowed,
        "DecidingStatement": None,
        "Error": None,
    }
    if answer.decision is not None and answer.decision.deciding is not None:
        deciding = answer.decision.deciding
        source = deciding.source
        body["DecidingStatement"] = {
            "Effect": "Deny" if answer.decision.effect is Effect.EXPLICIT_DENY else "Allow",
            "PolicyName": getattr(source, "policy_name", ""),
            "PolicyType": getattr(source, "policy_type", ""),
            "VersionId": getattr(source, "version_id", ""),
            "AttachedVia": getattr(source, "via", "") or "direct",
            "StatementIndex": deciding.statement.index,
            "Sid": deciding.statement.sid,
        }
    if answer.error is not None:
        body["Error"] = {
            "HttpStatus": answer.error.status,
            "RequestId": request_id,
            "HostId": HOST_ID,
            "Code": answer.error.code,
            "Message": answer.error.message,
            "Recommend": "",
        }
    return body
