"""Placement and hidden: each clause of ``backlinkspider.layout``, and real Sphinx pages."""

from __future__ import annotations

import subprocess

import pytest

from backlinkspider.links import extract
from backlinkspider.urls import registered_domain
from tests.support.debian_docs import debian_docs, python_docs

T = "http://target.example/"


def where(body: str) -> tuple[str, bool]:
    """``(placement, hidden)`` of the one link to ``T`` in ``body``."""
    page = extract(f"<!DOCTYPE html><html><body>{body}</body></html>", "http://site.example/")
    (link,) = [link for link in page.links if link.url == T]
    return link.placement, link.hidden


A = f'<a href="{T}">link</a>'


@pytest.mark.parametrize(
    ("body", "placement"),
    [
        (f"<p>{A}</p>", "content"),
        # comment
        (f'<div id="comments"><p>{A}</p></div>', "comment"),
        (f'<ol class="comment-list"><li>{A}</li></ol>', "comment"),
        (f'<div id="respond">{A}</div>', "comment"),
        (f'<div id="disqus_thread">{A}</div>', "comment"),
        (f'<div itemprop="comment"><p>{A}</p></div>', "comment"),
        (f'<div itemtype="https://schema.org/Comment">{A}</div>', "comment"),
        (f'<div itemtype="http://schema.org/UserComments">{A}</div>', "comment"),
        (f'<article class="comment"><footer class="comment-meta">{A}</footer></article>', "comment"),
        # nav
        (f"<nav><ul><li>{A}</li></ul></nav>", "nav"),
        (f'<div role="navigation">{A}</div>', "nav"),
        (f'<div id="mainNav">{A}</div>', "nav"),
        (f'<ul class="menu-items">{A}</ul>', "nav"),
        (f'<div class="navbar-collapse">{A}</div>', "nav"),
        (f'<ol class="breadcrumb">{A}</ol>', "nav"),
        (f'<div class="navheader"><table><tr><td>{A}</td></tr></table></div>', "nav"),  # DocBook
        (f'<div class="navfooter">{A}</div>', "nav"),
        (f'<div id="sitefooter">{A}</div>', "footer"),
        (f'<div class="navigator">{A}</div>', "content"),  # whole tokens: navigator is not nav
        (f'<div class="menus_and_more">{A}</div>', "content"),  # nor menus
        # header and footer, outside article/main
        (f"<header>{A}</header>", "header"),
        (f'<div role="banner">{A}</div>', "header"),
        (f'<div class="site-header">{A}</div>', "header"),
        (f'<div id="masthead">{A}</div>', "header"),
        (f"<footer><p>{A}</p></footer>", "footer"),
        (f'<div role="contentinfo">{A}</div>', "footer"),
        (f'<div id="siteFooter">{A}</div>', "footer"),
        (f'<div class="footer_2">{A}</div>', "footer"),
        (f'<div id="colophon">{A}</div>', "footer"),
        # an article's own header and footer are content
        (f"<article><header>{A}</header></article>", "content"),
        (f"<main><footer>{A}</footer></main>", "content"),
        (f'<div role="main"><div class="post-footer">{A}</div></div>', "content"),
        (f'<div role="article"><header>{A}</header></div>', "content"),
        # <main> is the content, whatever wraps it
        (f'<div class="content-sidebar-wrap"><main class="content"><p>{A}</p></main><aside>x</aside></div>', "content"),
        (f'<div class="has-sidebar"><div role="main"><p>{A}</p></div></div>', "content"),
        (f'<div id="footer"><main>{A}</main></div>', "content"),
        (f'<main><div class="widget">{A}</div></main>', "aside"),  # below main, regions still count
        # aside
        (f"<aside>{A}</aside>", "aside"),
        (f'<div role="complementary">{A}</div>', "aside"),
        (f'<div id="sidebar">{A}</div>', "aside"),
        (f'<section class="widget">{A}</section>', "aside"),
        # nearest first
        (f"<footer><nav>{A}</nav></footer>", "nav"),
        (f'<nav><div class="sidebar">{A}</div></nav>', "aside"),
        (f'<div id="comments"><nav>{A}</nav></div>', "nav"),
        (f'<aside><div class="comment">{A}</div></aside>', "comment"),
        # one element, several clauses: comment, nav, header/footer, aside in that order
        (f'<div class="footer-menu">{A}</div>', "nav"),
        (f'<div class="sidebar-comments">{A}</div>', "comment"),
        (f'<div class="footer-widgets">{A}</div>', "footer"),
        # <html> and <body> classes describe the whole page
        (f'<div>{A}</div><script>document.body.className="x"</script>', "content"),
    ],
)
def test_placement(body, placement):
    assert where(body)[0] == placement


