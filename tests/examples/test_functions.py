"""examples/functions against a live server: the runner (a registered service) assumes a role
that trusts it, serves the role's credentials on a loopback URI that the official credentials
SDK reads, keeps them fresh, and leaves no key in the command's environment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from alibabacloud_credentials.provider import URLCredentialsProvider

from accounts.access_keys import access_key_create
from accounts.models import User
from audit.models import AuditEvent
from examples.functions.credentials import (
    CredentialsKeeper,
    CredentialsServer,
    RoleCredentials,
    refresh_due,
    refresh_margin,
    seconds_until_refresh,
)
from examples.functions.runner import child_environment, exit_status
from policies.services import policy_attach, policy_create
from roles.services import role_create
from sts.models import StsSession
from sts.service_principals import service_create
from tests.conftest import Tenant, make_tenant
from tests.resource_services.conftest import tea_call

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
KEYS_IN_ENV = "sorted(k for k in os.environ if 'ACCESS_KEY' in k or 'SECRET' in k)"
# Reads the credentials URI through the SDK's default chain and reports what it found.
READ_CREDENTIALS = textwrap.dedent(
    f"""
    import json, os, sys, time
    from alibabacloud_credentials.client import Client
    client = Client()
    ids = []
    for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 1):
        if ids:
            time.sleep(float(sys.argv[2]))
        ids.append(client.get_credential().access_key_id)
    print(json.dumps({{
        "ids": ids,
        "provider": client.get_credential().provider_name,
        "keys_in_env": {KEYS_IN_ENV},
        "uri": os.environ["ALIBABA_CLOUD_CREDENTIALS_URI"],
        "metadata_disabled": os.environ.get("ALIBABA_CLOUD_ECS_METADATA_DISABLED"),
        "iam_endpoint": os.environ.get("IAM_ENDPOINT"),
    }}))
    """
)


# --- when to re-assume: pure time rules -------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "override", "margin"),
    [
        (900, None, 300),  # a third is 300: five minutes
        (1800, None, 600),  # a third
        (3600, None, 1200),
        (43200, None, 14400),
        (600, None, 300),  # never under five minutes
        (900, 60, 60),  # an explicit margin wins
    ],
)
def test_refresh_margin(duration, override, margin):
    assert refresh_margin(duration, override) == margin


@pytest.mark.parametrize(
    ("remaining", "duration", "override", "due"),
    [
        (3600, 3600, None, False),  # fresh
        (1201, 3600, None, False),
        (1200, 3600, None, True),  # a third left
        (10, 3600, None, True),
        (-5, 3600, None, True),  # already expired
        (301, 900, None, False),
        (300, 900, None, True),  # five minutes left
        (899, 900, 898, False),
        (898, 900, 898, True),
    ],
)
def test_refresh_due(remaining, duration, override, due):
    now = 1_800_000_000.0
    assert refresh_due(now, now + remaining, duration, override) is due


def test_seconds_until_refresh():
    now = 1_800_000_000.0
    assert seconds_until_refresh(now, now + 3600, 3600) == 2400
    assert seconds_until_refresh(now, now + 900, 900) == 600
    assert seconds_until_refresh(now, now + 100, 900) == 0  # overdue: at once


def _credentials(n: int = 1, *, ttl: float = 900, duration: int = 900) -> RoleCredentials:
    return RoleCredentials(f"STS.key{n}", f"secret{n}", f"token{n}", time.time() + ttl, duration)


def test_keeper_refreshes_before_expiry_and_keeps_old_credentials_when_refresh_fails():
    issued = iter([_credentials(1), _credentials(2)])

    def assume() -> RoleCredentials:
        try:
            return next(issued)
        except StopIteration:
            raise RuntimeError("STS down") from None

    lines: list[str] = []
    keeper = CredentialsKeeper(assume, margin=899.8, log=lines.append)
    assert keeper.start().access_key_id == "STS.key1"
    deadline = time.time() + 5
    while not lines and time.time() < deadline:  # refresh to key2, then a failed refresh
        time.sleep(0.05)
    keeper.stop()
    assert keeper.refreshes == 1
    assert keeper.current().access_key_id == "STS.key2"  # the failure kept what still holds
    assert "STS down" in lines[0]


# --- the credentials URI --------------------------------------------------------------


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@pytest.fixture
def served():
    """A credentials server for a keeper whose assume() returns the credentials given."""
    started: list[tuple[CredentialsKeeper, CredentialsServer]] = []

    def serve(credentials: RoleCredentials) -> CredentialsServer:
        keeper = CredentialsKeeper(lambda: credentials)
        keeper.start()
        server = CredentialsServer(keeper)
        server.start()
        started.append((keeper, server))
        return server

    yield serve
    for keeper, server in started:
        keeper.stop()
        server.stop()


def test_credentials_uri_serves_the_sdk_format_at_its_secret_path_only(served):
    server = served(_credentials(7))
    assert server.uri.startswith("http://127.0.0.1:") and len(server.secret_path) > 40
    credentials = URLCredentialsProvider(uri=server.uri).get_credentials()
    assert (credentials.get_access_key_id(), credentials.get_security_token()) == (
        "STS.key7",
        "token7",
    )
    status, body = _get(server.uri)
    assert status == 200 and body["Code"] == "Success"
    assert body["Expiration"].endswith("Z") and len(body["Expiration"]) == 20
    base = server.uri.removesuffix(server.secret_path)
    for wrong in ("/", server.secret_path[:-1], server.secret_path + "x", "/latest"):
        assert _get(base + wrong) == (404, {"Code": "NotFound", "Message": "No such credentials."})
    request = urllib.request.Request(server.uri, method="POST", data=b"")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    assert info.value.code == 501


def test_expired_credentials_are_not_served(served):
    server = served(_credentials(ttl=-1))
    status, body = _get(server.uri)
    assert status == 503 and body["Code"] == "CredentialsExpired"


# --- the child's environment ------------------------------------------------------------


def test_child_environment_drops_every_key_and_points_the_sdk_at_the_uri():
    parent = {
        "PATH": "/usr/bin",
        "IAM_ENDPOINT": "http://127.0.0.1:8000",
        "IAM_SERVICE_ACCESS_KEY_ID": "LTASxxxx",
        "IAM_SERVICE_ACCESS_KEY_SECRET": "s",
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIxxxx",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s",
        "ALIBABA_CLOUD_SECURITY_TOKEN": "t",
        "ALIBABA_CLOUD_ECS_METADATA": "some-role",
        "ALIBABA_CLOUD_CREDENTIALS_FILE": "/home/dev/.alibabacloud/credentials.ini",
    }
    env = child_environment(parent, "http://127.0.0.1:1/abc")
    assert env == {
        "PATH": "/usr/bin",
        "IAM_ENDPOINT": "http://127.0.0.1:8000",
        "ALIBABA_CLOUD_CREDENTIALS_URI": "http://127.0.0.1:1/abc",
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
        "ALIBABA_CLOUD_CLI_PROFILE_DISABLED": "true",
        "ALIBABA_CLOUD_CREDENTIALS_FILE": os.devnull,
    }


@pytest.mark.parametrize(("returncode", "status"), [(0, 0), (3, 3), (-15, 143), (-9, 137)])
def test_exit_status(returncode, status):
    assert exit_status(returncode) == status


# --- the runner as a real process against a live server ---------------------------------


@dataclass
class Platform:
    tenant: Tenant
    endpoint: str
    uid: str
    key_id: str
    secret: str
    role_arn: str
    untrusting_role_arn: str

    def env(self, **extra: str) -> dict[str, str]:
        """The runner's environment: the platform's key, plus keys that must not leak."""
        base = {k: v for k, v in os.environ.items() if "ACCESS_KEY" not in k and "SECRET" not in k}
        return {
            **base,
            "IAM_ENDPOINT": self.endpoint,
            "IAM_SERVICE_ACCESS_KEY_ID": self.key_id,
            "IAM_SERVICE_ACCESS_KEY_SECRET": self.secret,
            "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIdeveloperkey0000",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "a-developer-secret-left-in-the-shell",
            "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
            **extra,
        }

    def runner(self, *args: str, role_arn: str | None = None) -> list[str]:
        return [
            PYTHON,
            "-m",
            "examples.functions",
            "run",
            "--role-arn",
            role_arn or self.role_arn,
            *args,
        ]

    def run(self, *args: str, role_arn: str | None = None, timeout: float = 60, **env: str):
        return subprocess.run(
            self.runner(*args, role_arn=role_arn),
            cwd=REPO,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def _trust(principal: dict) -> str:
    statement = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": principal}
    return json.dumps({"Version": "1", "Statement": [statement]})


@pytest.fixture
def platform(live_server) -> Platform:
    tenant = make_tenant("fcco")
    root = tenant.root_principal
    uid = tenant.account.uid
    service, secret = service_create(name="fc.example")
    role = role_create(
        actor=root, name="uploader", trust_policy=_trust({"Service": ["fc.example"]})
    )
    document = {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "oss:PutObject",
                "Resource": f"acs:oss:*:{uid}:photos/*",
            }
        ],
    }
    policy = policy_create(actor=root, name="photos-upload", document=json.dumps(document))
    policy_attach(actor=root, policy=policy, role=role)
    other = role_create(
        actor=root, name="humans-only", trust_policy=_trust({"RAM": [f"acs:ram::{uid}:root"]})
    )
    return Platform(
        tenant, live_server.url, uid, service.access_key_id, secret, role.arn, other.arn
    )


def test_command_reads_role_credentials_from_the_uri_with_no_key_in_its_environment(platform):
    result = platform.run("--session-name", "invocation-1", "--", PYTHON, "-c", READ_CREDENTIALS)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["keys_in_env"] == []
    assert seen["ids"][0].startswith("STS.")
    assert seen["provider"] == "default/credential_uri"
    assert seen["uri"].startswith("http://127.0.0.1:")
    assert seen["metadata_disabled"] == "true"
    assert seen["iam_endpoint"] == platform.endpoint
    session = StsSession.objects.get(access_key_id=seen["ids"][0])
    assert session.role.arn == platform.role_arn
    assert session.session_name == "invocation-1"
    assert session.source_arn == "acs:ram:::service/fc.example"
    assert (session.expires_at - session.created_at).total_seconds() == pytest.approx(3600, abs=2)


def test_credentials_are_re_assumed_before_they_expire(platform):
    # 900 s sessions re-assumed 898 s before expiry: a fresh session every ~2 seconds.
    result = platform.run(
        "--duration",
        "900",
        "--refresh-margin",
        "898",
        "--",
        PYTHON,
        "-c",
        READ_CREDENTIALS,
        "2",
        "4",
    )
    assert result.returncode == 0, result.stderr
    first, second = json.loads(result.stdout)["ids"]
    assert first.startswith("STS.") and second.startswith("STS.") and first != second
    sessions = StsSession.objects.filter(role__name="uploader")
    assert sessions.count() >= 2
    for session in sessions:
        lifetime = (session.expires_at - session.created_at).total_seconds()
        assert lifetime == pytest.approx(900, abs=2)


def test_refresh_margin_from_the_environment(platform):
    result = platform.run(
        "--duration",
        "900",
        "--",
        PYTHON,
        "-c",
        READ_CREDENTIALS,
        "2",
        "4",
        IAM_FUNCTIONS_REFRESH_MARGIN="898",
    )
    assert result.returncode == 0, result.stderr
    first, second = json.loads(result.stdout)["ids"]
    assert first != second


def test_a_role_that_does_not_trust_the_service_is_a_clear_error(platform):
    result = platform.run(
        "--", PYTHON, "-c", "print('the command ran')", role_arn=platform.untrusting_role_arn
    )
    assert result.returncode == 1
    assert "the command ran" not in result.stdout
    assert f"cannot assume {platform.untrusting_role_arn}: NoPermission:" in result.stderr
    assert "trust policy doesn't trust you" in result.stderr
    assert not StsSession.objects.filter(role__name="humans-only").exists()


def test_wrong_service_key_and_unknown_role_are_clear_errors(platform):
    result = platform.run("--", PYTHON, "-c", "pass", IAM_SERVICE_ACCESS_KEY_SECRET="wrong")
    assert result.returncode == 1
    assert "SignatureDoesNotMatch" in result.stderr, result.stderr
    unknown = f"acs:ram::{platform.uid}:role/nobody"
    result = platform.run("--", PYTHON, "-c", "pass", role_arn=unknown)
    assert result.returncode == 1 and "EntityNotExist.Role" in result.stderr


def test_exit_code_and_start_failures(platform):
    assert platform.run("--", PYTHON, "-c", "raise SystemExit(3)").returncode == 3
    missing = platform.run("--", "/nonexistent/handler")
    assert missing.returncode == 127 and "cannot run /nonexistent/handler" in missing.stderr
    usage = platform.run()
    assert usage.returncode == 2 and "command" in usage.stderr


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 7), (signal.SIGINT, 8)])
def test_signals_are_forwarded_to_the_command(platform, signum, code):
    handler = textwrap.dedent(
        f"""
        import signal, sys, time
        signal.signal({int(signum)}, lambda *_: sys.exit({code}))
        print("ready", flush=True)
        time.sleep(60)
        """
    )
    runner = subprocess.Popen(
        platform.runner("--", PYTHON, "-c", handler),
        cwd=REPO,
        env=platform.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert runner.stdout.readline().strip() == "ready", runner.stderr.read()
        runner.send_signal(signum)
        assert runner.wait(timeout=20) == code
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()


def test_the_sample_handler_writes_an_object_as_the_role(platform, objectstore):
    # The bucket, made by a programmatic user of the account with its own key and policy.
    tenant = platform.tenant
    keeper = tenant.make_user("keeper", console=False)
    User.objects.filter(pk=keeper.pk).update(programmatic_access=True)
    document = {
        "Version": "1",
        "Statement": [{"Effect": "Allow", "Action": "oss:*", "Resource": "acs:oss:*:*:*"}],
    }
    policy = policy_create(
        actor=tenant.root_principal, name="store-keeper", document=json.dumps(document)
    )
    policy_attach(actor=tenant.root_principal, policy=policy, user=keeper)
    key, secret = access_key_create(
        actor=tenant.root_principal, user=User.objects.get(pk=keeper.pk)
    )
    as_keeper = (objectstore.endpoint, key.access_key_id, secret)
    for bucket in ("photos", "private"):
        tea_call(*as_keeper, "CreateBucket", {"Bucket": bucket})

    def handler(bucket: str) -> subprocess.CompletedProcess:
        return platform.run(
            "--session-name",
            "invocation-2",
            "--",
            PYTHON,
            "-m",
            "examples.functions.sample_handler",
            "--store",
            objectstore.endpoint,
            "--bucket",
            bucket,
            "--key",
            "cats/1.txt",
            "--content",
            "meow 🐈",
        )

    result = handler("photos")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    session_arn = f"acs:ram::{platform.uid}:role/uploader/invocation-2"
    assert report["KeysInEnvironment"] == []
    assert report["Provider"] == "default/credential_uri"
    assert report["Arn"] == session_arn
    assert report["PutObject"]["Size"] == len("meow 🐈".encode())
    stored = tea_call(*as_keeper, "GetObject", {"Bucket": "photos", "Key": "cats/1.txt"})
    assert stored["Content"] == "meow 🐈"
    event = AuditEvent.objects.get(action="oss:PutObject", outcome="success")
    assert event.actor_arn == session_arn
    assert event.account_id == tenant.account.pk
    assert event.target_arn == f"acs:oss:*:{platform.uid}:photos/cats/1.txt"
    assert event.details["service"] == "oss.example"

    # The role's policy covers one bucket: the store refuses the other, and says why.
    refused = handler("private")
    assert refused.returncode == 1
    assert "sample_handler: NoPermission:" in refused.stderr
    denied = AuditEvent.objects.get(action="oss:PutObject", outcome="denied")
    assert denied.actor_arn == session_arn and denied.details["service"] == "oss.example"
