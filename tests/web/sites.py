"""The test web: two seed sites, a target, look-alikes, and every kind of bad input.

Served by ``backlinkspider.demo.proxy.WebProxy`` as an HTTP proxy on loopback.
``EXPECTED_TARGET_LINKS`` is what a crawl with ``targets=acme-tools.com`` must
store, document for document.
"""

from __future__ import annotations

from backlinkspider.demo.proxy import Response, html, redirect

SEEDS = ["http://www.seed-site.com/", "http://janedoe.blogspot.com/"]
TARGET = "acme-tools.com"
HUGE = 300_000  # bytes; the tests set DOWNLOAD_MAXSIZE below this
SLOW = 30.0  # seconds; the tests set DOWNLOAD_TIMEOUT far below this

S = "http://www.seed-site.com"

PAGES: dict[tuple[str, str], Response] = {
    ("www.seed-site.com", "/robots.txt"): Response(
        200, b"User-agent: *\nDisallow: /private/\n", [("Content-Type", "text/plain")]
    ),
    ("www.seed-site.com", "/"): html("""<html><head><title>Seed  site</title></head><body>
        <a href="/links.html">links</a> <a href="http://blog.seed-site.com/">blog</a>
        <a href="/private/secret.html">secret</a> <a href="/redirect-me">moved</a>
        <a href="/base.html">base</a> <a href="/bad/">bad input</a>
        <a href="/meta-nofollow.html">m1</a> <a href="/meta-none.html">m2</a>
        <a href="/meta-otherbot.html">m3</a> <a href="/xrobots.html">x1</a>
        <a href="/xrobots-list.html">x2</a> <a href="/xrobots-other.html">x3</a>
        <a href="http://other-site.net/">Other site</a> <a href="/moved-home">docs</a>
        </body></html>"""),
    ("www.seed-site.com", "/links.html"): html("""<html><body>
        <a href="https://www.acme-tools.com/a">Plain &amp; simple</a>
        <a href=" HTTPS://WWW.Acme-Tools.COM:443/b?x=1#frag ">  spaced
           out&nbsp; </a>
        <a href="https://acme-tools.com/c" rel="UGC, Sponsored">c</a>
        <a href="https://acme-tools.com/d" rel="nofollow noopener">d</a>
        <a href="https://shop.acme-tools.com/e"><img src="/x.png" alt="Acme logo"></a>
        <a href="https://acme-tools.com/f"><img src="/x.png"></a>
        <map name="m"><area href="https://acme-tools.com/g" alt="Map region"></map>
        <a href="//acme-tools.com/proto-relative">pr</a>
        <a href="https://acme-tools.com/a b/ü">unsafe</a>
        <a href="https://www.acme-tools.com/a">Plain &amp; simple</a>
        <a href="https://www.acme-tools.com/a">Another anchor</a>
        <a href="https://acme-tools.com.evil.net/">look-alike</a>
        <a href="https://notacme-tools.com/">not acme</a>
        <a href="http://münchen-tools.de/">idn</a>
        <a href="https://janedoe.blogspot.com/post">jane</a>
        <a href="mailto:sales@acme-tools.com">mail</a>
        <a href="javascript:alert('acme-tools.com')">js</a>
        <a href="tel:+15550100">tel</a>
        <a href="data:text/html,acme-tools.com">data</a>
        <!-- <a href="https://acme-tools.com/commented">commented</a> -->
        <script>var s = '<a href="https://acme-tools.com/script">script</a>';</script>
        <a href="/">home</a>
        </body></html>"""),
    ("www.seed-site.com", "/base.html"): html("""<html><head>
        <base href="https://www.acme-tools.com/docs/"></head><body>
        <a href="guide.html">Guide</a></body></html>"""),
    ("www.seed-site.com", "/meta-nofollow.html"): html("""<html><head>
        <meta name="ROBOTS" content="NOINDEX, NoFollow"></head><body>
        <a href="https://acme-tools.com/meta-nofollow">m1</a>
        <a href="/only-via-nofollow.html">hidden</a></body></html>"""),
    ("www.seed-site.com", "/only-via-nofollow.html"): html('<a href="https://acme-tools.com/never">never</a>'),
    ("www.seed-site.com", "/meta-none.html"): html("""<html><head>
        <meta name="googlebot" content="none"></head><body>
        <a href="https://acme-tools.com/meta-none">m2</a></body></html>"""),
    ("www.seed-site.com", "/meta-otherbot.html"): html("""<html><head>
        <meta name="bingbot" content="nofollow"></head><body>
        <a href="https://acme-tools.com/meta-otherbot">m3</a></body></html>"""),
    ("www.seed-site.com", "/xrobots.html"): html(
        '<a href="https://acme-tools.com/xrobots">x1</a>', headers=[("X-Robots-Tag", "googlebot: nofollow")]
    ),
    ("www.seed-site.com", "/xrobots-list.html"): html(
        '<a href="https://acme-tools.com/xrobots-list">x2</a>',
        headers=[("X-Robots-Tag", "noarchive"), ("X-Robots-Tag", "noindex, nofollow")],
    ),
    ("www.seed-site.com", "/xrobots-other.html"): html(
        '<a href="https://acme-tools.com/xrobots-other">x3</a>', headers=[("X-Robots-Tag", "otherbot: nofollow")]
    ),
    ("www.seed-site.com", "/private/secret.html"): html('<a href="https://acme-tools.com/secret">secret</a>'),
    ("www.seed-site.com", "/redirect-me"): redirect("/landing.html"),
    ("www.seed-site.com", "/landing.html"): html('<a href="https://acme-tools.com/landed">after redirect</a>'),
    # A redirect to a non-canonical URL with no path: stored canonical, relative links intact.
    ("www.seed-site.com", "/moved-home"): redirect("HTTP://DOCS.Seed-Site.COM:80"),
    ("docs.seed-site.com", "/"): html(
        '<a href="guide/start.html">Start</a> <a href="https://acme-tools.com/from-docs">docs link</a>'
    ),
    ("docs.seed-site.com", "/guide/start.html"): html('<a href="https://acme-tools.com/from-guide">guide link</a>'),
    ("blog.seed-site.com", "/"): html("""<a href="https://acme-tools.com/from-blog">blog
        link</a> <a href="http://www.seed-site.com/">home</a>"""),
    ("janedoe.blogspot.com", "/"): html("""<a href="/p2">next</a>
        <a href="https://johnsmith.blogspot.com/">John</a>
        <a href="https://acme-tools.com/from-jane">Acme</a>"""),
    ("janedoe.blogspot.com", "/p2"): html('<a href="https://WWW.acme-tools.com/from-jane-2" rel="ugc">p2</a>'),
    # --- Bad input: each logs, counts, and the crawl goes on to /bad/after.html.
    ("www.seed-site.com", "/bad/"): html("""
        <a href="/bad/malformed.html">1</a> <a href="/bad/cp1252.html">2</a>
        <a href="/bad/meta-charset.html">3</a> <a href="/bad/binary.html">4</a>
        <a href="/bad/image.png">5</a> <a href="/bad/huge.html">6</a>
        <a href="/bad/404.html">7</a> <a href="/bad/500.html">8</a>
        <a href="/bad/loop-a">9</a> <a href="/bad/slow.html">10</a>
        <a href="/bad/after.html">11</a> <a href="http://[broken/">12</a>
        <a href="http://www.seed-site.com:99999/">13</a>"""),
    ("www.seed-site.com", "/bad/malformed.html"): html(
        '<html><body><p><a href="https://acme-tools.com/malformed">unclosed <b>bold</p>'
        "<div><a href=https://acme-tools.com/m2>m2</div></table></i>"
    ),
    ("www.seed-site.com", "/bad/cp1252.html"): Response(
        200,
        b'<a href="https://acme-tools.com/cafe">Caf\xe9 \x93quoted\x94</a>',
        [("Content-Type", "text/html; charset=windows-1252")],
    ),
    ("www.seed-site.com", "/bad/meta-charset.html"): Response(
        200,
        b'<html><head><meta charset="windows-1252"></head>'
        b'<a href="https://acme-tools.com/meta-charset">Gr\xfc\xdfe</a>',
        [("Content-Type", "text/html")],
    ),
    ("www.seed-site.com", "/bad/binary.html"): Response(
        200, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, [("Content-Type", "text/html")]
    ),
    ("www.seed-site.com", "/bad/image.png"): Response(
        200, b"\x89PNG\r\n\x1a\n" + bytes(64), [("Content-Type", "image/png")]
    ),
    ("www.seed-site.com", "/bad/huge.html"): html('<a href="https://acme-tools.com/huge">huge</a>' + "x" * HUGE),
    ("www.seed-site.com", "/bad/404.html"): html('<a href="https://acme-tools.com/from-404">404</a>', status=404),
    ("www.seed-site.com", "/bad/500.html"): html("oops", status=500),
    ("www.seed-site.com", "/bad/loop-a"): redirect("/bad/loop-b", 302),
    ("www.seed-site.com", "/bad/loop-b"): redirect("/bad/loop-a", 302),
    ("www.seed-site.com", "/bad/slow.html"): Response(
        200, b"<a href='https://acme-tools.com/slow'>slow</a>", [("Content-Type", "text/html")], delay=SLOW
    ),
    ("www.seed-site.com", "/bad/after.html"): html('<a href="https://acme-tools.com/survivor">still crawling</a>'),
}


