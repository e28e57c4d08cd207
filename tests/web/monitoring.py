"""A test web that changes between crawls, for lost, recovered and broken backlinks.

``MonitoredWeb.stage`` 1 is the web as first crawled; stage 2 removes and adds
links, deletes, redirects, breaks and noindexes pages, changes a rel and makes
a target page 404. Going back to stage 1 brings everything back. Everything is
``http://``: the test proxy serves plain HTTP only.
"""

from __future__ import annotations

from backlinkspider.demo.proxy import Response, html, redirect

SEED = "http://www.news-site.com/"
TARGET = "acme-tools.com"
N = "http://www.news-site.com"
A = "http://acme-tools.com"


def _page(*links: tuple[str, str, str]) -> Response:
    return html("".join(f'<a href="{href}" rel="{rel}">{text}</a>\n' for href, text, rel in links))


def _news(stage: int) -> dict[str, Response]:
    pages = {
        "/a.html": _page(
            (f"{A}/pricing", "Pricing", ""),
            (f"{A}/blog", "Blog", ""),
            (f"{A}/old-page", "Old", ""),
            (f"{A}/private-area", "Private", ""),
            (f"{A}/slow", "Slow", ""),
            ("http://sho.rt/x1", "short link", ""),
            ("http://sho.rt/x2", "elsewhere", ""),
            ("http://other-news.net/", "other", ""),
        ),
        "/b.html": _page((f"{A}/features", "Features", "")),
        "/c.html": _page((f"{A}/docs", "Docs", "")),
        "/d.html": _page((f"{A}/about", "About", "")),
        "/e.html": _page((f"{A}/contact", "Contact", "")),
        "/f.html": _page((f"{A}/team", "Team", "")),
        "/g.html": _page((f"{A}/careers", "Careers", "")),
        "/h.html": _page((f"{A}/partners", "Partners", "")),
    }
    home = ["a", "b", "c", "d", "e", "f", "g", "h"]
    if stage == 2:
        home.remove("h")  # still there, but only a recrawl finds it
        pages["/a.html"] = _page(
            (f"{A}/pricing", "Pricing", ""),
            (f"{A}/blog", "Blog", ""),
            (f"{A}/new", "New", ""),
            (f"{A}/private-area", "Private", ""),
            (f"{A}/slow", "Slow", ""),
            ("http://sho.rt/x1", "short link", ""),
            ("http://sho.rt/x2", "elsewhere", ""),
            ("http://other-news.net/", "other", ""),
        )
        pages["/b.html"] = _page((f"{A}/features", "Features", "sponsored"))
        del pages["/c.html"]  # 404
        pages["/d.html"] = redirect("/d2.html")
        pages["/d2.html"] = _page((f"{A}/about", "About", ""))
        pages["/e.html"] = html("down for maintenance", status=503)
        pages["/f.html"] = html(f'<meta name="robots" content="noindex"><a href="{A}/team">Team</a>')
        pages["/g.html"] = redirect("http://other-news.net/moved")
    pages["/"] = html("".join(f'<a href="/{p}.html">{p}</a>\n' for p in home))
    return pages


def _acme(stage: int) -> dict[str, Response]:
    ok = html("acme")
    pages = {
        f"/{p}": ok
        for p in (
            "pricing",
            "features",
            "docs",
            "about",
            "contact",
            "team",
            "careers",
            "partners",
            "new",
            "new-page",
            "promo",
            "private-area",
        )
    }
    pages["/blog"] = Response(200, b"acme blog", [("Content-Type", "text/html")], head_status=405)
    pages["/old-page"] = redirect("/new-page")
    pages["/slow"] = Response(200, b"slow", [("Content-Type", "text/html")], delay=30.0)
    pages["/robots.txt"] = Response(200, b"User-agent: *\nDisallow: /private-area\n", [("Content-Type", "text/plain")])
    if stage == 2:
        pages["/pricing"] = html("gone", status=404)
    return pages


class MonitoredWeb:
    """A resolver for ``WebProxy`` whose pages depend on ``stage``."""

    def __init__(self):
        self.stage = 1

    def __call__(self, host: str, path: str) -> Response | None:
        if host == "www.news-site.com":
            return _news(self.stage).get(path)
        if host == "acme-tools.com":
            return _acme(self.stage).get(path)
        if host == "sho.rt":
            return {"/x1": redirect(f"{A}/promo"), "/x2": redirect("http://other-site.net/")}.get(path)
        if host in ("other-news.net", "other-site.net"):
            return html("elsewhere")
        return None
