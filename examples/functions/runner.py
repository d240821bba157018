"""Run one function invocation: the command as a child process, its role's credentials on a
loopback URI, signals passed on, the child's exit code returned."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from types import FrameType

from examples.functions.credentials import CredentialsKeeper, CredentialsServer

# What the platform must not hand down: its own key, and any key or token that the SDK's
# default chain would prefer over the role's credentials URI.
SCRUBBED_PREFIXES = ("IAM_SERVICE_ACCESS_KEY", "ALIBABA_CLOUD_ACCESS_KEY")
SCRUBBED_NAMES = frozenset(
    {
        "ALIBABA_CLOUD_SECURITY_TOKEN",
        "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
        "ALIBABA_CLOUD_ROLE_ARN",
        "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
        "ALIBABA_CLOUD_ROLE_SESSION_NAME",
        "ALIBABA_CLOUD_ECS_METADATA",
    }
)
FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def child_environment(parent: Mapping[str, str], credentials_uri: str) -> dict[str, str]:
    """The function's environment: the parent's minus every key, plus the credentials URI.

    `ALIBABA_CLOUD_ECS_METADATA_DISABLED` keeps the SDK's default chain from asking a cloud
    metadata address (off loopback); the CLI profile and the credentials file are skipped so a
    developer's own profile can't stand in for the role. `IAM_ENDPOINT` is passed on as is."""
    env = {
        name: value
        for name, value in parent.items()
        if not name.startswith(SCRUBBED_PREFIXES) and name not in SCRUBBED_NAMES
    }
    env["ALIBABA_CLOUD_CREDENTIALS_URI"] = credentials_uri
    env["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"
    env["ALIBABA_CLOUD_CLI_PROFILE_DISABLED"] = "true"
    env["ALIBABA_CLOUD_CREDENTIALS_FILE"] = os.devnull  # instead of ~/.alibabacloud/…
    return env


def exit_status(returncode: int) -> int:
    """A child killed by signal N exits the runner with 128 + N, as a shell would."""
    return 128 - returncode if returncode < 0 else returncode


def run(command: Sequence[str], keeper: CredentialsKeeper) -> int:
    """Serve `keeper`'s credentials while `command` runs; return its exit status.

    The child gets its own process group, so a terminal's Ctrl-C reaches it once (forwarded
    by the runner) rather than twice."""
    server = CredentialsServer(keeper)
    server.start()
    try:
        try:
            child = subprocess.Popen(  # noqa: S603 - running the given command is the point
                list(command), env=child_environment(os.environ, server.uri), process_group=0
            )
        except OSError as exc:
            raise CommandFailed(f"cannot run {command[0]}: {exc.strerror or exc}") from exc

        def forward(signum: int, frame: FrameType | None) -> None:
            if child.poll() is None:
                child.send_signal(signum)

        previous = {signum: signal.signal(signum, forward) for signum in FORWARDED_SIGNALS}
        try:
            return exit_status(child.wait())
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
    finally:
        keeper.stop()
        server.stop()


class CommandFailed(Exception):
    """The command could not be started (not found, not executable)."""
