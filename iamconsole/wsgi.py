"""WSGI entry point. The outer wrapper strips a scheme from Host: Alibaba's credentials
provider sends `Host: http://127.0.0.1:PORT`, which Django's host validation would refuse."""

import os
from collections.abc import Callable, Iterable
from typing import Any

from django.core.wsgi import get_wsgi_application

from iamconsole.hosts import strip_scheme

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iamconsole.settings")


def strip_scheme_from_host(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        host = environ.get("HTTP_HOST", "")
        if host:
            environ["HTTP_HOST"] = strip_scheme(host)
        return app(environ, start_response)

    return wrapped


application = strip_scheme_from_host(get_wsgi_application())
