"""Backlinks through redirects (``-a follow_redirects_to_targets=1``).

A page may link to a target through a shortener or a tracking redirect
(``https://bit.ly/x`` -> ``https://acme-tools.com/``). With this on, every
external link of a page that is not into a target is asked where it leads
(HEAD, GET cut off after the headers where HEAD is refused), through the
downloader, so robots.txt and politeness apply. Those that end in a target are
recorded as ``kind: redirect`` with the URL the page links to in ``redirect_url``.
Each URL is asked once per crawl process (``REDIRECT_CHECK_CACHE`` of them remembered).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import TYPE_CHECKING

import scrapy
from scrapy.crawler import Crawler
from scrapy.utils.log import SpiderLoggerAdapter

from backlinkspider.items import Link, PageItem
from backlinkspider.keys import REDIRECT_URLS
from backlinkspider.scope import in_site
from backlinkspider.spiders.target_checks import CHECK_META, HEAD_REFUSED
from backlinkspider.urls import canonicalize_with_host, registered_domain


class RedirectLinksMixin:
    """Mix into the spider: ``follow_redirects`` (bool) turns it on; it needs targets."""

    # Set by the spider this is mixed into:
    targets: frozenset[str]
    crawler: Crawler

    if TYPE_CHECKING:  # scrapy.Spider's

        @property
        def logger(self) -> SpiderLoggerAdapter: ...

    follow_redirects = False

    def setup_redirect_links(self, crawler) -> None:
        self.redirect_cache = crawler.settings.getint("REDIRECT_CHECK_CACHE")
        self._redirects: OrderedDict[str, asyncio.Future] = OrderedDict()

    @property
    def resolves_redirects(self) -> bool:
        """Whether this crawl asks where external links lead (needs their details)."""
        return self.follow_redirects and bool(self.targets)

    def redirect_candidates(self, links: list[Link], site: str) -> list[Link]:
        """The external links of a page of ``site`` that could lead into a target."""
        if not self.resolves_redirects:
            return []
        targets = self.targets
        return [link for link in links if not in_site(link.host, site) and registered_domain(link.host) not in targets]

    async def add_redirect_links(self, page: PageItem, candidates: list[Link]) -> None:
        """Add to ``page`` a ``kind: redirect`` link for each candidate that leads into a target."""
        finals = await asyncio.gather(*(self._final_url(link.url) for link in candidates))
        for link, final in zip(candidates, finals, strict=True):
            if final is not None and registered_domain(final[1]) in self.targets:
                page.links.append(
                    Link(
                        url=final[0],
                        anchor=link.anchor,
                        rel=link.rel,
                        kind="redirect",
                        host=final[1],
                        redirect_url=link.url,
                        placement=link.placement,
                        hidden=link.hidden,
                        context_before=link.context_before,
                        context_after=link.context_after,
                    )
                )
                self.crawler.stats.inc_value("backlinks/links/redirect_into_target")

    def _final_url(self, url: str) -> asyncio.Future:
        """Where ``url`` redirects to, ``(url, host)``, or None; asked once per URL (bounded memory)."""
        future = self._redirects.get(url)
        if future is None:
            future = self._redirects[url] = asyncio.ensure_future(self._resolve(url))
            if len(self._redirects) > self.redirect_cache:
                self._redirects.popitem(last=False)
        return future

    async def _resolve(self, url: str):
        """HEAD ``url`` (GET if HEAD is refused) through the downloader: robots.txt, politeness."""
        download = self.crawler.engine.download_async
        try:
            response = await download(scrapy.Request(url, method="HEAD", meta=dict(CHECK_META), dont_filter=True))
            if response.status in HEAD_REFUSED:
                response = await download(scrapy.Request(url, meta=dict(CHECK_META), dont_filter=True))
        except Exception as exc:  # IgnoreRequest (robots.txt), timeouts, DNS: not a redirect
            self.logger.debug("Could not resolve %s: %r", url, exc)
            self.crawler.stats.inc_value("backlinks/redirect_checks/failed")
            return None
        self.crawler.stats.inc_value("backlinks/redirect_checks/done")
        if not response.meta.get(REDIRECT_URLS):
            return None
        return canonicalize_with_host(response.url)
