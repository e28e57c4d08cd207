"""A test web for relevance and toxicity, on text nobody here wrote.

The target, ``pydocs.org``, serves pages of Python's tutorial (python3.11-doc).
Referring sites each serve one real page of Debian's documentation packages with
a link into the target inserted into its main text: ``PYTHON`` sites pages of
Python's HOWTOs, ``OTHER`` sites pages of PostgreSQL's and Apache httpd's
manuals. Topical ground truth by construction: a Python referrer is relevant, the
others are not.

Besides: ``anna-codes.com``, an honest blog whose article links from its body,
and ``NETWORK``, a dozen thin casino sites whose footers link to the target with
an exact-match anchor and to each other on every page: a private blog network.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from backlinkspider.demo.proxy import Response, html
from tests.support.debian_docs import debian_docs

TARGET = "pydocs.org"
T = f"http://{TARGET}"
KEYWORD = "python tutorial"
TUTORIAL = ["introduction", "controlflow", "datastructures", "modules", "classes", "errors", "inputoutput", "stdlib"]

# referring domain -> (package, page inside its HTML, target page linked)
PYTHON = {
    f"python-notes-{n}.com": ("python3.11-doc", page, f"{T}/tutorial/{TUTORIAL[n % 8]}.html")
    for n, page in enumerate(
        [
            "howto/sorting.html",
            "howto/logging.html",
            "howto/argparse.html",
            "howto/unicode.html",
            "library/dataclasses.html",
            "library/weakref.html",
            "library/functools.html",
            "library/zipapp.html",
        ]
    )  # fmt: skip
}
OTHER = {
    **{
        f"pg-notes-{n}.com": ("postgresql-doc-15", f"{page}.html", f"{T}/tutorial/{TUTORIAL[n % 8]}.html")
        for n, page in enumerate(
            [
                "ddl-basics",
                "indexes-intro",
                "queries-with",
                "sql-createtable",
                "tutorial-advanced",
                "tutorial-accessdb",
                "functions-string",
                "datatype-numeric",
            ]
        )  # fmt: skip
    },
    **{
        f"httpd-notes-{n}.com": ("apache2-doc", f"en/{page}.html", f"{T}/tutorial/{TUTORIAL[n % 8]}.html")
        for n, page in enumerate(
            [
                "howto/htaccess",
                "howto/auth",
                "howto/cgi",
                "howto/ssi",
                "howto/reverse_proxy",
                "howto/access",
                "bind",
                "caching",
            ]
        )  # fmt: skip
    },
}
# One Python referrer links to a tutorial page the target site never serves: only the site is known.
UNKNOWN_PAGE = f"{T}/tutorial/not-written-yet.html"
PYTHON["python-notes-7.com"] = (*PYTHON["python-notes-7.com"][:2], UNKNOWN_PAGE)

HONEST = "anna-codes.com"
NETWORK = [f"casino-bonus-{n}.net" for n in range(1, 13)]
NETWORK_PAGES = ["/", "/p2.html"]
SEEDS = [f"http://{d}/" for d in [*PYTHON, *OTHER, HONEST, *NETWORK]]


def _insert(page: str, snippet: str) -> str:
    """``snippet`` at the start of the page's main text (Sphinx's ``role="main"``), else before ``</body>``."""
    marker = 'role="main">'
    if marker in page:
        return page.replace(marker, marker + snippet, 1)
    return page.replace("</body>", snippet + "</body>", 1)


@cache
def _doc(package: str, path: str) -> str:
    return (debian_docs(package) / path).read_text("utf-8", errors="replace")


def _referrer(package: str, path: str, target: str) -> str:
    return _insert(_doc(package, path), f'<p>Further reading: <a href="{target}">a page we like</a>.</p>')


_CASINO = (
    "Best online casino bonus today. Free spins and no deposit bonus at the top online casino. "
    "Play poker and roulette, win the jackpot. Casino casino casino."
)


def _network_page(domain: str, path: str) -> str:
    others = "".join(f'<a href="http://{d}/">{d}</a> ' for d in NETWORK if d != domain)
    other_page = NETWORK_PAGES[1] if path == "/" else "/"
    return (
        f"<html><head><title>Online casino bonus | {domain}</title></head><body>"
        f"<main><h1>Online casino</h1><p>{_CASINO}</p><a href='{other_page}'>more</a></main>"
        f'<footer class="site-footer"><a href="{T}/">{KEYWORD}</a> {others}</footer></body></html>'
    )


def _target_home() -> str:
    links = "".join(f'<li><a href="/tutorial/{page}.html">{page}</a></li>' for page in TUTORIAL)
    return (
        "<html><head><title>Python docs</title></head>"
        f"<body><main><h1>The tutorial</h1><ul>{links}</ul></main></body></html>"
    )


def _honest() -> str:
    article = _doc("python3.11-doc", "howto/ipaddress.html")
    return _insert(
        article,
        f'<p>I learnt all of this from <a href="{T}/tutorial/classes.html">the classes chapter</a>, '
        "and so can you.</p>",
    )


def resolve(host: str, path: str) -> Response | None:
    if host == TARGET:
        if path == "/":
            return html(_target_home())
        name = path.removeprefix("/tutorial/").removesuffix(".html")
        if path.startswith("/tutorial/") and name in TUTORIAL:
            return html(_doc("python3.11-doc", f"tutorial/{name}.html"))
        return None
    for sites in (PYTHON, OTHER):
        if host in sites and path == "/":
            return html(_referrer(*sites[host]))
    if host == HONEST and path == "/":
        return html(_honest())
    if host in NETWORK and path in NETWORK_PAGES:
        return html(_network_page(host, path))
    return None


def available() -> bool:
    """Whether the three documentation packages are here (or can be fetched)."""
    try:
        return all(Path(debian_docs(p)).is_dir() for p in ("python3.11-doc", "postgresql-doc-15", "apache2-doc"))
    except Exception:
        return False
