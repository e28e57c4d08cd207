"""Where a link sits on its page (``placement``) and whether a reader can see it (``hidden``).

A link in an article's second paragraph and the same link in a footer on every
page of a site are not the same backlink: search engines weigh body links above
boilerplate, and SEO tools (Ahrefs' ``is_content``, advertools' nav/header/footer
links) report them apart. This module is the one place that decides both, from
the HTML alone: no CSS file is fetched, no layout is computed.

``placement`` is exactly one of ``PLACEMENTS``, decided from the link's
ancestors, nearest first; the first ancestor a clause matches decides, and the
clauses are tried in this order on each ancestor:

* ``comment``: a comment section: an ``id``/``class`` token in ``COMMENT_TOKENS``,
  ``itemprop="comment"``, or an ``itemtype`` ending in ``Comment`` or ``Comments``
  (``https://schema.org/Comment``, the older ``UserComments``).
* ``nav``: ``<nav>``, ``role="navigation"``, or a token in ``NAV_TOKENS``.
* ``header`` / ``footer``: ``<header>`` / ``<footer>``, ``role="banner"`` /
  ``role="contentinfo"``, or a token in ``HEADER_TOKENS`` / ``FOOTER_TOKENS``; but
  not when the element is inside ``<article>`` or ``<main>`` (or ``role="article"``
  / ``role="main"``): an article's own header and footer are content.
* ``aside``: ``<aside>``, ``role="complementary"``, or a token in ``ASIDE_TOKENS``.
* otherwise ``content``.

``<main>`` (or ``role="main"``) is itself a clause, ``content``: the elements around
the main content are page wrappers, whatever their classes say (Genesis themes
wrap ``<main>`` in ``content-sidebar-wrap``; many layouts in ``has-sidebar``).

Tokens are the words of ``class`` and ``id`` values, split on white space,
``-``, ``_``, digits and case changes (``site-footer`` is ``site`` + ``footer``,
``mainNav`` is ``main`` + ``nav``), then lower-cased; they match whole
(``navigator`` is not ``nav``). ``<html>`` and ``<body>`` never match: their
classes describe the whole page (WordPress writes ``has-sidebar``, ``comments-open``).

``hidden`` is true when the link or an ancestor has the ``hidden`` attribute or
an inline ``style`` that hides it (``style_hides``: ``display:none``,
``visibility:hidden``, ``font-size:0``, ``opacity:0``, a large negative
``text-indent`` or offset that puts it off-screen, ``clip: rect(0 0 0 0)``, zero
width or height with ``overflow:hidden``) or a class every framework hides
(``HIDING_CLASSES``: ``hidden``, ``d-none``, ``sr-only``…), when it is inside ``<noscript>``
(the crawler reads a page as a browser with scripts on shows it), or when its
anchor is empty and it has no image.

Every element's verdict is worked out once a page (``Layout`` remembers it by
node), so the links of one menu share the walk up their common ancestors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from selectolax.lexbor import LexborNode

from backlinkspider.store.schema import PLACEMENTS

__all__ = ["PLACEMENTS", "Layout", "element_hides", "element_placement", "style_hides", "tokens"]


COMMENT_TOKENS = frozenset({"comment", "comments", "commentlist", "respond", "disqus", "replies"})
# Compounds written as one word count too: DocBook's ``navheader``/``navfooter`` bars
# (PostgreSQL's manual and many others) are navigation, not the page's header/footer.
NAV_TOKENS = frozenset(
    {
        "nav", "navbar", "navigation", "menu", "menubar", "mainmenu", "topmenu", "navmenu", "topnav", "subnav",
        "sidenav", "mainnav", "sitenav", "navheader", "navfooter", "breadcrumb", "breadcrumbs",
    }
)  # fmt: skip
HEADER_TOKENS = frozenset({"header", "masthead", "siteheader", "pageheader"})
FOOTER_TOKENS = frozenset({"footer", "colophon", "sitefooter", "pagefooter"})
ASIDE_TOKENS = frozenset({"sidebar", "widget", "widgets"})

_ROLES = {"navigation": "nav", "banner": "header", "contentinfo": "footer", "complementary": "aside"}
_TAGS = {"nav": "nav", "header": "header", "footer": "footer", "aside": "aside"}
_ARTICLE_TAGS = frozenset({"article", "main"})
_ARTICLE_ROLES = frozenset({"article", "main"})
_PAGE_TAGS = frozenset({"html", "body"})
# Tags that say something even without attributes: the rest pass their parent's verdict on.
_TELLING_TAGS = frozenset(_TAGS) | _ARTICLE_TAGS | {"noscript"}
_TOKEN = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


def tokens(value: str) -> set[str]:
    """The lower-case words of a ``class`` or ``id`` value (see the module docstring)."""
    return {t.lower() for t in _TOKEN.findall(value)}


@lru_cache(maxsize=8192)
def _from_names(names: str) -> str | None:
    """The placement ``class`` and ``id`` values say; sites repeat a few, so it is cached."""
    words = tokens(names)
    if words & COMMENT_TOKENS:
        return "comment"
    if words & NAV_TOKENS:
        return "nav"
    if words & HEADER_TOKENS:
        return "header"
    if words & FOOTER_TOKENS:
        return "footer"
    if words & ASIDE_TOKENS:
        return "aside"
    return None


def element_placement(tag: str, attrs: dict, in_article: bool) -> str | None:
    """The placement an element gives the links inside it, or None when it gives none.

    ``in_article``: whether the element is inside ``<article>``/``<main>``.
    """
    if tag in _PAGE_TAGS:
        return None
    if tag == "main" or (attrs.get("role") or "").strip().lower() == "main":
        # The page's main content: what contains it is a page wrapper, whatever its
        # classes say (Genesis' ``content-sidebar-wrap``, ``has-sidebar`` layouts).
        return "content"
    names = attrs.get("class") or ""
    if "id" in attrs:
        names = f"{names} {attrs['id'] or ''}"
    from_names = _from_names(names) if names else None
    if (
        from_names == "comment"
        or (attrs.get("itemprop") or "").strip().lower() == "comment"
        or (attrs.get("itemtype") or "").strip().rstrip("/").endswith(("Comment", "Comments"))
    ):
        return "comment"
    role = (attrs.get("role") or "").strip().lower()
    found = _TAGS.get(tag) or _ROLES.get(role) or from_names
    if found in ("header", "footer") and in_article:
        return None
    return found


# --- hidden ---------------------------------------------------------------------------

_DECLARATION = re.compile(r"([a-z-]+)\s*:\s*([^;]*)")
_LENGTH = re.compile(r"^(-?[\d.]+)\s*([a-z%]*)")
#: how far off-screen an offset or text-indent must push a link to hide it, in CSS px
OFFSCREEN_PX = 500
_PX_PER = {"": 1.0, "px": 1.0, "em": 16.0, "rem": 16.0, "pt": 4 / 3, "pc": 16.0, "in": 96.0, "cm": 37.8, "mm": 3.78}
_OFFSETS = frozenset({"text-indent", "left", "top", "right", "margin-left", "margin-top"})


def _length(value: str) -> tuple[float, str] | None:
    found = _LENGTH.match(value)
    if not found:
        return None
    try:
        return float(found.group(1)), found.group(2)
    except ValueError:
        return None


def _zero(value: str) -> bool:
    length = _length(value)
    return length is not None and length[0] == 0


def _far_negative(value: str) -> bool:
    length = _length(value)
    if length is None:
        return False
    number, unit = length
    if unit in ("%", "vw", "vh"):
        return number <= -100
    return number * _PX_PER.get(unit, 0.0) <= -OFFSCREEN_PX


def style_hides(style: str) -> bool:
    """Whether an inline ``style`` keeps its element's content out of a reader's sight."""
    style = style.lower()
    collapsed = overflow_hidden = False
    for prop, raw in _DECLARATION.findall(style):
        value = raw.replace("!important", "").strip()
        if prop == "display" and value == "none":
            return True
        if prop == "visibility" and value in ("hidden", "collapse"):
            return True
        if prop in ("font-size", "opacity") and _zero(value):
            return True
        if prop in _OFFSETS and _far_negative(value):
            return True
        if prop == "clip" and value.startswith("rect(") and all(_zero(v) for v in re.split(r"[\s,]+", value[5:-1])):
            return True
        if prop in ("width", "height", "max-width", "max-height") and _zero(value):
            collapsed = True
        if prop == "overflow" and value in ("hidden", "clip"):
            overflow_hidden = True
    return collapsed and overflow_hidden


#: class names every major CSS framework and CMS theme uses for content kept out of
#: sight (Bootstrap, Tailwind, WordPress, Foundation): whole class names, not tokens
#: (``hidden-xs`` hides on phones only)
HIDING_CLASSES = frozenset(
    {"hidden", "d-none", "invisible", "sr-only", "visually-hidden", "screen-reader-text", "show-for-sr"}
)


def element_hides(tag: str, attrs: Any) -> bool:
    """Whether an element hides its content: ``hidden``, a hiding ``style`` or class, ``<noscript>``."""
    if tag == "noscript" or "hidden" in attrs:
        return True
    style = attrs.get("style")
    if style and style_hides(style):
        return True
    classes = attrs.get("class")
    return bool(classes) and not HIDING_CLASSES.isdisjoint(classes.split())


# --- per page -------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class Where:
    """What an element passes on to the links inside it."""

    placement: str
    hidden: bool
    in_article: bool


_DOCUMENT = Where("content", False, False)


class Layout:
    """Placement and visibility of one page's links, each element judged once."""

    __slots__ = ("_known",)

    def __init__(self) -> None:
        self._known: dict[int, Where] = {}

    def link(self, node: LexborNode, attrs: Any, anchor: str, kind: str) -> tuple[str, bool]:
        """``(placement, hidden)`` of the link element ``node`` (its ``attrs``), with this anchor and kind."""
        where = self._of(node.parent)
        hidden = where.hidden or (not anchor and kind != "image") or element_hides("a", attrs)
        return where.placement, hidden

    def _of(self, node: LexborNode | None) -> Where:
        # Up to the nearest element already judged (no recursion: hostile pages nest
        # deeply), then down again, each judged from its parent's verdict.
        chain = []
        known = self._known
        while node is not None and node.is_element_node and node.mem_id not in known:
            chain.append(node)
            node = node.parent
        where = known.get(node.mem_id, _DOCUMENT) if node is not None else _DOCUMENT
        for element in reversed(chain):
            where = self._judge(element, where)
            known[element.mem_id] = where
        return where

    @staticmethod
    def _judge(element: LexborNode, parent: Where) -> Where:
        tag = element.tag or ""
        attrs = element.attributes
        if not attrs and tag not in _TELLING_TAGS:  # most elements: a <p>, an <li>, a <span>
            return parent
        in_article = parent.in_article or tag in _ARTICLE_TAGS or (attrs.get("role") or "").lower() in _ARTICLE_ROLES
        # Nearest first: what an element says overrides its ancestors'.
        own = element_placement(tag, attrs, parent.in_article)
        placement = own if own is not None else parent.placement
        return Where(placement, parent.hidden or element_hides(tag, attrs), in_article)
