"""A test web for where backlinks sit: placement, hidden, context, sitewide, language.

``www.garden-review.org`` links to acme-tools.com from every part of a page: its
header, nav, an article's body and the article's own header and footer, a
comment, a sidebar, the site footer, plus a link hidden by an inline style and
one with no anchor. ``www.footer-farm.net`` has ``FARM_PAGES`` pages whose
footer links to acme-tools.com on every one, and to other-shop.com on two.
``EXPECTED`` is what a crawl with both targets must store, field for field.
"""

from __future__ import annotations

from backlinkspider.demo.proxy import Response, html

SEEDS = ["http://www.garden-review.org/", "http://www.footer-farm.net/"]
TARGETS = "acme-tools.com,other-shop.com"
G = "http://www.garden-review.org"
F = "http://www.footer-farm.net"
A = "http://acme-tools.com"
FARM_PAGES = 12

REVIEW = f"""<!DOCTYPE html>
<html lang="en-GB"><head><title>The best spades of 2026</title></head>
<body class="home has-sidebar comments-open">
<header class="site-header"><a href="/">Garden Review</a>
  <a href="{A}/from-header">Acme Tools</a></header>
<nav id="mainNav"><ul><li><a href="{A}/from-nav">Shop</a></li>
  <li><a href="/about.html">About</a></li></ul></nav>
<main>
<article>
  <header class="entry-header"><h1>Our review</h1>
    <p>By Jane, with thanks to <a href="{A}/from-article-header">Acme</a> for the loan.</p></header>
  <p>We tested a dozen spades this spring. The <a href="{A}/spades">Acme <b>border</b>
     spade</a> was the sharpest of them all, and it kept its edge through heavy clay soil all
     season long without a single sharpening.</p>
  <p style="color: red; DISPLAY : none !important"><a href="{A}/hidden">cheap spades</a></p>
  <p>Empty: <a href="{A}/empty"></a></p>
  <div class="navigator">A navigator is not a nav: <a href="{A}/navigator">garden shears</a></div>
  <footer class="entry-footer">Filed under tools. <a href="{A}/from-article-footer">acme-tools.com</a></footer>
</article>
<section id="comments"><ol class="commentlist"><li class="comment">
  <p>Great review! I bought mine at <a href="{A}/from-comment" rel="ugc">this shop</a>.</p>
</li></ol></section>
</main>
<aside class="widget-area"><a href="{A}/from-aside">Our sponsor</a></aside>
<footer id="colophon" class="site-footer"><a href="{A}/from-footer">click here</a></footer>
</body></html>"""

PAGES: dict[tuple[str, str], Response] = {
    ("www.garden-review.org", "/"): html(REVIEW),
    ("www.garden-review.org", "/about.html"): html("<html><body><p>One two three four.</p></body></html>"),
    # No <html lang>, no Content-Language: detected from the text.
    ("www.footer-farm.net", "/"): html(
        "<html><body><main><p>Dieser Garten ist sehr schön und wir pflanzen jedes Jahr im Frühling "
        "neue Blumen, Kräuter und Gemüse an.</p>"
        + "".join(f'<a href="/p{n}.html">Seite {n}</a> ' for n in range(1, FARM_PAGES))
        + f'<p>Unser Werkzeug: <a href="{A}/one-off">Spaten</a></p></main>'
        f'<footer><a href="{A}/">Powered by Acme</a></footer></body></html>'
    ),
}
for _n in range(1, FARM_PAGES):
    _other = '<a href="http://other-shop.com/">other shop</a>' if _n <= 2 else ""
    PAGES[("www.footer-farm.net", f"/p{_n}.html")] = html(
        f"<html><body><p>Seite {_n}.</p>{_other}<footer><a href='{A}/'>Powered by Acme</a></footer></body></html>",
        headers=[("Content-Language", "de-DE, en")],
    )


def resolve(host: str, path: str) -> Response | None:
    return PAGES.get((host, path))


_SPADE_AFTER = "was the sharpest of them all, and it kept its edge through heavy clay soil all"

# target URL -> (referring page, anchor, placement, hidden, context before, context after, sitewide)
EXPECTED = {
    f"{A}/from-header": (f"{G}/", "Acme Tools", "header", False, "Garden Review", "", False),
    f"{A}/from-nav": (f"{G}/", "Shop", "nav", False, "", "", False),
    f"{A}/from-article-header": (f"{G}/", "Acme", "content", False, "By Jane, with thanks to", "for the loan.", False),
    f"{A}/spades": (
        f"{G}/",
        "Acme border spade",
        "content",
        False,
        "We tested a dozen spades this spring. The",
        _SPADE_AFTER,
        False,
    ),
    f"{A}/hidden": (f"{G}/", "cheap spades", "content", True, "", "", False),
    f"{A}/empty": (f"{G}/", "", "content", True, "Empty:", "", False),
    f"{A}/navigator": (f"{G}/", "garden shears", "content", False, "A navigator is not a nav:", "", False),
    f"{A}/from-article-footer": (f"{G}/", "acme-tools.com", "content", False, "Filed under tools.", "", False),
    f"{A}/from-comment": (f"{G}/", "this shop", "comment", False, "Great review! I bought mine at", ".", False),
    f"{A}/from-aside": (f"{G}/", "Our sponsor", "aside", False, "", "", False),
    f"{A}/from-footer": (f"{G}/", "click here", "footer", False, "", "", False),
    f"{A}/one-off": (f"{F}/", "Spaten", "content", False, "Unser Werkzeug:", "", True),
}
