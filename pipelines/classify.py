"""Link types, internal/external, and which links are worth storing.

``link_types`` follows Google's reading of ``rel``: ``nofollow``, ``sponsored``
and ``ugc`` are hints a link may carry together; a page-level robots nofollow
adds ``nofollow`` to every link; a link with none of them is ``follow``.
"""

from __future__ import annotations

QUALIFIERS = frozenset({"nofollow", "sponsored", "ugc"})
FOLLOW = ["follow"]


class ClassifyPipeline:
    """Classify each link and keep the backlinks: links into the targets, or all external links.

    A page keeps one link per (target URL, anchor), the first in document
    order: that pair is the stored document's key. Dropped links are counted in
    stats; the page item itself always goes on (``pages`` records every page).
    """

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        targets = getattr(self.crawler.spider, "targets", None) or frozenset()
        kept, seen = [], set()
        for link in item.links:
            link.internal = link.domain == item.domain
            item.links_external += not link.internal
            if targets:
                if link.domain not in targets:
                    continue
            elif link.internal:
                continue
            key = (link.url, link.anchor)
            if key in seen:
                continue
            seen.add(key)
            types = {t for t in link.rel if t in QUALIFIERS}
            if item.page_nofollow:
                types.add("nofollow")
            link.link_types = sorted(types) if types else FOLLOW
            kept.append(link)
        self.crawler.stats.inc_value("backlinks/links/kept", len(kept))
        item.links = kept
        return item
