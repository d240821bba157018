"""Nothing secret in logs or error reports: signatures, tokens, secrets and passwords are
replaced before a line is written.

Signed V1 calls carry `Signature` and `SecurityToken` in the query string, V3 calls carry the
signature in `Authorization` and the token in `x-acs-security-token`; the console posts
passwords. Three places would otherwise write them: the access log (`django.server` under
runserver, `gunicorn.access` under gunicorn), other log records (error messages, tracebacks)
and Django's error reports (the DEBUG page, mails to ADMINS). Each is covered here:
`ScrubFilter` on the log handlers, `ScrubbingGunicornLogger` (deploy/gunicorn.conf.py) and
the exception reporter and its filter (settings.DEFAULT_EXCEPTION_REPORTER*).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter
from gunicorn.glogging import Logger as GunicornLogger

SCRUBBED = "[scrubbed]"

# Request parameters whose values are credentials (matched whole, case-insensitively:
# SignatureNonce or SignatureMethod are not secret).
SENSITIVE_PARAMS = frozenset(
    name.lower()
    for name in (
        "Signature",
        "SecurityToken",
        "AccessKeySecret",
        "Password",
        "OldPassword",
        "NewPassword",
        "OIDCToken",
        "SAMLAssertion",
        "SAMLResponse",
        "AuthenticationCode1",
        "AuthenticationCode2",
        "csrfmiddlewaretoken",
    )
)
# Headers (and their WSGI environ names) whose values are credentials.
SENSITIVE_HEADERS = frozenset(
    ("authorization", "x-acs-security-token", "cookie", "set-cookie", "x-csrftoken")
)
_ENVIRON_HEADERS = frozenset("http_" + h.replace("-", "_") for h in SENSITIVE_HEADERS)
_PARAM_ALTERNATION = "|".join(sorted(SENSITIVE_PARAMS, key=len, reverse=True))
_HEADER_ALTERNATION = "|".join(
    re.escape(name) for name in sorted(SENSITIVE_HEADERS | _ENVIRON_HEADERS, key=len, reverse=True)
)

# name=value in a query string, form body or Authorization header (value ends at & , ; or space).
_QUERY_VALUE = re.compile(
    rf"(?<![A-Za-z0-9_])({_PARAM_ALTERNATION})=[^&\s\"',;]*", flags=re.IGNORECASE
)
# 'name': 'value' / "name": "value" / name: value, as in reprs, JSON and header dumps.
_QUOTED_VALUE = re.compile(
    rf"""(?<![A-Za-z0-9_-])(["']?)({_PARAM_ALTERNATION}|{_HEADER_ALTERNATION})\1(\s*[:=]\s*)"""
    r"""(?!\[scrubbed\])"""
    r"""(?:(["'])(?:\\.|(?!\4).)*\4|[^\s,;&}\]]+)""",
    flags=re.IGNORECASE,
)


def scrub(text: str) -> str:
    """`text` with the value of every sensitive parameter or header replaced."""
    if not text:
        return text
    text = _QUERY_VALUE.sub(lambda m: f"{m.group(1)}={SCRUBBED}", text)
    return _QUOTED_VALUE.sub(
        lambda m: (
            f"{m.group(1)}{m.group(2)}{m.group(1)}{m.group(3)}"
            f"{m.group(4) or ''}{SCRUBBED}{m.group(4) or ''}"
        ),
        text,
    )


def scrub_mapping(values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a parameter or header mapping with sensitive values replaced."""
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        name = str(key).lower()
        if name in SENSITIVE_PARAMS or name in SENSITIVE_HEADERS or name in _ENVIRON_HEADERS:
            cleaned[key] = SCRUBBED
        elif isinstance(value, str):
            cleaned[key] = scrub(value)
        else:
            cleaned[key] = value
    return cleaned


class ScrubFilter(logging.Filter):
    """Rewrites a record's message (and traceback text) with secrets replaced; drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let the handler report it as usual
            return True
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


class ScrubbingGunicornLogger(GunicornLogger):
    """gunicorn's logger with the access-log atoms (request line, query, headers, environ)
    and every error-log record scrubbed."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, ScrubFilter) for f in log.filters):
                log.addFilter(ScrubFilter())

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            name = key[1:-2] if key.startswith("{") else ""
            if name in SENSITIVE_HEADERS or name in _ENVIRON_HEADERS:
                atoms[key] = SCRUBBED
            elif isinstance(value, str):
                atoms[key] = scrub(value)
        return atoms


class ScrubbingExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, plus: query strings, request parameters and frame variables holding
    signatures or tokens are cleansed too."""

    cleansed_substitute = SCRUBBED

    def get_safe_request_meta(self, request: Any) -> dict[str, Any]:
        return scrub_mapping(super().get_safe_request_meta(request))

    def get_post_parameters(self, request: Any) -> Any:
        parameters = super().get_post_parameters(request)
        return scrub_mapping(dict(parameters.items())) if parameters else parameters

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> Any:
        return [
            (name, self._cleanse_variable(name, value))
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]

    def _cleanse_variable(self, name: str, value: Any) -> Any:
        if name.lower() in SENSITIVE_PARAMS or self.hidden_settings.search(name):
            return SCRUBBED
        if isinstance(value, Mapping):
            return scrub_mapping(value)
        if isinstance(value, bytes):
            value = value.decode(errors="replace")
        try:  # objects too: a request's repr shows its query string
            text = value if isinstance(value, str) else repr(value)
        except Exception:
            return value
        cleaned = scrub(text)
        return cleaned if cleaned != text else value


class ScrubbingExceptionReporter(ExceptionReporter):
    """Django's report with the request URL and query parameters scrubbed."""

    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        if "request_GET_items" in data:
            data["request_GET_items"] = scrub_mapping(dict(data["request_GET_items"])).items()
        for key in ("request_insecure_uri", "exception_value"):
            if isinstance(data.get(key), str):
                data[key] = scrub(data[key])
        return data
