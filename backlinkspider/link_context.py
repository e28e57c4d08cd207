"""The text around a link, as a reader sees it: what the sentence says about the target.

Anchor text alone says little ("here", a brand name); the words around it say
whether a site recommends, reviews or merely lists the target. ``around``
returns up to ``CONTEXT_CHARS`` characters before and after the link, taken from
the same block element only (a paragraph, list item, table cell, heading…):
text in the next paragraph is another statement. White space is collapsed and
the text is cut at a word boundary, so the anchor sits in the middle of whole
words. A link that stands alone in its block (a menu item) has no context.

Only the link's siblings and its inline ancestors' siblings are read, stopping
at a block boundary, once enough text is gathered or after ``MAX_NODES`` nodes on
a side, so the cost does not grow with the page.
"""

from __future__ import annotations

from selectolax.lexbor import LexborNode

CONTEXT_CHARS = 80
#: nodes read on each side at most: a row of 100,000 bare links must not cost 100,000² steps
MAX_NODES = 12

#: elements that end a run of text: the context never crosses them
BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog", "div",
        "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
        "h6", "header", "hr", "html", "legend", "li", "main", "menu", "nav", "ol", "p", "pre", "section",
        "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
_UNSEEN = frozenset({"script", "style", "noscript", "template", "select", "textarea"})
_BREAKS = frozenset({"br", "wbr", "img"})


def around(link: LexborNode) -> tuple[str, str]:
    """``(before, after)``: the reader's text on each side of ``link`` within its block."""
    return _last_words("".join(reversed(_side(link, "prev")))), _first_words("".join(_side(link, "next")))


def _side(link: LexborNode, step: str) -> list[str]:
    """The text pieces on one side of ``link`` (``step``: ``prev`` or ``next``), nearest first:
    its siblings, then its inline ancestors', up to its block."""
    pieces: list[str] = []
    got, budget = 0, MAX_NODES
    node: LexborNode | None = link
    while node is not None and (node.tag or "") not in BLOCKS:
        sibling = getattr(node, step)
        while sibling is not None:
            if got > CONTEXT_CHARS or not budget:  # one more than needed: is the edge in a word?
                return pieces
            budget -= 1
            piece = _text(sibling)
            if piece is None:  # a block: the context ends here
                return pieces
            pieces.append(piece)
            got += len(piece.strip())
            sibling = getattr(sibling, step)
        node = node.parent
    return pieces


def _text(node: LexborNode) -> str | None:
    """A sibling's text; None for a block, which ends the context on that side.

    An inline sibling's text is taken whole: a script inside a ``<span>`` is rare
    enough not to pay ``links.visible_text``'s walk for every sibling.
    """
    tag = node.tag or ""
    if tag == "-text":
        return node.text(deep=False)
    if tag in BLOCKS:
        return None
    if tag in _BREAKS:
        return " "
    if tag in _UNSEEN or not node.is_element_node:  # comments, scripts
        return ""
    return node.text(deep=True)


def _first_words(text: str) -> str:
    words = " ".join(text.split())
    if len(words) <= CONTEXT_CHARS:
        return words
    cut = words[:CONTEXT_CHARS]
    if words[CONTEXT_CHARS] != " " and " " in cut:  # the cut splits a word: drop it
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip()


def _last_words(text: str) -> str:
    words = " ".join(text.split())
    if len(words) <= CONTEXT_CHARS:
        return words
    cut = words[-CONTEXT_CHARS:]
    if words[-CONTEXT_CHARS - 1] != " " and " " in cut:
        cut = cut[cut.index(" ") + 1 :]
    return cut.lstrip()
