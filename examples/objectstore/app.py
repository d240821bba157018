"""The object store's HTTP API: routes (action + resource per RPC action), handlers, WSGI app.

`application(data, authorizer)` is what the server runs: the handlers behind the client
package's middleware, which asks iamconsole about every request before a handler sees it.
`ObjectStoreApp` alone does no authentication; it exists bare only so a benchmark can measure
what the middleware costs.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from iamconsole_resource import (
    CALLER_ACCOUNT,
    Authorizer,
    ErrorReply,
    IncomingRequest,
    Principal,
    Routes,
)
from iamconsole_resource.wsgi import PRINCIPAL, REQUEST, IamconsoleWsgi, reply

from examples.objectstore.store import Store, StoreError, check_bucket_name, check_key

VERSION = "2026-12-01"
HOST_ID = "objectstore.example"
MAX_BODY = 1 << 20  # a bigger request is refused (413) before iamconsole is asked

logger = logging.getLogger("examples.objectstore")

Params = Mapping[str, str]
Handler = Callable[[Store, Params, str | None], dict[str, Any]]


def _param(params: Params, name: str) -> str:
    value = params.get(name)
    if not value:
        raise StoreError(400, "MissingParameter", f"The parameter {name} is required.")
    return value


def bucket_arn(owner: str, bucket: str) -> str:
    return f"acs:oss:*:{owner}:{bucket}"


def routes_for(store: Store) -> Routes:
    """Each action's resource: the bucket's ARN in its owner's account. A bucket that doesn't
    exist (yet) is looked for in the caller's own account, so the caller learns it is missing
    only after being authorized there. Names are checked first: a bad one never reaches an ARN
    (the middleware answers 400)."""

    def existing_bucket(request: IncomingRequest) -> str:
        bucket = request.params["Bucket"]
        return bucket_arn(store.owner(_valid(check_bucket_name, bucket)) or CALLER_ACCOUNT, bucket)

    def new_bucket(request: IncomingRequest) -> str:
        return bucket_arn(CALLER_ACCOUNT, _valid(check_bucket_name, request.params["Bucket"]))

    def an_object(request: IncomingRequest) -> str:
        return f"{existing_bucket(request)}/{_valid(check_key, request.params['Key'])}"

    def prefix(request: IncomingRequest) -> dict[str, str]:
        return {"oss:Prefix": request.params.get("Prefix", "")}

    routes = Routes()
    routes.add("CreateBucket", "oss:CreateBucket", new_bucket)
    routes.add("ListObjects", "oss:ListObjects", existing_bucket, conditions=prefix)
    for action in ("PutObject", "GetObject", "DeleteObject"):
        routes.add(action, f"oss:{action}", an_object)
    return routes


def _valid(check: Callable[[str], str], name: str) -> str:
    """The middleware turns a ValueError into 400 before asking iamconsole."""
    try:
        return check(name)
    except StoreError as exc:
        raise ValueError(f"{exc.code}: {exc.message}") from None


def _bucket_of(store: Store, params: Params, account: str | None) -> str:
    """The bucket named, if it exists in the account the request was authorized in. Buckets
    never change hands, and iamconsole never allows a principal on another account's resource,
    so a bucket owned elsewhere can only have appeared after authorization (in the caller's
    own namespace): it is treated as missing. `account` is None only without the middleware."""
    bucket = check_bucket_name(_param(params, "Bucket"))
    owner = store.owner(bucket)
    if owner is None or (account is not None and owner != account):
        raise StoreError(404, "NoSuchBucket", f"The bucket {bucket!r} does not exist.")
    return bucket


def create_bucket(store: Store, params: Params, account: str | None) -> dict[str, Any]:
    bucket = check_bucket_name(_param(params, "Bucket"))
    if not account:
        raise StoreError(403, "NoPermission", "Only a principal of an account can own a bucket.")
    store.create_bucket(bucket, owner=account)
    return {"Bucket": bucket, "Owner": account}


def put_object(store: Store, params: Params, account: str | None) -> dict[str, Any]:
    bucket = _bucket_of(store, params, account)
    key = check_key(_param(params, "Key"))
    if "Content" not in params:
        raise StoreError(400, "MissingParameter", "The parameter Content is required.")
    data = params["Content"].encode("utf-8")
    store.put(bucket, key, data)
    return {"Bucket": bucket, "Key": key, "Size": len(data)}


def get_object(store: Store, params: Params, account: str | None) -> dict[str, Any]:
    bucket = _bucket_of(store, params, account)
    data = store.get(bucket, check_key(_param(params, "Key")))
    return {"Content": data.decode("utf-8", "replace")}


def list_objects(store: Store, params: Params, account: str | None) -> dict[str, Any]:
    bucket = _bucket_of(store, params, account)
    found = store.list(bucket, params.get("Prefix", ""))
    return {"Objects": [{"Key": summary.key, "Size": summary.size} for summary in found]}


def delete_object(store: Store, params: Params, account: str | None) -> dict[str, Any]:
    bucket = _bucket_of(store, params, account)
    store.delete(bucket, check_key(_param(params, "Key")))
    return {}


HANDLERS: dict[str, Handler] = {
    "CreateBucket": create_bucket,
    "PutObject": put_object,
    "GetObject": get_object,
    "ListObjects": list_objects,
    "DeleteObject": delete_object,
}


def request_of(environ: dict[str, Any]) -> IncomingRequest:
    """The request as the middleware would have parsed it (for the bare app)."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if 0 < length <= MAX_BODY else b""
    headers = {
        key[5:].replace("_", "-").lower(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    headers["content-type"] = environ.get("CONTENT_TYPE", "")
    return IncomingRequest.build(
        method=environ.get("REQUEST_METHOD", "GET"),
        path=environ.get("PATH_INFO") or "/",
        query_string=environ.get("QUERY_STRING", ""),
        headers=headers,
        body=body,
        source_ip=environ.get("REMOTE_ADDR"),
        secure=environ.get("wsgi.url_scheme") == "https",
    )


class ObjectStoreApp:
    """The handlers as a WSGI app. The caller is read from the middleware's environ keys."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request: IncomingRequest = environ.get(REQUEST) or request_of(environ)
        principal: Principal | None = environ.get(PRINCIPAL)
        action = request.api_action
        request_id = str(uuid.uuid4()).upper()
        try:
            handler = self._handler(request)
            body = {
                "RequestId": request_id,
                **handler(self.store, request.params, _account(principal)),
            }
        except StoreError as exc:
            logger.info("%s %s %s", action, exc.code, principal.arn if principal else "-")
            error = ErrorReply(exc.status, exc.code, exc.message, request_id, HOST_ID)
            return reply(start_response, error)
        except OSError:  # the disk, not the caller: full, unwritable, gone
            logger.exception("%s failed", action)
            error = ErrorReply(
                500, "InternalError", "The object store failed.", request_id, HOST_ID
            )
            return reply(start_response, error)
        encoded = json.dumps(body, ensure_ascii=False).encode()
        start_response(
            "200 OK",
            [
                ("Content-Type", "application/json;charset=utf-8"),
                ("Content-Length", str(len(encoded))),
                ("x-acs-request-id", request_id),
            ],
        )
        return [encoded]

    def _handler(self, request: IncomingRequest) -> Handler:
        handler = HANDLERS.get(request.api_action)
        if request.path != "/" or handler is None:
            raise StoreError(
                404, "InvalidApi.NotFound", f"Specified api {request.api_action!r} is not found."
            )
        version = request.headers.get("x-acs-version") or request.params.get("Version")
        if version != VERSION:
            raise StoreError(400, "InvalidVersion", f"Specified version is not {VERSION}.")
        return handler


def _account(principal: Principal | None) -> str | None:
    return None if principal is None else principal.account_id


def application(data: Path, authorizer: Authorizer) -> IamconsoleWsgi:
    """The object store as served: every request authenticated and authorized by iamconsole."""
    store = Store(data)
    return IamconsoleWsgi(ObjectStoreApp(store), authorizer, routes_for(store), max_body=MAX_BODY)
