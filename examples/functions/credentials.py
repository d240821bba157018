"""Role credentials for one function: when to re-assume, and the loopback URI that serves them.

The URI is `http://127.0.0.1:<port>/<token>`: the server listens on loopback only and answers
nothing but a GET of that exact path, so only a process that was handed the URI can read it.
"""

from __future__ import annotations

import hmac
import json
import secrets
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

MIN_REFRESH_MARGIN = 300  # seconds: never let a session run closer to its end than this
RETRY_SECONDS = 10  # after a failed re-assume, while the current credentials still hold


@dataclass(frozen=True)
class RoleCredentials:
    """One AssumeRole result; `expires_at` is in this machine's clock (epoch seconds)."""

    access_key_id: str
    access_key_secret: str
    security_token: str
    expires_at: float
    duration: int

    @property
    def expiration(self) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.expires_at))

    def document(self) -> dict[str, str]:
        """The body the credentials SDK's `credentials_uri` provider expects."""
        return {
            "Code": "Success",
            "AccessKeyId": self.access_key_id,
            "AccessKeySecret": self.access_key_secret,
            "SecurityToken": self.security_token,
            "Expiration": self.expiration,
        }


def refresh_margin(duration: int, override: float | None = None) -> float:
    """Seconds before expiry at which to re-assume: a third of the session, at least five
    minutes; `override` (for demonstrations and tests) replaces the rule."""
    if override is not None:
        return override
    return max(duration / 3, MIN_REFRESH_MARGIN)


def refresh_due(
    now: float, expires_at: float, duration: int, override: float | None = None
) -> bool:
    """Whether credentials expiring at `expires_at` should be replaced at `now`."""
    return expires_at - now <= refresh_margin(duration, override)


def seconds_until_refresh(
    now: float, expires_at: float, duration: int, override: float | None = None
) -> float:
    """How long the current credentials may be served before `refresh_due` turns true."""
    return max(0.0, expires_at - refresh_margin(duration, override) - now)


class CredentialsKeeper:
    """Holds the current credentials and re-assumes the role in a background thread before
    they expire. A failed refresh is retried while the old credentials are still valid."""

    def __init__(
        self,
        assume: Callable[[], RoleCredentials],
        *,
        margin: float | None = None,
        clock: Callable[[], float] = time.time,
        log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
    ) -> None:
        self._assume = assume
        self._margin = margin
        self._clock = clock
        self._log = log
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._current: RoleCredentials | None = None
        self._thread = threading.Thread(target=self._run, name="credentials-refresh", daemon=True)
        self.refreshes = 0

    def start(self) -> RoleCredentials:
        """Assume the role once (errors propagate), then keep it fresh in the background."""
        first = self._assume()
        with self._lock:
            self._current = first
        self._thread.start()
        return first

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def current(self) -> RoleCredentials | None:
        """The credentials to hand out, or None once they have expired unrenewed."""
        with self._lock:
            current = self._current
        if current is None or current.expires_at <= self._clock():
            return None
        return current

    def _run(self) -> None:
        while True:
            with self._lock:
                current = self._current
            assert current is not None  # set by start() before the thread runs
            delay = seconds_until_refresh(
                self._clock(), current.expires_at, current.duration, self._margin
            )
            if self._stop.wait(delay):
                return
            try:
                fresh = self._assume()
            except Exception as exc:  # keep serving what still holds, and try again soon
                self._log(f"examples.functions: refreshing the role's credentials failed: {exc}")
                if self._stop.wait(RETRY_SECONDS):
                    return
                continue
            with self._lock:
                self._current = fresh
                self.refreshes += 1


class _Handler(BaseHTTPRequestHandler):
    server: CredentialsServer

    def do_GET(self) -> None:
        path = urlsplit(self.path).path.encode()
        if not hmac.compare_digest(path, self.server.secret_path.encode()):
            self._reply(404, {"Code": "NotFound", "Message": "No such credentials."})
            return
        credentials = self.server.keeper.current()
        if credentials is None:
            self._reply(
                503, {"Code": "CredentialsExpired", "Message": "The role's credentials expired."}
            )
            return
        self._reply(200, credentials.document())

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the path is the secret: keep it out of logs


class CredentialsServer(ThreadingHTTPServer):
    """Serves `keeper`'s credentials at an unguessable path on 127.0.0.1, on a free port."""

    daemon_threads = True

    def __init__(self, keeper: CredentialsKeeper) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.keeper = keeper
        self.secret_path = "/" + secrets.token_urlsafe(32)
        self._thread = threading.Thread(
            target=self.serve_forever, name="credentials-uri", daemon=True
        )

    @property
    def uri(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}{self.secret_path}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
