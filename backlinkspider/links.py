"""HTML -> links, with the rules a browser and a search engine apply.

Parsing uses selectolax's Lexbor engine, an HTML5 parser that builds the same
tree a browser does: links inside comments or ``<script>`` text are not elements,
unclosed tags are mended as browsers mend them, and there is no per-link
selector object. ``bench/extract.py`` measures it against Scrapy's
``LinkExtractor``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser

from backlinkspider.items import Link
from backlinkspider.robots_meta import META_NAMES, meta_directives
from backlinkspider.urls import canonicalize, canonicalize_with_host

_REL_SPLIT = re.compile(r"[\s,]+")


@dataclass(slots=True)
class ExtractedPage:
    title: str = ""
    directives: set[str] = field(default_factory=set)  # from robots meta tags
    links_found: int = 0  # <a>/<area> elements with an href
    links: list[Link] = field(default_factory=list)  # the http(s) ones


def collapse(text: str) -> str:
    """Collapse runs of white space (NBSP included) to one space and strip."""
    return " ".join(text.split())


def rel_tokens(rel: str) -> list[str]:
    """Distinct lower-case tokens of a rel attribute, split on white space and commas."""
    return list(dict.fromkeys(t for t in _REL_SPLIT.split(rel.lower()) if t))


def extract(html: str, url: str) -> ExtractedPage:
    """Extract the title, robots meta directives and http(s) links of a page.

    ``url`` is the page's final URL; links resolve against the first
    ``<base href>`` when the page has one, as browsers do.
    """
    tree = LexborHTMLParser(html)
    page = ExtractedPage()

    base = url
    base_node = tree.css_first("base[href]")
    if base_node is not None:
        base = canonicalize(base_node.attributes.get("href") or "", url) or url

    title = tree.css_first("title")
    if title is not None:
        page.title = collapse(title.text())

    for meta in tree.css("meta[name]"):
        name = (meta.attributes.get("name") or "").strip().lower()
        if name in META_NAMES:
            page.directives |= meta_directives(meta.attributes.get("content") or "")

    for node in tree.css("a[href], area[href]"):
        page.links_found += 1
        attrs = node.attributes
        found = canonicalize_with_host(attrs.get("href") or "", base)
        if found is None:  # mailto:, javascript:, tel:, data:, broken
            continue
        if node.tag == "area":  # an image-map region: its alt is its anchor
            anchor, kind = collapse(attrs.get("alt") or ""), "image"
        else:
            anchor, kind = collapse(node.text(deep=True)), "text"
            if not anchor:
                images = node.css("img")
                if images:
                    kind = "image"
                    anchor = collapse(" ".join(i.attributes.get("alt") or "" for i in images))
        link = Link(found[0], anchor, rel_tokens(attrs.get("rel") or ""), kind, host=found[1])
        page.links.append(link)
    return page
