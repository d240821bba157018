"""The signed API at path `/`: parse, authenticate, dispatch, render JSON (or an Alibaba error)."""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import parse_qsl

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from accounts.access_keys import access_key_touch
from accounts.errors import IamError
from accounts.selectors import KeyRecord
from audit.services import event_record, recorded
from openapi import registry
from openapi.auth import authenticate, credential_owner
from openapi.errors import ApiError
from openapi.params import Params, refuse_unsafe_characters
from policies.principal import Principal

logger = logging.getLogger(__name__)
MAX_BODY = 256 * 1024
HOST_ID = "iamconsole"


def is_api_request(request: HttpRequest) -> bool:
    return "Action" in request.GET or "HTTP_X_ACS_ACTION" in request.META


@csrf_exempt
@login_not_required
def endpoint(request: HttpRequest) -> HttpResponse:
    """`/` with an Action is the API; without, browsers are sent to the console."""
    if not is_api_request(request) and request.method == "GET":
        return HttpResponseRedirect("/console/")
    meta = request.meta  # type: ignore[attr-defined]
    try:
        return JsonResponse(
            {"RequestId": meta.request_id, **_handle(request, meta)},
            json_dumps_params={"ensure_ascii": False},
        )
    except IamError as exc:
        return error_response(exc, meta.request_id)
    except Exception:
        logger.exception("API request %s failed", meta.request_id)
        return error_response(
            ApiError("InternalError", "An internal error occurred.", status=500), meta.request_id
        )


def _collect_params(request: HttpRequest) -> dict[str, str]:
    """Query ∪ form body; a name given twice is ambiguous, so it is refused."""
    if request.method not in ("GET", "POST"):
        raise ApiError("UnsupportedHTTPMethod", "Use GET or POST.", status=400)
    if len(request.body) > MAX_BODY:
        raise ApiError("InvalidParameter.RequestSize", "The request body is too large.")
    pairs = parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True)
    content_type = request.META.get("CONTENT_TYPE", "")
    if request.method == "POST" and content_type.startswith("application/x-www-form-urlencoded"):
        pairs += parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise ApiError(f"InvalidParameter.{name}", f"The parameter {name} is given twice.")
        params[name] = value
    return params


def _handle(request: HttpRequest, meta: Any) -> dict[str, Any]:
    params = _collect_params(request)
    refuse_unsafe_characters(params, request.headers)
    action = params.get("Action") or request.headers.get("x-acs-action", "")
    version = params.get("Version") or request.headers.get("x-acs-version", "")
    handler = registry.lookup(version, action)
    if handler is None:
        raise ApiError(
            "InvalidApi.NotFound",
            "Specified api is not found, please check your url and method.",
            status=404,
        )
    if (version, action) in registry.ANONYMOUS:
        return _handle_anonymous(handler, params, action, version, meta)
    try:
        auth = authenticate(request, params, meta)
    except IamError as exc:  # signatures, keys, STS tokens, the single-use store
        _record_authentication_failure(request, params, action, meta, exc)
        raise
    if isinstance(auth.key, KeyRecord):  # last use counts every outcome, denied calls too
        access_key_touch(auth.key, source_ip=meta.source_ip, action=action)
    audited = f"{registry.product(version)}:{action}"
    token = recorded.set(0)
    try:
        result = handler(registry.ApiCall(auth.principal, Params(params), action))
    except IamError as exc:
        # Services record their changes and denials; anything else (a bad parameter, a name
        # that does not exist) is recorded here, so every call leaves a trace.
        if not recorded.get():
            event_record(actor=auth.principal, action=audited, outcome="error", error_code=exc.code)
        raise
    else:
        if not recorded.get():  # reads: the service records nothing itself
            event_record(actor=auth.principal, action=audited, details={"read": True})
    finally:
        recorded.reset(token)
    return result


def _record_authentication_failure(
    request: HttpRequest, params: dict[str, str], action: str, meta: Any, error: IamError
) -> None:
    """When the key exists, its account sees the failed attempt in its own trail. With the
    database down (the single-use store is then down too) the refusal still goes out."""
    try:
        account_id, arn, key_id = credential_owner(request, params)
        event_record(
            action=f"api:{action}"[:128],
            account=account_id,
            actor_arn=arn,
            meta=meta,
            outcome="error",
            error_code=error.code,
            details={"stage": "authentication", "access_key_id": key_id[:64]},
        )
    except DatabaseError:
        logger.error(
            "request %s: refusal %s not audited (database down)", meta.request_id, error.code
        )


def anonymous_principal(meta: Any) -> Principal:
    return Principal(
        account_id=0,
        account_uid="",
        kind="anonymous",
        arn="",
        name="",
        user_pk=None,
        authz_version=0,
        meta=meta,
    )


def _handle_anonymous(
    handler: registry.Handler, params: dict[str, str], action: str, version: str, meta: Any
) -> dict[str, Any]:
    """An anonymous STS exchange: the service verifies the token or assertion and records the
    outcome in the provider's account; failures before that are recorded here (chain 0)."""
    token = recorded.set(0)
    try:
        _throttle_anonymous(meta)
        return handler(registry.ApiCall(anonymous_principal(meta), Params(params), action))
    except IamError as exc:
        if not recorded.get():
            event_record(
                action=f"{registry.product(version)}:{action}",
                meta=meta,
                actor_kind="anonymous",
                outcome="error",
                error_code=exc.code,
            )
        raise
    finally:
        recorded.reset(token)


def _throttle_anonymous(meta: Any) -> None:
    """Anonymous token exchanges per source address and minute (each costs a signature check)."""
    from django.conf import settings
    from django.core.cache import cache

    limit = settings.IAM_FEDERATION_PER_IP_PER_MINUTE
    key = f"anon-sts:{meta.source_ip or 'unknown'}:{int(time.time() // 60)}"
    try:
        if cache.add(key, 1, timeout=120):
            return
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        return
    except Exception as exc:
        raise ApiError(
            "ServiceUnavailable", "The request store is unavailable; try again.", status=503
        ) from exc
    if count > limit:
        raise ApiError(
            "Throttling.User", "Request was denied due to user flow control.", status=400
        )


def error_response(error: IamError, request_id: str) -> JsonResponse:
    body = {
        "RequestId": request_id,
        "HostId": HOST_ID,
        "Code": error.code,
        "Message": error.message,
        "Recommend": "",
    }
    return JsonResponse(body, status=error.status, json_dumps_params={"ensure_ascii": False})