def resolve(host: str, path: str) -> Response | None:
    return PAGES.get((host, path))


def _doc(source, target, anchor, types=("follow",), rel=(), kind="text", nofollow=False):
    return (source, target, anchor, tuple(types), tuple(rel), kind, nofollow)


# (source_url, target_url, anchor, link_types, rel, kind, page_nofollow)
EXPECTED_TARGET_LINKS = {
    _doc(f"{S}/links.html", "https://www.acme-tools.com/a", "Plain & simple"),
    _doc(f"{S}/links.html", "https://www.acme-tools.com/a", "Another anchor"),
    _doc(f"{S}/links.html", "https://www.acme-tools.com/b?x=1", "spaced out"),
    _doc(f"{S}/links.html", "https://acme-tools.com/c", "c", ("sponsored", "ugc"), ("ugc", "sponsored")),
    _doc(f"{S}/links.html", "https://acme-tools.com/d", "d", ("nofollow",), ("nofollow", "noopener")),
    _doc(f"{S}/links.html", "https://shop.acme-tools.com/e", "Acme logo", kind="image"),
    _doc(f"{S}/links.html", "https://acme-tools.com/f", "", kind="image"),
    _doc(f"{S}/links.html", "https://acme-tools.com/g", "Map region", kind="image"),
    _doc(f"{S}/links.html", "http://acme-tools.com/proto-relative", "pr"),
    _doc(f"{S}/links.html", "https://acme-tools.com/a%20b/%C3%BC", "unsafe"),
    _doc(f"{S}/base.html", "https://www.acme-tools.com/docs/guide.html", "Guide"),
    _doc(f"{S}/meta-nofollow.html", "https://acme-tools.com/meta-nofollow", "m1", ("nofollow",), nofollow=True),
    _doc(f"{S}/meta-none.html", "https://acme-tools.com/meta-none", "m2", ("nofollow",), nofollow=True),
    _doc(f"{S}/meta-otherbot.html", "https://acme-tools.com/meta-otherbot", "m3"),
    _doc(f"{S}/xrobots.html", "https://acme-tools.com/xrobots", "x1", ("nofollow",), nofollow=True),
    _doc(f"{S}/xrobots-list.html", "https://acme-tools.com/xrobots-list", "x2", ("nofollow",), nofollow=True),
    _doc(f"{S}/xrobots-other.html", "https://acme-tools.com/xrobots-other", "x3"),
    _doc(f"{S}/landing.html", "https://acme-tools.com/landed", "after redirect"),
    _doc("http://blog.seed-site.com/", "https://acme-tools.com/from-blog", "blog link"),
    _doc("http://docs.seed-site.com/", "https://acme-tools.com/from-docs", "docs link"),
    _doc("http://docs.seed-site.com/guide/start.html", "https://acme-tools.com/from-guide", "guide link"),
    _doc("http://janedoe.blogspot.com/", "https://acme-tools.com/from-jane", "Acme"),
    _doc("http://janedoe.blogspot.com/p2", "https://www.acme-tools.com/from-jane-2", "p2", ("ugc",), ("ugc",)),
    _doc(f"{S}/bad/malformed.html", "https://acme-tools.com/malformed", "unclosed bold"),
    _doc(f"{S}/bad/malformed.html", "https://acme-tools.com/m2", "m2"),
    _doc(f"{S}/bad/cp1252.html", "https://acme-tools.com/cafe", "Café “quoted”"),
    _doc(f"{S}/bad/meta-charset.html", "https://acme-tools.com/meta-charset", "Grüße"),
    _doc(f"{S}/bad/after.html", "https://acme-tools.com/survivor", "still crawling"),
}
