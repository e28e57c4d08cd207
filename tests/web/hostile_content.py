"""Pages built to break a parser or a crawl: huge, deep, binary, badly encoded, endless.
Each page of www.hostile-content.com also links to one well-behaved backlink, so a test
can tell that the crawl took the page's links (or recorded why not) and went on."""

from __future__ import annotations

from backlinkspider.demo.proxy import Response, html

HOST = "www.hostile-content.com"
SEED = f"http://{HOST}/"
TARGET = "acme-tools.com"
GOOD = '<a href="https://acme-tools.com/{name}">good {name}</a>'


def _page(name: str, body: str) -> Response:
    return html(f"<html><body>{body}{GOOD.format(name=name)}</body></html>")


def _raw(name: str, body: bytes, content_type: str = "text/html") -> Response:
    return Response(200, body + GOOD.format(name=name).encode(), [("Content-Type", content_type)])


PAGES: dict[str, Response] = {
    "million-links": _page("million-links", '<a href="/x">x</a>' * 1_000_000),
    "deep-nesting": _page("deep-nesting", "<div>" * 100_000 + "deep" + "</div>" * 100_000),
    "huge-href": _page("huge-href", f'<a href="https://acme-tools.com/{"h" * 1_000_000}">huge</a>'),
    "huge-anchor": _page("huge-anchor", f'<a href="https://acme-tools.com/anchor">{"a " * 500_000}</a>'),
    "invalid-utf8": _raw(
        "invalid-utf8", b'<meta charset="utf-8"><a href="https://acme-tools.com/\xff\xfe">bad\xc3</a>'
    ),
    "utf16-bom": Response(
        200,
        ("\ufeff<html><a href='https://acme-tools.com/utf16'>utf16</a>" + GOOD.format(name="utf16-bom")).encode(
            "utf-16-le"
        ),
        [("Content-Type", "text/html")],
    ),
    "nul-bytes": _raw("nul-bytes", b"<html>\x00\x00<a href='https://acme-tools.com/nul'>nul</a>"),
    "javascript-base": _page("javascript-base", '<base href="javascript:alert(1)"><a href="rel">rel</a>'),
    "data-base": _page("data-base", '<base href="data:text/html,x"><a href="rel">rel</a>'),
    "crlf-tab-href": _page("crlf-tab-href", '<a href="https://acme-tools.com/c\r\nr\tl\nf">crlf</a>'),
    "calendar": _page("calendar", "".join(f'<a href="/calendar?month={m}">m</a>' for m in range(1000))),
    "repeated": _page("repeated", '<a href="a/b/">loop</a>'),
    "not-html": _raw("not-html", b"%PDF-1.7 \x00\x01", "application/pdf"),
    "script-anchor": _page(
        "script-anchor", '<a href="https://acme-tools.com/js">JS<script>{"@context":1}</script></a>'
    ),
}
SEED_PAGE = html("".join(f'<a href="/{name}">{name}</a>' for name in PAGES))


def resolve(host: str, path: str) -> Response | None:
    if host != HOST:
        return None
    if path == "/robots.txt":
        return Response(200, b"User-agent: *\nAllow: /\n", [("Content-Type", "text/plain")])
    if path == "/":
        return SEED_PAGE
    name = path.strip("/").split("?")[0]
    if name in PAGES:
        return PAGES[name]
    if name == "calendar":
        month = int(path.split("=")[-1]) if "=" in path else 0
        return html(f'<a href="/calendar?month={month + 1}">next</a>')
    if path.startswith("/repeated") or path.startswith("/a/"):
        return html('<a href="a/b/">deeper</a>')
    return None
