"""What kind of anchor a backlink has: Semrush's and Ahrefs' anchor categories.

A profile whose anchors are mostly exact-match keywords looks built, not earned;
one of brand names, bare URLs and "click here" looks natural. ``category`` sorts
an anchor into one of ``CATEGORIES``, the first rule that matches winning:

1. ``image``: the link is an image (``kind: image``), whatever its alt says;
2. ``empty``: no text at all;
3. ``naked_url``: the anchor is a URL or a host/domain name (``https://acme-tools.com/x``,
   ``www.acme-tools.com``, ``Acme-Tools.com``): a registered domain under a public suffix;
4. ``branded``: contains one of the target's brand names;
5. ``exact_match``: is one of the target's keywords;
6. ``partial_match``: contains one of them;
7. ``generic``: is a generic anchor ("click here", "read more", "hier", "lire la suite"…),
   from ``data/generic_anchors.json``, one list per language;
8. ``other``.

Comparisons ignore case, punctuation and runs of white space, and "contains"
means whole words: brand "acme" is in "Acme's new drill", not in "acmes".
The category is worked out when a report or export asks, from the target's
``brand`` and ``keywords`` (``backlinks target``), so changing them needs no recrawl.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

from backlinkspider.urls import registered_domain, under_public_suffix

CATEGORIES = ("image", "empty", "naked_url", "branded", "exact_match", "partial_match", "generic", "other")

_NOT_WORD = re.compile(r"[\W_]+")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://\S+$", re.I)
_URLISH = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:www\.)?([^\s/?#:@]+\.[^\s/?#:@.]+)(?::\d+)?(?:[/?#]\S*)?$", re.I)


def words(text: str) -> str:
    """``text`` lower-cased, punctuation dropped, words one space apart: what is compared."""
    return " ".join(_NOT_WORD.sub(" ", text.lower()).split())


def _contains(haystack: str, needle: str) -> bool:
    return bool(needle) and f" {needle} " in f" {haystack} "


@lru_cache(maxsize=1)
def generic_anchors() -> frozenset[str]:
    """Every generic anchor of every language in ``data/generic_anchors.json``, as ``words``."""
    lists = json.loads(resources.files("backlinkspider").joinpath("data/generic_anchors.json").read_text("utf-8"))
    return frozenset(words(a) for lang, anchors in lists.items() if not lang.startswith("_") for a in anchors)


def is_naked_url(anchor: str) -> bool:
    """Whether the anchor is a URL or a host name under a public suffix (``acme-tools.com``)."""
    anchor = anchor.strip()
    if _URL.match(anchor):
        return True
    found = _URLISH.match(anchor)
    return found is not None and under_public_suffix(found.group(1).lower().rstrip("."))


def default_brand(domain: str) -> list[str]:
    """Brand names read from a registered domain: ``acme-tools.com`` -> acme tools, acmetools, acme-tools."""
    # The label left of the public suffix: ``example`` of ``www.example.co.uk``.
    label = registered_domain(domain.lower()).split(".", 1)[0]
    names = [" ".join(label.replace("_", "-").split("-")), label.replace("-", ""), label]
    return list(dict.fromkeys(n for n in names if n))


class Categorizer:
    """``category(anchor, kind)`` for one target's brand names and keywords.

    Profiles repeat a few anchors many times over, so each (anchor, kind) is
    categorized once (the last ``CACHED`` of them are remembered).
    """

    CACHED = 65_536

    def __init__(self, brand: list[str], keywords: list[str]):
        self.brand = [b for b in dict.fromkeys(words(b) for b in brand) if b]
        self.keywords = frozenset(k for k in (words(k) for k in keywords) if k)
        self.generic = generic_anchors()
        self.category = lru_cache(maxsize=self.CACHED)(self._category)

    def _category(self, anchor: str, kind: str = "text") -> str:
        if kind == "image":
            return "image"
        text = words(anchor)
        if not text:
            return "empty"
        if is_naked_url(anchor):
            return "naked_url"
        if any(_contains(text, b) for b in self.brand):
            return "branded"
        if text in self.keywords:
            return "exact_match"
        if any(_contains(text, k) for k in self.keywords):
            return "partial_match"
        if text in self.generic:
            return "generic"
        return "other"
