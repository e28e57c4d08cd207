"""HTML -> links, with the rules a browser and a search engine apply.

Parsing uses selectolax's Lexbor engine, an HTML5 parser that builds the same
tree a browser does: links inside comments or ``<script>`` text are not elements,
unclosed tags are mended as browsers mend them, and there is no per-link
selector object. ``bench/extract.py`` measures it against Scrapy's
``LinkExtractor``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser, LexborNode

from backlinkspider.items import Link
from backlinkspider.language import SAMPLE_CHARS
from backlinkspider.layout import Layout, element_placement
from backlinkspider.link_context import around
from backlinkspider.robots_meta import META_NAMES, meta_directives
from backlinkspider.urls import INVALID, document_base, resolver

_REL_SPLIT = re.compile(r"[\s,]+")
_NO_REL: tuple[str, ...] = ()


@dataclass(slots=True)
class ExtractedPage:
    title: str = ""
    directives: set[str] = field(default_factory=set)  # from robots meta tags
    links_found: int = 0  # <a>/<area> elements with an href
    invalid_urls: int = 0  # of those, hrefs the URL parser rejects: not links at all
    links: list[Link] = field(default_factory=list)  # the http(s) ones (the wanted ones)
    others: list[tuple[str, str]] = field(default_factory=list)  # (url, host) of the rest
    lang: str = ""  # <html lang>, as written
    words: int = 0  # words of visible text
    text: str = ""  # the start of the visible text (language.SAMPLE_CHARS), for language detection
    main_text: str = ""  # the text of the main content (see main_text), for term counts


#: characters of an anchor that are kept: anchors are part of a backlink's key, and a
#: 1 MB "anchor" is an attack or a broken page, not link text.
MAX_ANCHOR = 1000


def collapse(text: str) -> str:
    """Collapse runs of white space (NBSP included) to one space and strip; at most ``MAX_ANCHOR``."""
    collapsed = " ".join(text.split())
    return collapsed if len(collapsed) <= MAX_ANCHOR else collapsed[:MAX_ANCHOR].rstrip()


# Elements whose text a reader never sees as text: code, styles, the no-script
# fallback (the crawler parses as a browser with scripts on would show the page),
# and inert templates.
_UNSEEN_TAGS = frozenset({"script", "style", "noscript", "template"})


def visible_text(node: LexborNode) -> str:
    """The text of ``node``'s descendants a reader sees: without script, style,
    noscript and template contents (JSON-LD, tracking code, CSS are not anchor text)."""
    first = node.child
    if first is None or (first.next is None and first.tag == "-text"):  # most links: plain text
        return node.text(deep=True)
    if not any(child.tag in _UNSEEN_TAGS for child in node.traverse()):  # faster than a selector
        return node.text(deep=True)
    parts: list[str] = []
    stack = [node.iter(include_text=True)]  # no recursion: hostile pages nest deeply
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
        elif child.tag == "-text":
            parts.append(child.text(deep=False))
        elif child.tag not in _UNSEEN_TAGS:
            stack.append(child.iter(include_text=True))
    return "".join(parts)


def rel_tokens(rel: str) -> tuple[str, ...]:
    """Distinct lower-case tokens of a rel attribute, split on white space and commas."""
    return tuple(dict.fromkeys(t for t in _REL_SPLIT.split(rel.lower()) if t))


def markup(response) -> str | bytes:
    """What to hand the parser: a UTF-8 body as it is, anything else decoded.

    Lexbor parses UTF-8 natively and re-encodes a str to UTF-8 first, so most
    of the web skips a decode and an encode; other encodings (header, BOM or
    ``<meta charset>``, as Scrapy detects them) are decoded by Scrapy.
    """
    if response.encoding in _UTF8:
        return response.body
    return response.text


_UTF8 = frozenset({"utf-8"})


def _per_host(wants: Callable[[str], bool]) -> Callable[[str], bool]:
    decided: dict[str, bool] = {}

    def cached(host: str) -> bool:
        answer = decided.get(host)
        if answer is None:
            answer = decided[host] = wants(host)
        return answer

    return cached


def extract(html: str | bytes, url: str, wants: Callable[[str], bool] | None = None) -> ExtractedPage:
    """Extract the title, robots meta directives, http(s) links and visible text of a page.

    ``html`` is text, or UTF-8 bytes (see :func:`markup`). ``wants(host)``, if
    given, says which links can be stored: only those get anchor, rel, kind,
    placement, hidden and context (``links``); the rest are only resolved, for
    following (``others``). Most links of a page point inside its own site, and
    a crawl stores none of them unless they point into a target, so this skips
    most of the per-link work.
    ``url`` is the page's final URL in canonical form (:func:`canonicalize`,
    which always gives a path to resolve against); links resolve against the
    document's base URL: the first ``<base href>`` anywhere in the document,
    itself resolved against ``url``, as the HTML Standard says.
    """
    tree = LexborHTMLParser(html)
    page = ExtractedPage()

    # <title> and robots <meta> count only in <head>: one walk of a small subtree.
    head = tree.head
    for node in head.css("title, meta[name]") if head is not None else ():
        if node.tag == "title":
            if not page.title:
                page.title = collapse(node.text())
        elif (node.attrs.get("name") or "").strip().lower() in META_NAMES:
            page.directives |= meta_directives(node.attrs.get("content") or "")

    # One walk of the whole tree finds the links, the first <base href>, wherever it is,
    # and the elements whose text a reader never sees (left out of the page's text).
    base = None
    nodes: list[LexborNode] = []
    unseen: list[LexborNode] = []
    for node in tree.css(_WALK):
        tag = node.tag
        if tag == "a" or tag == "area":
            nodes.append(node)
        elif tag == "base":
            if base is None:
                base = document_base(node.attrs.get("href") or "", url)
        else:
            unseen.append(node)
    page.links_found = len(nodes)

    resolve = resolver(base or url)
    layout = Layout()
    append = page.links.append
    other = page.others.append
    if wants is not None:  # a page links to few hosts: ask once per host
        wants = _per_host(wants)
    for node in nodes:
        attrs = node.attrs  # lazy: reads only the attributes asked for
        found = resolve(attrs.get("href") or "")
        if not found:  # mailto:, javascript:, tel:, data: (None), or no URL at all (INVALID)
            if found is INVALID:
                page.invalid_urls += 1
            continue
        if wants is not None and not wants(found[1]):
            other(found)
            continue
        if node.tag == "area":  # an image-map region: its alt is its anchor
            anchor, kind = collapse(attrs.get("alt") or ""), "image"
        else:
            anchor, kind = collapse(visible_text(node)), "text"
            if not anchor:
                images = node.css("img")
                if images:
                    kind = "image"
                    anchor = collapse(" ".join(i.attrs.get("alt") or "" for i in images))
        rel = attrs.get("rel")
        placement, hidden = layout.link(node, attrs, anchor, kind)
        before, after = around(node)
        append(Link(found[0], anchor, rel_tokens(rel) if rel else _NO_REL, kind, found[1], "", placement, hidden,
                    before, after))  # fmt: skip
    _read_text(tree, page, unseen)
    return page


_WALK = "base[href], a[href], area[href], " + ", ".join(sorted(_UNSEEN_TAGS))


def _read_text(tree: LexborHTMLParser, page: ExtractedPage, unseen: list[LexborNode]) -> None:
    """The page's language tag, word count and the start of its text.

    Removes ``unseen`` (script, style… in document order) from the tree, so it comes
    last; innermost first, so no node is removed after its parent. The text is taken
    as a reader reads it: ``foo<b>bar</b>`` is one word.
    """
    root = tree.root
    page.lang = (root.attrs.get("lang") or "") if root is not None else ""
    body = tree.body
    if body is None:
        return
    for node in reversed(unseen):
        node.decompose()
    text = body.text()
    page.words = len(text.split())
    page.text = text[:SAMPLE_CHARS]
    page.main_text = main_text(body)


_MAIN = "main, article, [role=main], [role=article]"
_MAIN_ROLES = frozenset({"main", "article"})
_BOILERPLATE = "nav, header, footer, aside, [class], [id], [role], [itemprop], [itemtype]"


def main_text(body: LexborNode) -> str:
    """The text of the page's main content, what it is about.

    The text of ``<main>`` (or ``role="main"``) when the page has one, else of its
    ``<article>`` elements (``role="article"``), outermost only; a page with neither
    loses what the placement rules (``backlinkspider.layout``) call anything but
    ``content``: nav, header, footer, aside and comments. Removes those from the tree:
    call it last. Text nodes are joined with a space: minified pages write blocks with
    nothing between them (``<h1>Title</h1><p>Text``), and terms must not fuse across them.
    """
    found = body.css(_MAIN)
    if found:
        mains = [n for n in found if n.tag == "main" or (n.attrs.get("role") or "").strip().lower() == "main"]
        chosen = mains or found
        ids = {n.mem_id for n in chosen}
        outermost = [n for n in chosen if not any(a.mem_id in ids for a in _ancestors(n))]
        return "\n".join(n.text(separator=" ") for n in outermost)
    for node in reversed(body.css(_BOILERPLATE)):  # innermost first: no node goes after its parent
        if element_placement(node.tag or "", node.attributes, False) not in (None, "content"):
            node.decompose()
    return body.text(separator=" ")


def _ancestors(node: LexborNode):
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent
