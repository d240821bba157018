"""A function: put one object into the example object store as the role it runs as.

    python -m examples.functions run --role-arn ARN -- \\
        python -m examples.functions.sample_handler --store 127.0.0.1:PORT \\
        --bucket BUCKET --key KEY --content TEXT

No key anywhere: the SDK's default credential chain finds the role's temporary credentials at
ALIBABA_CLOUD_CREDENTIALS_URI (set by the runner). Prints one JSON line: the provider the chain
used, the names of any key-like variables in its environment (none), the role session's ARN
(STS GetCallerIdentity at IAM_ENDPOINT, when set) and the store's answer; exits 1 with the
service's error code and message when a call is refused.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from alibabacloud_credentials.client import Client as CredentialClient
from alibabacloud_tea_openapi.client import Client as OpenApiClient
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from alibabacloud_tea_openapi.models import Config, OpenApiRequest, Params
from alibabacloud_tea_util.models import RuntimeOptions

STORE_VERSION = "2026-12-01"


def _endpoint(address: str) -> tuple[str, str]:
    parts = urlsplit(address if "://" in address else f"http://{address}")
    return parts.netloc, parts.scheme


def rpc(
    client: OpenApiClient, action: str, version: str, query: dict[str, str], **body: str
) -> Any:
    """One RPC-style call (V3 signature) through the tea client; returns the JSON body."""
    params = Params(
        action=action,
        version=version,
        protocol="HTTP",
        pathname="/",
        method="POST",
        auth_type="AK",
        style="RPC",
        req_body_type="formData",
        body_type="json",
    )
    request = OpenApiRequest(query=query, body=body or None)
    return client.call_api(params, request, RuntimeOptions())["body"]


def client_for(address: str, credential: CredentialClient) -> OpenApiClient:
    endpoint, protocol = _endpoint(address)
    return OpenApiClient(Config(credential=credential, endpoint=endpoint, protocol=protocol))


def put_object(store: str, bucket: str, key: str, content: str) -> dict[str, Any]:
    credential = CredentialClient()  # the default chain: here, the runner's credentials URI
    model = credential.get_credential()
    report: dict[str, Any] = {
        "Provider": model.provider_name,
        # The point of the exercise: nothing key-like was handed to the function.
        "KeysInEnvironment": sorted(k for k in os.environ if "ACCESS_KEY" in k or "SECRET" in k),
    }
    iam = os.environ.get("IAM_ENDPOINT")
    if iam:
        identity = rpc(client_for(iam, credential), "GetCallerIdentity", "2015-04-01", {})
        report["Arn"] = identity.get("Arn")
    report["PutObject"] = rpc(
        client_for(store, credential),
        "PutObject",
        STORE_VERSION,
        {"Bucket": bucket, "Key": key},
        Content=content,
    )
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="PutObject into the example object store.")
    parser.add_argument("--store", required=True, help="the object store, HOST:PORT or a URL")
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--content", required=True)
    args = parser.parse_args(argv)
    try:
        report = put_object(args.store, args.bucket, args.key, args.content)
    except AlibabaCloudException as exc:
        print(f"sample_handler: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
