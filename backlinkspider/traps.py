"""Crawler traps inside a site, bounded before ``SITE_PAGE_LIMIT`` has to.

Some sites generate URLs without end: a calendar whose every page links to the
next month (``?month=…``), relative links that pile path segments onto each
other (``/a/b/a/b/a/b/…``), session ids or sort orders in ever longer queries.
Each page is new to the seen-set, so only the site's page cap would stop them,
after spending it on junk. Three rules stop them early, as polite crawlers do:

* a URL longer than ``MAX_URL_LENGTH`` (2048) is not followed;
* a path in which a run of segments repeats three times in a row is not followed;
* at most ``MAX_QUERY_VARIANTS`` (200) distinct query strings are followed per
  path (scheme, host and path); the first ones still are.

Each refusal is counted (``backlinks/traps/<rule>``). In distributed mode the
query count is each worker's own.
"""

from __future__ import annotations

from collections import Counter

from scrapy.crawler import Crawler

_REPEATS = 3


def repeats_segments(path: str, times: int = _REPEATS) -> bool:
    """Whether some run of path segments occurs ``times`` times in a row (``/a/b/a/b/a/b``)."""
    segments = [s for s in path.split("/") if s]
    n = len(segments)
    for width in range(1, n // times + 1):
        for start in range(n - width * times + 1):
            run = segments[start : start + width]
            if all(segments[start + k * width : start + (k + 1) * width] == run for k in range(1, times)):
                return True
    return False


class TrapGuard:
    """Says whether a URL found on a page is worth following."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler  # its stats exist once the crawl starts
        self.max_url_length = crawler.settings.getint("MAX_URL_LENGTH")
        self.max_query_variants = crawler.settings.getint("MAX_QUERY_VARIANTS")
        self._queries: Counter[str] = Counter()  # scheme://host/path -> queries followed

    def allows(self, url: str) -> bool:
        """Whether to follow ``url`` (a canonical URL, not yet requested)."""
        if self.max_url_length and len(url) > self.max_url_length:
            return self._refuse("url_too_long")
        query_at = url.find("?")
        base = url if query_at < 0 else url[:query_at]
        path_at = base.find("/", base.find("//") + 2)
        if path_at >= 0 and repeats_segments(base[path_at:]):
            return self._refuse("repeated_segments")
        if query_at >= 0 and self.max_query_variants:
            if self._queries[base] >= self.max_query_variants:
                return self._refuse("query_variants")
            self._queries[base] += 1
        return True

    def _refuse(self, rule: str) -> bool:
        self.crawler.stats.inc_value(f"backlinks/traps/{rule}")
        return False
