"""Hosts whose robots.txt cannot be fetched, each in its own way, and one that recovers."""

from __future__ import annotations

import threading

from backlinkspider.demo.proxy import Response, html, redirect

FAILING = {
    "err500.robots-test.com": "always 500",
    "loop.robots-test.com": "six redirects",
    "slow.robots-test.com": "never answers in time",
    "reset.robots-test.com": "resets the connection",
}
FLAKY = "flaky.robots-test.com"  # 503 once, then a robots.txt that allows everything
GONE = "gone.robots-test.com"  # 404: no rules
SEEDS = [f"http://{h}/" for h in (*FAILING, FLAKY, GONE)]
SLOW = 30.0


class RobotsErrorsWeb:
    def __init__(self):
        self.lock = threading.Lock()
        self.flaky_asked = 0

    def resolve(self, host: str, path: str) -> Response | None:
        if path == "/robots.txt":
            return self._robots(host)
        if host == "loop.robots-test.com" and path.startswith("/hop"):
            n = int(path[4:])
            return redirect(f"/hop{n + 1}") if n < 6 else Response(200, b"User-agent: *\nAllow: /\n")
        if path == "/":
            return html(f'<a href="/page.html">p</a><a href="https://acme-tools.com/{host}">acme</a>')
        if path == "/page.html":
            return html(f'<a href="https://acme-tools.com/{host}/page">acme page</a>')
        return None

    def _robots(self, host: str) -> Response | None:
        if host == "err500.robots-test.com":
            return Response(500, b"<h1>Internal Server Error</h1>")
        if host == "loop.robots-test.com":
            return redirect("/hop1")
        if host == "reset.robots-test.com":
            return Response(reset=True)
        if host == "slow.robots-test.com":
            return Response(200, b"User-agent: *\nAllow: /\n", delay=SLOW)
        if host == FLAKY:
            with self.lock:
                self.flaky_asked += 1
                first = self.flaky_asked == 1
            return Response(503, b"busy") if first else Response(200, b"User-agent: *\nAllow: /\n")
        if host == GONE:
            return Response(404, b"<h1>Not Found</h1>")
        return None
