"""Link types, internal/external, and which links are worth storing.

``link_types`` follows Google's reading of ``rel``: ``nofollow``, ``sponsored``
and ``ugc`` are hints a link may carry together; a page-level robots nofollow
adds ``nofollow`` to every link; a link with none of them is ``follow``.
"""

from __future__ import annotations

from collections.abc import Sequence, Set

from backlinkspider.items import PageItem
from backlinkspider.scope import stores

QUALIFIERS = frozenset({"nofollow", "sponsored", "ugc"})


def link_types(rel: Sequence[str], page_nofollow: bool) -> list[str]:
    """Sorted link types of a link: its rel qualifiers, or ``["follow"]``."""
    types = {t for t in rel if t in QUALIFIERS}
    if page_nofollow:
        types.add("nofollow")
    return sorted(types) if types else ["follow"]


def classify(item, targets: Set[str], max_url_length: int = 0) -> int:
    """Classify ``item``'s links in place and keep only the backlinks worth storing.

    With ``targets``, those are the links whose registered domain is a target
    (internal ones too, flagged ``internal``); without, every external link.
    A page keeps one link per (target URL, anchor), the first in document
    order: that pair, with the page, is the stored document's key. A URL longer
    than ``max_url_length`` (if set) is no backlink worth a document: a 1 MB URL
    is a trap or an attack. Returns how many were dropped for that.
    """
    kept, seen, too_long = [], set(), 0
    for link in item.links:
        link.internal = link.domain == item.domain
        if not stores(link.domain, item.domain, targets):
            continue
        if max_url_length and len(link.url) > max_url_length:
            too_long += 1
            continue
        key = (link.url, link.anchor)
        if key in seen:
            continue
        seen.add(key)
        link.link_types = link_types(link.rel, item.page_nofollow)
        kept.append(link)
    item.links = kept
    return too_long


class ClassifyPipeline:
    """Apply :func:`classify` with the targets the page was judged by; count the links kept."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.max_url_length = crawler.settings.getint("MAX_URL_LENGTH")

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        if not isinstance(item, PageItem):
            return item
        too_long = classify(item, item.targets, self.max_url_length)
        if too_long:
            self.crawler.stats.inc_value("backlinks/links/url_too_long", too_long)
        self.crawler.stats.inc_value("backlinks/links/kept", len(item.links))
        return item
