"""The ``backlinks`` spider: walk each seed site, emit one ``PageItem`` per page.

A seed's *site* is its registered domain, every host under it. The spider
follows links inside the page's site and records, never follows, the others.
Every fetch outcome (a page, an HTTP error, a timeout, a binary or oversized
body) becomes a ``PageItem``, so the ``pages`` collection tells what happened
to each URL, and a log line and a stat say it too.
"""

from __future__ import annotations

from collections import Counter
from itertools import chain
from datetime import datetime, timezone
from pathlib import Path

import scrapy
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import HtmlResponse, TextResponse

from backlinkspider import signals as our_signals
from backlinkspider.frontier import enabled as distributed_mode
from backlinkspider.frontier.queue import LEASE
from backlinkspider.frontier.spider import FrontierSpiderMixin
from backlinkspider.items import PageItem
from backlinkspider.links import extract, markup
from backlinkspider.robots_meta import header_directives
from backlinkspider.urls import canonicalize, canonicalize_with_host, host_of, registered_domain
from pipelines.classify import stores

# Download failures worth a name of their own in stats, logs and `pages.error`.
_ERRORS = (
    (DownloadTimeoutError, "timeout"),
    (DownloadCancelledError, "too_large"),  # DOWNLOAD_MAXSIZE exceeded
    (CannotResolveHostError, "dns"),
    (DownloadConnectionRefusedError, "connection_refused"),
    (ResponseDataLossError, "data_loss"),
    (DownloadFailedError, "download_failed"),
)
_SNIFF = 1024  # bytes looked at to tell a binary body from text
_RECENT_URLS = 200_000  # distributed mode: URLs a worker remembers asking for (~20 MB)


def load_seeds(arg: str | None) -> list[str]:
    """Seed URLs from ``URL[,URL…]`` or ``@file`` (one URL a line, ``#`` comments)."""
    if not arg:
        return []
    if arg.startswith("@"):
        lines = Path(arg[1:]).read_text(encoding="utf-8").splitlines()
        raw = [line.split("#", 1)[0] for line in lines]
    else:
        raw = arg.split(",")
    return [u for u in (r.strip() for r in raw) if u]


def load_targets(arg: str | None) -> frozenset[str]:
    """Registered domains from ``DOMAIN[,DOMAIN…]``; URLs and hosts are reduced to theirs."""
    targets = set()
    for raw in (arg or "").split(","):
        raw = raw.strip()
        if not raw:
            continue
        found = canonicalize_with_host(raw if "://" in raw else f"http://{raw}")
        if found:
            targets.add(registered_domain(found[1]))
    return frozenset(targets)


