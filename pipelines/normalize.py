"""Registered domains for a page and its links.

URLs arrive canonical from extraction (the spider needs them to follow links);
what this pipeline adds is the site each URL belongs to, from the bundled Public
Suffix List, so that classification and every report group by the same domain.
"""

from __future__ import annotations

from backlinkspider.items import PageItem
from backlinkspider.urls import host_of, registered_domain


class NormalizePipeline:
    """Fill ``host``/``domain`` on each ``PageItem`` and its links."""

    def process_item(self, item):
        if not isinstance(item, PageItem):  # a TargetItem: nothing to add
            return item
        item.host = host_of(item.url)
        item.domain = registered_domain(item.host)
        for link in item.links:
            link.domain = registered_domain(link.host)
        return item
