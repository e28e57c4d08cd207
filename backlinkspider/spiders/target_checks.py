"""Target checks (``-a check_targets=1``, ``backlinks check-targets``): is each stored
target URL still there?

Once the crawl has nothing left to do, every distinct target URL of the stored
backlinks (into the crawl's targets) is requested once: HEAD, or a GET cut
off after the headers when HEAD is refused (405/501). robots.txt and the
crawl's politeness apply, as to any request. Each answer is a ``TargetItem``;
``pipelines/mongo.py`` sets ``target_status``, ``broken`` and the rest on every
backlink to that URL.

The requests that only ask where a URL leads (these checks, and the redirect
resolution of ``follow_redirects_to_targets``) share ``CHECK_META``,
``HEAD_REFUSED`` and :func:`stop_after_headers`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, StopDownload
from scrapy.utils.log import SpiderLoggerAdapter

from backlinkspider import signals as our_signals
from backlinkspider import store
from backlinkspider.items import TargetItem
from backlinkspider.keys import ALLOW_OFFSITE, HEADERS_ONLY, LEASE, TARGET_CHECK
from backlinkspider.spiders.outcomes import failure_reason, held, ignored, now
from backlinkspider.urls import canonicalize

# Requests that only ask where a URL leads: off any site, and a GET (where HEAD
# is refused with one of HEAD_REFUSED) stops after the headers.
CHECK_META = {ALLOW_OFFSITE: True, HEADERS_ONLY: True}
HEAD_REFUSED = (405, 501)


def stop_after_headers(headers, body_length, request, spider=None):
    """``headers_received``: a check needs the status, not the body: stop a GET once headers are in."""
    if request.method == "GET" and request.meta.get(HEADERS_ONLY):
        raise StopDownload(fail=False)


class TargetChecksMixin:
    """Mix into the spider: ``check_targets`` (bool) turns the checks on.

    Callbacks are spider methods, so the distributed frontier's JSON
    serializer accepts the check requests like any other.
    """

    # Set by the spider this is mixed into:
    targets: frozenset[str]
    crawler: Crawler

    if TYPE_CHECKING:  # scrapy.Spider's

        @property
        def logger(self) -> SpiderLoggerAdapter: ...

        async def from_store(self, query: Callable[..., Any]) -> Any: ...  # BacklinksSpider's

    check_targets = False
    _checks: asyncio.Future | None = None

    def setup_target_checks(self, crawler) -> None:
        crawler.signals.connect(self.check_targets_when_idle, signal=signals.spider_idle)

    def check_targets_when_idle(self):
        """Once the crawl has nothing left to do, check every stored target URL."""
        if getattr(self, "sites_waiting", lambda: False)():  # expand: sites still to open
            raise DontCloseSpider
        if self._checks is None:
            self._checks = asyncio.ensure_future(self._schedule_target_checks())
        if not self._checks.done():
            raise DontCloseSpider

    async def _schedule_target_checks(self):
        # Every page of this crawl must be stored before its target URLs are read.
        await self.crawler.signals.send_catch_log_async(our_signals.store_drain)
        try:
            urls = await self.from_store(store.target_urls)
        except Exception:
            self.logger.exception("Could not read the target URLs to check")
            return
        self.logger.info("Checking %d target URLs", len(urls))
        self.crawler.stats.set_value("backlinks/targets/to_check", len(urls))
        for url in urls:
            self.crawler.engine.crawl(self._check_request(url, "HEAD"))

    def _check_request(self, url: str, method: str, lease=None) -> scrapy.Request:
        meta = {TARGET_CHECK: url, **CHECK_META}
        if lease is not None:  # a GET that replaces a HEAD in the frontier
            meta[LEASE] = lease
        return scrapy.Request(
            url, method=method, callback=self.parse_target, errback=self.on_target_error, dont_filter=True, meta=meta
        )

    def parse_target(self, response):
        url = response.meta[TARGET_CHECK]
        if response.status in HEAD_REFUSED and response.request.method == "HEAD":
            return [self._check_request(url, "GET", response.meta.get(LEASE))]
        final = canonicalize(response.url) or response.url
        if response.status >= 300:
            self.crawler.stats.inc_value(f"backlinks/targets/http_{response.status}")
        return [
            TargetItem(
                url=url, checked_at=now(), status=response.status, final_url=final, lease=response.meta.get(LEASE)
            )
        ]

    def on_target_error(self, failure):
        request = failure.request
        if held(failure):  # waits for its host's robots.txt: checked later
            return []
        if ignored(failure):
            text = str(failure.value).lower()
            error = (
                "robots_disallowed" if "robots" in text else "too_many_redirects" if "redirect" in text else "ignored"
            )
        else:
            error = failure_reason(failure)
        self.crawler.stats.inc_value(f"backlinks/targets/{error}")
        self.logger.info("Target check failed (%s) for %s", error, request.meta[TARGET_CHECK])
        return [
            TargetItem(
                url=request.meta[TARGET_CHECK],
                checked_at=now(),
                error=error,
                final_url=canonicalize(request.url) or request.url,
                lease=request.meta.get(LEASE),
            )
        ]