def test_body_classes_do_not_place_links():
    page = extract(
        f'<html class="nav-open"><body class="has-sidebar comments-open">{A}</body></html>', "http://s.example/"
    )
    assert page.links[0].placement == "content"


@pytest.mark.parametrize(
    ("body", "hidden"),
    [
        (f"<p>{A}</p>", False),
        (f"<p hidden>{A}</p>", True),
        (f'<a href="{T}" hidden>link</a>', True),
        (f'<div style="display:none"><p>{A}</p></div>', True),
        (f'<div style="DISPLAY : None !important">{A}</div>', True),
        (f'<a href="{T}" style="visibility: hidden">link</a>', True),
        (f'<span style="font-size:0px">{A}</span>', True),
        (f'<span style="font-size:0.8em">{A}</span>', False),
        (f'<span style="opacity: 0">{A}</span>', True),
        (f'<span style="opacity:0.5">{A}</span>', False),
        (f'<div style="text-indent:-9999px">{A}</div>', True),
        (f'<div style="text-indent:-2em">{A}</div>', False),  # a hanging indent
        (f'<div style="position:absolute;left:-5000px">{A}</div>', True),
        (f'<div style="margin-left:-100%">{A}</div>', True),
        (f'<div style="position:absolute;clip:rect(0 0 0 0)">{A}</div>', True),
        (f'<div style="height:0;overflow:hidden">{A}</div>', True),
        (f'<div style="height:0">{A}</div>', False),
        (f'<div style="color:#fff; background: white">{A}</div>', False),  # needs CSS: not judged
        (f'<div class="menu d-none">{A}</div>', True),
        (f'<a href="{T}" class="screen-reader-text">link</a>', True),
        (f'<span class="sr-only">{A}</span>', True),
        (f'<div class="hidden-xs">{A}</div>', False),  # hidden on phones only
        (f'<div class="unhidden">{A}</div>', False),
        (f"<noscript>{A}</noscript>", True),
        (f'<a href="{T}"></a>', True),  # nothing to click on
        (f'<a href="{T}"> &nbsp; </a>', True),
        (f'<a href="{T}"><img src="x.png"></a>', False),  # an image, even without alt
        (f'<map><area href="{T}" alt=""></map>', False),
    ],
)
def test_hidden(body, hidden):
    assert where(body)[1] is hidden


def test_deep_nesting_does_not_recurse():
    body = "<div>" * 5000 + '<footer class="site-footer">' + "<span>" * 5000 + A
    assert where(body) == ("footer", False)


# --- Real pages: Debian's python3.11-doc (Sphinx's classic theme), checked by hand once.


def _fetched(fetch, name: str):
    try:
        return fetch()
    except (OSError, subprocess.CalledProcessError) as exc:  # no package sources on this machine
        pytest.skip(f"{name} cannot be fetched: {exc}")


@pytest.fixture(scope="module")
def docs():
    return _fetched(python_docs, "python3.11-doc")


