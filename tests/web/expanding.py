"""A web that goes on past its seed: sites at one, two and three hops, for ``-a expand``.

::

    seed-home.com (hop 0) ──> hop1-news.com ──> hop2-blog.net ──> hop3-far.org
          │                    (links acme-tools.com)
          ├──> hop1-big.com: 40 pages in a chain (DISCOVERED_SITE_PAGE_LIMIT)
          ├──> 192.168.7.7 (a private address: refused)
          └──> acme-tools.com (the target: never expanded into)

Every page of every site is served; ``PAGES`` tells the tests what a crawl reached.
"""

from __future__ import annotations

from backlinkspider.demo.proxy import Response, html

SEED = "http://seed-home.com/"
TARGET = "acme-tools.com"
BIG_PAGES = 40


def _page(title: str, *links: str) -> Response:
    pairs = (link.split(" ", 1) for link in links)
    anchors = " ".join(f'<p>See <a href="{href}">{text}</a> for more.</p>' for href, text in pairs)
    return html(f"<html><head><title>{title}</title></head><body><main><h1>{title}</h1>{anchors}</main></body></html>")


PAGES: dict[tuple[str, str], Response] = {
    ("seed-home.com", "/"): _page(
        "Seed home",
        "/about about",
        "http://hop1-news.com/story story",
        "http://hop1-big.com/ big",
        "http://192.168.7.7/admin router",
        "https://acme-tools.com/ acme",
    ),
    ("seed-home.com", "/about"): _page("About", "/ home"),
    ("hop1-news.com", "/story"): _page(
        "Story", "https://acme-tools.com/drills drills", "http://hop2-blog.net/post post", "/ home"
    ),
    ("hop1-news.com", "/"): _page("News home", "/story story"),
    ("hop2-blog.net", "/post"): _page("Post", "https://acme-tools.com/saws saws", "http://hop3-far.org/ far"),
    ("hop2-blog.net", "/"): _page("Blog home", "/post post"),
    ("hop3-far.org", "/"): _page("Far", "https://acme-tools.com/far far"),
    ("acme-tools.com", "/"): _page("Acme", "/drills drills"),
    **{("hop1-big.com", "/" if n == 0 else f"/p{n}"): _page(f"Big {n}", f"/p{n + 1} next") for n in range(BIG_PAGES)},
}


def resolve(host: str, path: str) -> Response | None:
    if path.endswith("/robots.txt"):
        return Response(404, b"")
    return PAGES.get((host, path.split("?", 1)[0]))
