"""The official Alibaba SDKs as clients of a live server: tea V3, tea V1 ('v2'), legacy core."""

from __future__ import annotations

import inspect
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest


class SdkError(Exception):
    def __init__(self, code: str, status: int | None, message: str) -> None:
        super().__init__(f"{code} ({status}): {message}")
        self.code = code
        self.status = status
        self.message = message


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().replace("m_f_a", "mfa")


@dataclass
class TeaClient:
    """alibabacloud_ram20150501 through its generated methods and request models."""

    endpoint: str
    key_id: str
    secret: str
    algorithm: str | None = None  # None: ACS3-HMAC-SHA256 (V3); "v2": HMAC-SHA1 (V1)

    def call(self, action: str, **params: Any) -> dict[str, Any]:
        from alibabacloud_ram20150501 import models
        from alibabacloud_ram20150501.client import Client
        from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
        from alibabacloud_tea_openapi.models import Config

        config = Config(
            access_key_id=self.key_id,
            access_key_secret=self.secret,
            endpoint=self.endpoint,
            protocol="http",
            read_timeout=20000,
        )
        if self.algorithm:
            config.signature_algorithm = self.algorithm
        client = Client(config)
        name = _snake(action)
        method = getattr(client, name, None) or getattr(client, name.replace("mfa_", "mfa"))
        try:
            if len(inspect.signature(method).parameters) == 0:
                response = method()
            else:
                request = getattr(models, f"{action}Request")().from_map(params)
                response = method(request)
        except AlibabaCloudException as exc:
            raise SdkError(exc.code, exc.status_code, exc.message) from exc
        return response.body.to_map()


@dataclass
class LegacyClient:
    """aliyun-python-sdk-core's AcsClient with aliyun-python-sdk-ram's request classes."""

    endpoint: str
    key_id: str
    secret: str

    def call(self, action: str, **params: Any) -> dict[str, Any]:
        from importlib import import_module

        from aliyunsdkcore.acs_exception.exceptions import ServerException
        from aliyunsdkcore.client import AcsClient

        client = AcsClient(self.key_id, self.secret, "cn-hangzhou", timeout=20)
        module = import_module(f"aliyunsdkram.request.v20150501.{action}Request")
        request = getattr(module, f"{action}Request")()
        request.set_endpoint(self.endpoint)
        request.set_protocol_type("http")
        for name, value in params.items():
            request.add_query_param(name, value)
        try:
            return json.loads(client.do_action_with_exception(request))
        except ServerException as exc:
            raise SdkError(
                exc.get_error_code(), exc.get_http_status(), exc.get_error_msg()
            ) from exc


FAMILIES = {
    "tea-v3": lambda endpoint, key, secret: TeaClient(endpoint, key, secret),
    "tea-v1": lambda endpoint, key, secret: TeaClient(endpoint, key, secret, "v2"),
    "legacy": lambda endpoint, key, secret: LegacyClient(endpoint, key, secret),
}


@pytest.fixture(params=sorted(FAMILIES))
def sdk(request, live_server):
    """A factory: sdk(key_id, secret) -> a client of this family for the live server."""
    endpoint = live_server.url.removeprefix("http://")
    family = FAMILIES[request.param]
    return lambda key_id, secret: family(endpoint, key_id, secret)