def test_sphinx_theme_nav_footer_aside_and_content(docs):
    url = "https://docs.python.org/3.11/library/json.html"
    page = extract((docs / "library/json.html").read_bytes(), url)
    placed = {(link.url, link.anchor): link.placement for link in page.links}
    # The related bar and the sidebar are role="navigation".
    assert placed[("https://docs.python.org/3.11/genindex.html", "index")] == "nav"
    assert placed[("https://docs.python.org/3.11/py-modindex.html", "modules")] == "nav"
    assert (
        placed[
            ("https://docs.python.org/3.11/library/mailbox.html", "mailbox — Manipulate mailboxes in various formats")
        ]
        == "nav"
    )
    assert placed[("https://github.com/python/cpython/blob/3.11/Doc/library/json.rst", "Show Source")] == "nav"
    # div.footer
    assert placed[("https://www.sphinx-doc.org/", "Sphinx")] == "footer"
    assert placed[("https://www.python.org/psf/donations/", "Please donate.")] == "footer"
    assert placed[("https://docs.python.org/3.11/copyright.html", "Copyright")] == "footer"
    # The body (role="main"), and its footnotes (<aside class="footnote">).
    assert placed[("https://json.org/", "JSON (JavaScript Object Notation)")] == "content"
    assert placed[("https://datatracker.ietf.org/doc/html/rfc7159.html", "RFC 7159")] == "content"
    assert placed[("https://www.rfc-editor.org/errata_search.php?rfc=7159", "the errata for RFC 7159")] == "aside"
    assert not any(link.hidden for link in page.links)
    json_org = next(link for link in page.links if link.url == "https://json.org/")
    assert (json_org.context_before, json_org.context_after[:34]) == ("", ", specified by RFC 7159 (which obs")


def test_sphinx_pages_external_links_by_placement(docs):
    """Across a handful of pages, crawl mode (details for external links only)."""
    found: dict[str, set[str]] = {}
    for name in ("library/json.html", "library/urllib.request.html", "howto/urllib2.html", "tutorial/index.html"):
        url = f"https://docs.python.org/3.11/{name}"
        page = extract((docs / name).read_bytes(), url, wants=lambda host: registered_domain(host) != "python.org")
        assert page.lang == "en" and page.words > 500
        for link in page.links:
            found.setdefault(link.placement, set()).add(link.url.split("/")[2])
    assert found["footer"] == {"www.sphinx-doc.org"}
    assert found["nav"] == {"github.com"}  # "Show Source" in the sidebar
    assert {"datatracker.ietf.org", "json.org", "requests.readthedocs.io"} <= found["content"]
    assert set(found) == {"content", "nav", "footer", "aside"}


def test_docbook_nav_bars_and_apache_manual_header_and_footer():
    """PostgreSQL's manual (DocBook) and Apache httpd's, checked by hand once."""
    pg = _fetched(lambda: debian_docs("postgresql-doc-15"), "postgresql-doc-15")
    page = extract((pg / "sql-select.html").read_bytes(), "https://www.postgresql.org/docs/15/sql-select.html")
    placed = {(link.anchor, link.placement) for link in page.links}
    assert {("Prev", "nav"), ("Up", "nav"), ("Home", "nav"), ("Next", "nav")} <= placed  # navheader, navfooter
    assert ("WITH Clause", "content") in placed  # the synopsis' table of contents
    assert {p for _, p in placed} == {"nav", "content"}

    httpd = _fetched(lambda: debian_docs("apache2-doc"), "apache2-doc")
    url = "https://httpd.apache.org/docs/2.4/bind.html"
    page = extract((httpd / "en" / "bind.html").read_bytes(), url)
    placed = {(link.url, link.placement) for link in page.links}
    assert ("https://httpd.apache.org/docs/2.4/mod/index.html", "nav") in placed  # p.menu in #page-header
    assert ("https://www.apache.org/licenses/LICENSE-2.0", "footer") in placed  # #footer
    assert ("https://httpd.apache.org/docs/2.4/bind.html", "content") in placed  # its own table of contents
    assert {p for _, p in placed} == {"nav", "content", "footer"}
