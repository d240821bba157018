"""Nothing secret in the logs: a real server (runserver, and gunicorn with deploy/gunicorn.conf.py)
driven by the official SDKs, with a V1 query-string SecurityToken and Signature, a V3 header
token, a wrong secret and a console password; then its captured output is grepped."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import RequestFactory
from django.views.debug import get_exception_reporter_class

from accounts.access_keys import access_key_create
from accounts.models import User
from iamconsole.logscrub import SCRUBBED, scrub
from policies.services import policy_attach
from roles.services import role_create
from tests.conftest import PASSWORD, make_tenant, principal_for, system_policy

TOKEN = "CAIS-not-a-real-token-0123456789abcdef"
SECRET = "s3cr3tValueThatMustNeverBeLogged0"


@pytest.mark.parametrize(
    "line",
    [
        f'"GET /?Action=ListUsers&Signature=abc%2B%3D&SignatureNonce=1&SecurityToken={TOKEN} '
        'HTTP/1.1" 200 10',
        f"POST / AccessKeySecret={SECRET}&Password={SECRET}",
        f"{{'x-acs-security-token': '{TOKEN}', 'Authorization': 'ACS3 Signature={SECRET}'}}",
        f"HTTP_AUTHORIZATION={SECRET} HTTP_X_ACS_SECURITY_TOKEN={TOKEN}",
    ],
)
def test_scrub_removes_every_credential_value(line):
    cleaned = scrub(line)
    assert TOKEN not in cleaned and SECRET not in cleaned and "abc%2B" not in cleaned
    assert SCRUBBED in cleaned


def test_scrub_keeps_harmless_parameters():
    line = "/?SignatureNonce=n1&SignatureMethod=HMAC-SHA1&UserName=alice"
    assert scrub(line) == line


def test_error_reports_hide_signatures_tokens_and_secrets():
    request = RequestFactory().get(
        "/",
        {"Action": "ListUsers", "Signature": SECRET, "SecurityToken": TOKEN},
        HTTP_X_ACS_SECURITY_TOKEN=TOKEN,
        HTTP_AUTHORIZATION=f"ACS3-HMAC-SHA256 Credential=LTAI1,Signature={SECRET}",
    )
    params = {"Signature": SECRET, "SecurityToken": TOKEN}  # a frame variable
    try:
        raise RuntimeError(f"failed with {params}")
    except RuntimeError:
        reporter = get_exception_reporter_class(request)(request, *sys.exc_info())
        text, html = reporter.get_traceback_text(), reporter.get_traceback_html()
    for report in (text, html):
        assert SECRET not in report and TOKEN not in report


# --- a live server driven by the SDKs ---------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start(kind: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    base = Path(settings.BASE_DIR)
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "IAM_TESTING": "1",
        "IAM_SKIP_DOTENV": "1",
        "DEBUG": "0",
        "PYTHONUNBUFFERED": "1",
    }
    if kind == "runserver":
        command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    else:
        command = [
            str(Path(sys.executable).with_name("gunicorn")),
            "-c",
            "deploy/gunicorn.conf.py",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            # the default format plus the credential headers, to show they are scrubbed too
            "--access-logformat",
            '%(h)s "%(r)s" %(s)s q=%(q)s tok=%({x-acs-security-token}i)s '
            "auth=%({authorization}i)s env=%({http_x_acs_security_token}e)s",
            "iamconsole.wsgi",
        ]
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=base, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return server
        except OSError:
            if server.poll() is not None:
                raise AssertionError(log.read_text()) from None
            time.sleep(0.2)
    server.kill()
    raise AssertionError("server did not start:\n" + log.read_text())


def _sdk_session(host: str, tenant, key_id: str, secret: str, role_arn: str) -> list[str]:
    """Every credential the session used, for the grep."""
    from alibabacloud_ram20150501.client import Client as Ram
    from alibabacloud_ram20150501.models import (
        CreateAccessKeyRequest,
        CreateUserRequest,
        ListUsersRequest,
    )
    from alibabacloud_sts20150401.client import Client as Sts
    from alibabacloud_sts20150401.models import AssumeRoleRequest
    from alibabacloud_tea_openapi.exceptions import ClientException
    from alibabacloud_tea_openapi.models import Config
    from aliyunsdkcore.acs_exception.exceptions import ServerException
    from aliyunsdkcore.auth.credentials import StsTokenCredential
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.request import CommonRequest

    def config(key: str, sec: str, token: str | None = None, v1: bool = False) -> Config:
        c = Config(access_key_id=key, access_key_secret=sec, security_token=token)
        c.endpoint, c.protocol = host, "http"
        if v1:
            c.signature_algorithm = "v2"
        return c

    creds = (
        Sts(config(key_id, secret))
        .assume_role(AssumeRoleRequest(role_arn=role_arn, role_session_name="logs"))
        .body.credentials
    )
    for v1 in (False, True):  # V3: token in a header; V1: token and signature in the query
        ram = Ram(config(creds.access_key_id, creds.access_key_secret, creds.security_token, v1))
        ram.list_users(ListUsersRequest())
        with pytest.raises(ClientException):
            ram.create_user(CreateUserRequest(user_name="nope"))
    legacy = AcsClient(
        region_id="cn-hangzhou",
        credential=StsTokenCredential(
            creds.access_key_id, creds.access_key_secret, creds.security_token
        ),
    )
    request = CommonRequest(domain=host, version="2015-05-01", action_name="ListUsers")
    request.set_protocol_type("http")
    request.set_method("GET")
    json.loads(legacy.do_action_with_exception(request))
    wrong = AcsClient(key_id, SECRET, "cn-hangzhou")  # a wrong secret: signature mismatch
    with pytest.raises(ServerException):
        wrong.do_action_with_exception(request)
    created = Ram(config(key_id, secret)).create_access_key(CreateAccessKeyRequest(user_name="ci"))
    new_secret = created.body.access_key.access_key_secret
    login = urllib.request.Request(
        f"http://{host}/console/login",
        data=f"login=ci@{tenant.account.alias}.iam.localhost&password={PASSWORD}".encode(),
        method="POST",
    )
    with contextlib.suppress(OSError):  # refused for CSRF: what matters is the log line
        urllib.request.urlopen(login, timeout=10).read()
    return [secret, creds.access_key_secret, creds.security_token, new_secret, PASSWORD]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["runserver", "gunicorn"])
def test_server_logs_of_an_sdk_session_hold_no_credentials(kind, tmp_path):
    tenant = make_tenant("logco")
    root = tenant.root_principal
    uid = tenant.account.uid
    trust = {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"RAM": [f"acs:ram::{uid}:root"]},
            }
        ],
    }
    role = role_create(actor=root, name="reader", trust_policy=json.dumps(trust))
    policy_attach(actor=root, policy=system_policy("AliyunRAMReadOnlyAccess"), role=role)
    caller = tenant.make_user("ci", "AliyunSTSAssumeRoleAccess", console=False)
    User.objects.filter(pk=caller.pk).update(programmatic_access=True)
    policy_attach(actor=root, policy=system_policy("AliyunRAMFullAccess"), user=caller)
    key, secret = access_key_create(
        actor=principal_for(tenant.root), user=User.objects.get(pk=caller.pk)
    )
    port, log = _free_port(), tmp_path / f"{kind}.log"
    server = _start(kind, port, log)
    try:
        used = _sdk_session(f"127.0.0.1:{port}", tenant, key.access_key_id, secret, role.arn)
    finally:
        server.terminate()
        server.wait(timeout=20)
    output = log.read_text(errors="replace")
    assert "SecurityToken=" + SCRUBBED in output  # the V1 request lines were logged
    assert "Signature=" + SCRUBBED in output
    for value in (*used, SECRET):
        assert value not in output, f"{kind} logged a credential"
    assert not re.search(r"(?<![A-Za-z])Signature=(?!\[scrubbed\])", output)
    assert not re.search(r"SecurityToken=(?!\[scrubbed\])", output)
