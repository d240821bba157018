"""Settings come from the environment and fail loudly outside DEBUG."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"


def run_settings(**env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "IAM_ENCRYPTION_KEYS", "ALLOWED_HOSTS", "IAM_TESTING"}
    }
    clean.update(
        {
            "DJANGO_SETTINGS_MODULE": "iamconsole.settings",
            "PYTHONPATH": str(ROOT),
            "IAM_SKIP_DOTENV": "1",
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        env=clean,
        capture_output=True,
        text=True,
        cwd="/",
        timeout=60,
    )


def test_refuses_to_start_without_secrets_outside_debug():
    result = run_settings(DEBUG="0")
    assert result.returncode != 0
    assert (
        "refuses to start outside DEBUG without: SECRET_KEY, IAM_ENCRYPTION_KEYS, "
        "ALLOWED_HOSTS" in result.stderr
    )


def test_starts_with_secrets_outside_debug():
    result = run_settings(
        DEBUG="0", SECRET_KEY="x" * 50, IAM_ENCRYPTION_KEYS="a2V5", ALLOWED_HOSTS="iam.example.com"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_debug_runs_with_development_defaults():
    result = run_settings(DEBUG="1")
    assert result.returncode == 0, result.stderr