class BacklinksSpider(FrontierSpiderMixin, scrapy.Spider):
    """Crawl seed sites and record every link that leaves them (or enters a target).

    Arguments: ``seeds`` (``URL[,URL…]`` or ``@file``) and ``targets``
    (``DOMAIN[,DOMAIN…]``, optional: without it every external link is stored).
    With ``REDIS_URL`` set, both are shared through Redis with every worker
    (``backlinkspider.frontier.spider``), and a worker given neither joins
    the running crawl.
    """

    name = "backlinks"

    def __init__(self, seeds: str | None = None, targets: str | None = None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.targets = load_targets(targets)
        self._targets_given = targets is not None
        self.seed_urls: list[str] = []
        sites = set()
        for raw in load_seeds(seeds):
            found = canonicalize_with_host(raw if "://" in raw else f"http://{raw}")
            if found is None:
                self.logger.error("Ignoring seed %r: not an http(s) URL", raw)
                continue
            self.seed_urls.append(found[0])
            sites.add(registered_domain(found[1]))
        # Scrapy's OffsiteMiddleware drops requests (redirects included) that
        # leave these sites: the spider never leaves its seeds' sites.
        self.allowed_domains = sorted(sites)
        self._requested: set[str] = set()
        self._recently_requested: dict[str, None] = {}  # distributed mode
        self._site_requests: Counter[str] = Counter()

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.site_page_limit = crawler.settings.getint("SITE_PAGE_LIMIT")
        spider.follow_page_nofollow = crawler.settings.getbool("FOLLOW_PAGE_NOFOLLOW")
        if distributed_mode(crawler.settings):
            spider.setup_frontier(crawler)
            # Workers share no seed list: each request carries its site in
            # meta, and the scheduler drops redirects that leave it.
            spider.allowed_domains = []
        return spider

    async def start(self):
        if self.distributed:
            self.share_seeds_and_targets(self._targets_given)
            return
        if not self.seed_urls:
            self.logger.error("No seeds: pass -a seeds=URL[,URL…] or -a seeds=@file")
        for url in self.seed_urls:
            request = self._request(url, registered_domain(host_of(url)))
            if request is not None:
                yield request

    # -- following -------------------------------------------------------

    def seed_request(self, raw: str) -> scrapy.Request | None:
        """A request for a seed pushed through Redis (``P:start_urls``)."""
        found = canonicalize_with_host(raw if "://" in raw else f"http://{raw}")
        if found is None:
            self.logger.error("Ignoring seed %r: not an http(s) URL", raw)
            return None
        return self._request(found[0], registered_domain(found[1]))

    def _request(self, url: str, site: str) -> scrapy.Request | None:
        """A request for ``url`` unless already asked for or its site is at its page cap.

        In distributed mode the frontier's seen-set and per-site counters,
        shared by all workers, decide instead.
        """
        if self.distributed:
            # A bounded memory of URLs this worker asked for spares the Scrapy
            # machinery (and Redis) the site navigation repeated on every page.
            if url in self._recently_requested:
                return None
            self._recently_requested[url] = None
            if len(self._recently_requested) > _RECENT_URLS:
                del self._recently_requested[next(iter(self._recently_requested))]
            return scrapy.Request(url, callback=self.parse, errback=self.on_error, meta={"site": site})
        if url in self._requested:
            return None
        if self.site_page_limit and self._site_requests[site] >= self.site_page_limit:
            if self._site_requests[site] == self.site_page_limit:
                self.logger.info("Site %s reached SITE_PAGE_LIMIT=%d", site, self.site_page_limit)
                self.crawler.stats.inc_value("backlinks/site_page_limit_reached")
                self._site_requests[site] += 1  # log once
            return None
        self._requested.add(url)
        self._site_requests[site] += 1
        return scrapy.Request(url, callback=self.parse, errback=self.on_error)

    # -- callbacks -------------------------------------------------------

    def parse(self, response):
        stats = self.crawler.stats
        # Redirects hand us URLs as servers wrote them (HTTP://Host:80, no path):
        # the page is stored, and its links resolved, under its canonical form.
        url, host = canonicalize_with_host(response.url) or (response.url, "")
        page = PageItem(url=url, status=response.status, fetched_at=_now(), lease=response.meta.get(LEASE))
        if not 200 <= response.status < 300:
            stats.inc_value(f"backlinks/pages/http_{response.status}")
            self.logger.info("HTTP %d, no links taken: %s", response.status, response.url)
            page.error = f"http_{response.status}"
            yield page
            return
        page.error = _unusable(response)
        if page.error:
            stats.inc_value(f"backlinks/pages/{page.error}")
            self.logger.info("Skipping %s body (%s): %s", page.error,
                             response.headers.get("Content-Type", b"").decode("latin-1"), response.url)
            yield page
            return
        site = registered_domain(host)
        targets = self.targets
        try:
            found = extract(markup(response), url,
                            wants=lambda host: stores(registered_domain(host), site, targets))
        except Exception:  # a parser bug must not end the crawl
            self.logger.exception("Could not parse %s", response.url)
            stats.inc_value("backlinks/pages/parse_error")
            page.error = "parse_error"
            yield page
            return

        directives = found.directives | header_directives(response.headers.getlist("X-Robots-Tag"))
        page.title = found.title
        page.page_nofollow = "nofollow" in directives
        page.page_noindex = "noindex" in directives
        page.links_found = found.links_found
        page.links = found.links
        follow = not page.page_nofollow or self.follow_page_nofollow
        suffix = "." + site
        requests = []
        for url, host in chain(((link.url, link.host) for link in found.links), found.others):
            if host == site or host.endswith(suffix):
                request = self._request(url, site) if follow else None
                if request is not None:
                    requests.append(request)
            else:
                page.links_external += 1
        if not follow:
            stats.inc_value("backlinks/pages/nofollow_not_followed")
        stats.inc_value("backlinks/pages/parsed")
        # Links first: in distributed mode they reach Redis before the page's
        # lease can be acked, so a worker dying in between loses none.
        yield from requests
        yield page

    def on_error(self, failure):
        """Log and count a failed request; a failed download is still a `pages` entry."""
        request = failure.request
        if failure.check(IgnoreRequest):  # robots.txt, offsite, too many redirects
            self.logger.debug("Ignored %s: %s", request.url, failure.value)
            if request.meta.get(LEASE) is not None:  # nothing to store: the request is done
                self.crawler.signals.send_catch_log(our_signals.leases_done, leases=[request.meta[LEASE]])
            return
        error = next((name for cls, name in _ERRORS if failure.check(cls)), "error")
        self.crawler.stats.inc_value(f"backlinks/pages/{error}")
        self.logger.warning("Fetch failed (%s) for %s: %s", error, request.url, failure.value)
        yield PageItem(url=canonicalize(request.url) or request.url, status=0, fetched_at=_now(), error=error,
                       lease=request.meta.get(LEASE))


def _unusable(response) -> str:
    """Why a 2xx response yields no links ("" if it is usable HTML)."""
    if not isinstance(response, TextResponse):
        return "not_html"
    if b"\x00" in response.body[:_SNIFF]:  # a binary file served as text
        return "binary"
    if not isinstance(response, HtmlResponse):
        return "not_html"
    return ""


def _now() -> datetime:
    return datetime.now(timezone.utc)
