"""`python -m examples.functions run --role-arn ARN [--session-name NAME] [--duration SECONDS]
[--refresh-margin SECONDS] -- COMMAND [ARGS…]`

Reads IAM_ENDPOINT, IAM_SERVICE_ACCESS_KEY_ID and IAM_SERVICE_ACCESS_KEY_SECRET (the platform's
service key). Exits with the command's status; 1 when the role can't be assumed, 127 when the
command can't be started, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Mapping, Sequence

from examples.functions.assume import AssumeRoleFailed, ServiceKey, role_assumer
from examples.functions.credentials import CredentialsKeeper
from examples.functions.runner import CommandFailed, run

PROG = "examples.functions"
ENV_KEYS = ("IAM_ENDPOINT", "IAM_SERVICE_ACCESS_KEY_ID", "IAM_SERVICE_ACCESS_KEY_SECRET")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog=f"python -m {PROG}", description="Run a command as a role, with no key."
    )
    commands = root.add_subparsers(dest="verb", required=True)
    run_ = commands.add_parser("run", help="run COMMAND with a role's temporary credentials")
    run_.add_argument("--role-arn", required=True, help="acs:ram::<uid>:role/<name>")
    run_.add_argument(
        "--session-name",
        default=None,
        help="RoleSessionName (default: function-<random>)",
    )
    run_.add_argument(
        "--duration", type=int, default=3600, help="seconds per session, 900 to the role's max"
    )
    run_.add_argument(
        "--refresh-margin",
        type=float,
        default=_env_float("IAM_FUNCTIONS_REFRESH_MARGIN"),
        help="re-assume this many seconds before expiry (default: a third of the duration, "
        "at least 300; env IAM_FUNCTIONS_REFRESH_MARGIN)",
    )
    run_.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS…]")
    return root


def _env_float(name: str) -> float | None:
    value = os.environ.get(name, "")
    return float(value) if value else None


def service_key(environ: Mapping[str, str]) -> ServiceKey:
    missing = [name for name in ENV_KEYS if not environ.get(name)]
    if missing:
        raise SystemExit(f"{PROG}: set {', '.join(missing)} (the platform's service key)")
    return ServiceKey(*(environ[name] for name in ENV_KEYS))


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser().error("give the command to run after --")
    if args.refresh_margin is not None and not 0 < args.refresh_margin < args.duration:
        parser().error("--refresh-margin must be between 0 and --duration seconds")
    key = service_key(os.environ)
    session_name = args.session_name or f"function-{secrets.token_hex(4)}"
    keeper = CredentialsKeeper(
        role_assumer(key, args.role_arn, session_name, args.duration),
        margin=args.refresh_margin,
    )
    try:
        keeper.start()
    except AssumeRoleFailed as exc:
        print(f"{PROG}: cannot assume {args.role_arn}: {exc}", file=sys.stderr)
        return 1
    try:
        return run(command, keeper)
    except CommandFailed as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 127


if __name__ == "__main__":
    sys.exit(main())
