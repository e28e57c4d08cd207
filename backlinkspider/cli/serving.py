"""``backlinks serve``: the store in a browser (``backlinkspider.web``)."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys

from backlinkspider.cli.base import Command, settings, store_options

DEFAULT_PORT = 8708
PASSWORD_VARIABLE = "BACKLINKS_UI_PASSWORD"


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the dashboard on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


class Serve(Command):
    name = "serve"
    help = "the dashboard and JSON API in a browser (http://127.0.0.1:8708/)"
    description = (
        "Serve a read-only web dashboard of the store (domains, overview with charts, backlinks table "
        "with filters, cursor paging and CSV download, referring domains, disavow file) and the JSON API "
        "under /api/v1/ (OpenAPI schema at /api/v1/openapi.json). It binds 127.0.0.1 by default; "
        f"any other address needs {PASSWORD_VARIABLE} in the environment (HTTP basic auth on every "
        "route, any user name): put TLS in front of it with a reverse proxy (README)."
    )

    def parents(self) -> list[argparse.ArgumentParser]:
        return [store_options()]

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
        parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT})")
        parser.add_argument(
            "--redis-url", help="the distributed crawl's Redis, for /crawl (default: the REDIS_URL setting)"
        )

    def run(self, args: argparse.Namespace) -> int:
        password = os.environ.get(PASSWORD_VARIABLE, "")
        if not is_loopback(args.host) and not password:
            print(
                f"backlinks serve: refusing to serve {args.host} without a password: set {PASSWORD_VARIABLE} "
                "(or bind 127.0.0.1)",
                file=sys.stderr,
            )
            return 1
        import uvicorn

        from backlinkspider import credentials, store
        from backlinkspider.frontier.connection import enabled
        from backlinkspider.web.app import create_app

        found = settings(args)
        if found.get("MONGO_URI"):  # a refused password is one line now, not a 500 on every page later
            try:
                credentials.check_mongo(found["MONGO_URI"], found["MONGO_DATABASE"])
            except credentials.CredentialsRefused as exc:
                print(f"backlinks serve: {exc}", file=sys.stderr)
                return 1
        uri = store.mongo_uri(found)  # starts the embedded server when MONGO_URI is empty
        app = create_app(uri, found.get("MONGO_DATABASE"), password=password, redis=found if enabled(found) else None)
        shown = f"[{args.host}]" if ":" in args.host else args.host
        print(f"backlinks serve: http://{shown}:{args.port}/ (Ctrl-C stops it)", file=sys.stderr, flush=True)
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
        return 0
