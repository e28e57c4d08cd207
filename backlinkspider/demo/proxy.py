"""A loopback HTTP proxy that serves a whole web of virtual hosts by itself.

Point a crawler at it with the standard ``http_proxy`` variable and every
``http://host/...`` it asks for is answered here, from files or from code,
without DNS or the internet. The demo, the tests and the benchmarks all crawl
through it; it records every request so tests can assert what a crawler fetched.
"""

from __future__ import annotations

import mimetypes
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources.abc import Traversable
from pathlib import Path
from urllib.parse import urlsplit


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    delay: float = 0.0  # seconds to wait before answering (a server that never answers)
    head_status: int = 0  # answer HEAD with this status instead (405: a server that refuses HEAD)
    trickle: float = 0.0  # seconds between the body's bytes (a server that trickles)
    reset: bool = False  # reset the connection instead of answering


Resolver = Callable[[str, str], "Response | None"]  # (host, path with query) -> response


def html(body: str, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
    """A UTF-8 HTML response."""
    return Response(status, body.encode("utf-8"), [("Content-Type", "text/html; charset=utf-8"), *(headers or [])])


def redirect(location: str, status: int = 301) -> Response:
    return Response(status, b"", [("Location", location)])


def static_files(root: str | Path | Traversable) -> Resolver:
    """Serve ``root/<host>/<path>`` files; ``/`` and directories serve ``index.html``."""
    root = Path(str(root)).resolve()

    def resolve(host: str, path: str) -> Response | None:
        rel = urlsplit(path).path.lstrip("/")
        file = (root / host / rel).resolve()
        if file.is_dir():
            file = file / "index.html"
        if root not in file.parents or not file.is_file():
            return None
        ctype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if ctype.startswith("text/"):
            ctype += "; charset=utf-8"
        return Response(200, file.read_bytes(), [("Content-Type", ctype)])

    return resolve


class WebProxy(ThreadingHTTPServer):
    """Serve ``resolvers`` (tried in order) as an HTTP proxy on 127.0.0.1.

    Anything no resolver knows answers 404, as a real site would.
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *resolvers: Resolver, port: int = 0, host: str = "127.0.0.1"):
        super().__init__((host, port), _Handler)
        self.resolvers = list(resolvers)
        self.requests: list[tuple[str, str, str]] = []  # (method, host, path)
        self.arrivals: list[tuple[float, str, str]] = []  # (time.monotonic(), host, path)
        self.user_agents: set[str] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> WebProxy:
        self._thread = threading.Thread(target=self.serve_forever, name="web-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def handle_error(self, request, client_address):
        # A crawler that gave up on a slow answer closes the socket: not an error here.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def fetched(self, host: str | None = None) -> list[str]:
        """Paths requested so far (of ``host`` only, if given)."""
        with self._lock:
            return [p for _, h, p in self.requests if host is None or h == host]

    def respond(self, method: str, host: str, path: str, user_agent: str = "") -> Response:
        with self._lock:
            self.requests.append((method, host, path))
            self.arrivals.append((time.monotonic(), host, path))
            self.user_agents.add(user_agent)
        for resolve in self.resolvers:
            found = resolve(host, path)
            if found is not None:
                return found
        return Response(404, b"not found", [("Content-Type", "text/plain")])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real proxy offers
    server: WebProxy

    def do_GET(self):
        self._serve(send_body=True)

    def do_HEAD(self):
        self._serve(send_body=False)

    def _serve(self, send_body: bool):
        parts = urlsplit(self.path)
        host = (parts.hostname or self.headers.get("Host", "").split(":")[0]).lower()
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        response = self.server.respond(self.command, host, path, self.headers.get("User-Agent", ""))
        if response.delay:
            time.sleep(response.delay)
        if response.reset:  # RST, not FIN: SO_LINGER with a zero timeout
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if not send_body and response.head_status:
            response = Response(response.head_status)
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if send_body and response.trickle:
            for i in range(len(response.body)):
                self.wfile.write(response.body[i : i + 1])
                self.wfile.flush()
                time.sleep(response.trickle)
        elif send_body:
            self.wfile.write(response.body)

    def log_message(self, format, *args):  # quiet: tests read .requests instead
        pass
