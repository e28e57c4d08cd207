"""Sitewide flags while the crawl runs, so the end-of-crawl pass has little left to write.

A referring domain's share of pages linking to a target is known for sure only
once the crawl is over (``store/sitewide.py`` then sets every flag from the
store). But writing the flag afterwards is a second write of each sitewide
backlink, and footers on every page make many of them ("Powered by …"). So
this tally counts, as pages are stored, each referring domain's crawled HTML
pages and how many of them link to each target domain; once a domain has
``SITEWIDE_MIN_PAGES`` pages the running share decides the flag, written with
the backlink itself. Before that the flag is left as it was (``None``: a new
backlink starts ``false``). The end pass corrects what the running share got
wrong (the first pages, a partial recrawl), and writes only those.
"""

from __future__ import annotations

from collections import Counter

from backlinkspider.items import PageItem


class SitewideTally:
    """Counts per referring domain, for this crawl process's pages."""

    def __init__(self, share: float, min_pages: int):
        self.share = share
        self.min_pages = min_pages
        self.pages: Counter[str] = Counter()  # crawled HTML pages per referring domain
        self.linking: Counter[tuple[str, str]] = Counter()  # of those, linking to a target domain
        self.domains: set[str] = set()  # the referring domains the end pass must look at

    def add(self, page: PageItem) -> None:
        """Count ``page`` (a crawled HTML page) and set ``sitewide`` on its external links."""
        if not (200 <= page.status < 300) or page.error:
            return
        domain = page.domain
        self.domains.add(domain)
        self.pages[domain] += 1
        targets = {link.domain for link in page.links if not link.internal}
        for target in targets:
            self.linking[(domain, target)] += 1
        pages = self.pages[domain]
        if pages < self.min_pages:  # too early to say: leave the flag as it is
            return
        need = max(self.min_pages, self.share * pages)
        wide = {target: self.linking[(domain, target)] >= need for target in targets}
        for link in page.links:
            if not link.internal:
                link.sitewide = wide[link.domain]
