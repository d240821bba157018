"""Serve the object store.

    IAM_ENDPOINT=http://127.0.0.1:8000 IAM_SERVICE_ACCESS_KEY_ID=… IAM_SERVICE_ACCESS_KEY_SECRET=… \
        python -m examples.objectstore --host 127.0.0.1 --port 9000 --data DIR [--workers N]

The service key comes from `manage.py createservice oss.example --json`. Without --workers a
threaded server in this process serves; with --workers N, gunicorn runs N worker processes
(threaded, keep-alive), each with its own pooled connection to iamconsole.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from iamconsole_resource import Authorizer

from examples.objectstore.app import application

logger = logging.getLogger("examples.objectstore")


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _NoAccessLog(WSGIRequestHandler):
    """wsgiref's access log would print V1 query strings, signatures and key ids included."""

    def log_message(self, *args: Any) -> None:
        pass


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m examples.objectstore", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--data", type=Path, required=True, help="directory for buckets")
    parser.add_argument("--workers", type=int, default=0, help="serve with gunicorn")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    return parser.parse_args(argv)


def _authorizer() -> Authorizer:
    try:
        return Authorizer()
    except KeyError as exc:
        sys.exit(f"objectstore: set {exc.args[0]} (see `manage.py createservice --json`)")
    except ValueError as exc:
        sys.exit(f"objectstore: {exc}")


def serve_threaded(args: argparse.Namespace) -> None:
    app = application(args.data, _authorizer())
    server = make_server(
        args.host, args.port, app, server_class=_ThreadingServer, handler_class=_NoAccessLog
    )
    logger.info("objectstore listening on http://%s:%d", args.host, server.server_port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def serve_gunicorn(args: argparse.Namespace) -> None:
    from gunicorn.app.base import BaseApplication

    _authorizer()  # fail at start-up, not in every worker

    class ObjectStoreServer(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", args.threads)
            self.cfg.set("keepalive", 30)
            self.cfg.set("loglevel", "warning")

        def load(self) -> Any:
            # Called in each worker after the fork: its own connection pool to iamconsole.
            return application(args.data, _authorizer())

    ObjectStoreServer().run()


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    args = _arguments(argv)
    args.data.mkdir(parents=True, exist_ok=True)
    if args.workers > 0:
        serve_gunicorn(args)
    else:
        serve_threaded(args)


if __name__ == "__main__":
    main()
