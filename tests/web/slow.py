"""Servers that hold a crawler: one trickles a byte a second, one never answers, one resets
the connection; beside them a well-behaved site whose crawl must not wait for them."""

from __future__ import annotations

from backlinkspider.demo.proxy import Response, html

TRICKLE, SILENT, RESET, GOOD = (f"{name}.slow-test.com" for name in ("trickle", "silent", "reset", "good"))
SLOW_HOSTS = (TRICKLE, SILENT, RESET)
SEEDS = [f"http://{h}/" for h in (*SLOW_HOSTS, GOOD)]
GOOD_PAGES = 40
TARGET = "acme-tools.com"


def resolve(host: str, path: str) -> Response | None:
    if path == "/robots.txt":
        return None  # 404 at once: the pages are what hold
    page = html(f'<a href="https://{TARGET}/{host}">held</a>' + "x" * 200)
    if host == TRICKLE and path == "/":
        page.trickle = 1.0  # 250 bytes: four minutes, unbounded
        return page
    if host == SILENT and path == "/":
        return Response(200, page.body, page.headers, delay=600.0)
    if host == RESET and path == "/":
        return Response(reset=True)
    if host == GOOD and path == "/":
        return html("".join(f'<a href="/{n}.html">{n}</a>' for n in range(GOOD_PAGES)))
    if host == GOOD and path.endswith(".html"):
        return html(f'<a href="https://{TARGET}/good{path}">good</a>')
    return None
