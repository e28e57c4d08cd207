"""The ``backlinks`` spider: walk each seed site, emit one ``PageItem`` per page.

A seed's *site* is its registered domain, every host under it. The spider
follows links inside the page's site and records, never follows, the others.
Every fetch outcome (a page, an HTTP error, a timeout, a binary or oversized
body, a redirect off the site) becomes a ``PageItem``, so the ``pages``
collection tells what happened to each URL, and a log line and a stat say it
too; the pipelines compare it with what the store held (lost backlinks).

Monitoring arguments: ``recrawl=1`` revisits every referring page in the store
as well as the seeds; ``check_targets=1`` checks every stored target URL once
the crawl is done (one ``TargetItem`` each); ``follow_redirects_to_targets=1``
resolves external links that are not into a target and records those that
redirect into one (``kind: redirect``).
"""

from __future__ import annotations

import asyncio
from collections import Counter, OrderedDict
from itertools import chain
from datetime import datetime, timezone
from pathlib import Path

import scrapy
from scrapy import signals
from scrapy.exceptions import (
    CannotResolveHostError,
    DontCloseSpider,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
    StopDownload,
)
from scrapy.http import HtmlResponse, TextResponse
from scrapy.utils.defer import deferred_to_future
from twisted.internet.threads import deferToThread

from backlinkspider import signals as our_signals
from backlinkspider import store
from backlinkspider.frontier import enabled as distributed_mode
from backlinkspider.frontier.queue import LEASE
from backlinkspider.frontier.spider import FrontierSpiderMixin
from backlinkspider.items import Link, PageItem, TargetItem
from backlinkspider.links import extract, markup
from backlinkspider.robots_meta import header_directives
from backlinkspider.urls import (canonicalize, canonicalize_with_host, domain_of, host_of,
                                 registered_domain, user_url)
from pipelines.classify import stores

# Requests that only ask where a URL leads (target checks, redirect resolution): off any
# site, and a GET (where HEAD is refused with one of HEAD_REFUSED) stops after the headers.
_CHECK_META = {"allow_offsite": True, "headers_only": True}
HEAD_REFUSED = (405, 501)

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
    return frozenset(filter(None, map(domain_of, (arg or "").split(","))))


def flag(arg) -> bool:
    """A spider argument's truth: ``1``, ``true``, ``yes``, ``on``."""
    return str(arg or "").strip().lower() in {"1", "true", "yes", "on"}


class BacklinksSpider(FrontierSpiderMixin, scrapy.Spider):
    """Crawl seed sites and record every link that leaves them (or enters a target).

    Arguments: ``seeds`` (``URL[,URL…]`` or ``@file``) and ``targets``
    (``DOMAIN[,DOMAIN…]``, optional: without it every external link is stored).
    With ``REDIS_URL`` set, both are shared through Redis with every worker
    (``backlinkspider.frontier.spider``), and a worker given neither joins
    the running crawl. ``recrawl``, ``check_targets`` and
    ``follow_redirects_to_targets`` (``1`` to turn on): see the module.
    """

    name = "backlinks"

    def __init__(self, seeds: str | None = None, targets: str | None = None, recrawl=None,
                 check_targets=None, follow_redirects_to_targets=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.targets = load_targets(targets)
        self._targets_given = targets is not None
        self.recrawl = flag(recrawl)
        self.check_targets = flag(check_targets)
        self.follow_redirects = flag(follow_redirects_to_targets)
        self._checks: asyncio.Future | None = None
        self._redirects: OrderedDict[str, asyncio.Future] = OrderedDict()
        self.seed_urls: list[str] = []
        sites = set()
        for raw in load_seeds(seeds):
            found = user_url(raw)
            if found is None:
                self.logger.error("Ignoring seed %r: not an http(s) URL", raw)
                continue
            self.seed_urls.append(found[0])
            sites.add(registered_domain(found[1]))
        # Every request carries its site in meta: parse() follows only in-site
        # links, and SiteRedirectMiddleware hands redirects off the site to
        # parse() as they are. Scrapy's OffsiteMiddleware has nothing to add.
        self.allowed_domains: list[str] = []
        self._requested: set[str] = set()
        self._recently_requested: dict[str, None] = {}  # distributed mode
        self._site_requests: Counter[str] = Counter()

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.site_page_limit = crawler.settings.getint("SITE_PAGE_LIMIT")
        spider.follow_page_nofollow = crawler.settings.getbool("FOLLOW_PAGE_NOFOLLOW")
        spider.redirect_cache = crawler.settings.getint("REDIRECT_CHECK_CACHE")
        if distributed_mode(crawler.settings):
            spider.setup_frontier(crawler)
        if spider.check_targets:
            crawler.signals.connect(spider.check_targets_when_idle, signal=signals.spider_idle)
        if spider.check_targets or spider.follow_redirects:
            crawler.signals.connect(spider.headers_received, signal=signals.headers_received)
        return spider

    async def start(self):
        revisit = await self._referring_pages() if self.recrawl else []
        if self.distributed:
            # A recrawl's seeds are revisited even though the seen-set knows them.
            self.share_seeds_and_targets(self._targets_given, push_seeds=not self.recrawl)
        elif not self.seed_urls and not revisit and not self.check_targets:
            self.logger.error("No seeds: pass -a seeds=URL[,URL…] or -a seeds=@file")
        if self.distributed and not self.recrawl:
            return
        for url in chain(self.seed_urls, revisit):
            request = self._request(url, registered_domain(host_of(url)), revisit=self.recrawl)
            if request is not None:
                yield request

    async def _referring_pages(self) -> list[str]:
        pages = await deferred_to_future(deferToThread(self._from_store, store.referring_pages))
        self.logger.info("Recrawl: revisiting %d referring pages in the store", len(pages))
        self.crawler.stats.set_value("backlinks/recrawl/pages", len(pages))
        return pages

    def _from_store(self, query):
        """Runs in a thread: ``query(db, targets)`` on a client of its own."""
        client = store.connect(self.crawler.settings)
        try:
            return query(client[self.crawler.settings.get("MONGO_DATABASE")], self.targets)
        finally:
            client.close()

    # -- following -------------------------------------------------------

    def seed_request(self, raw: str) -> scrapy.Request | None:
        """A request for a seed pushed through Redis (``P:start_urls``)."""
        found = user_url(raw)
        if found is None:
            self.logger.error("Ignoring seed %r: not an http(s) URL", raw)
            return None
        return self._request(found[0], registered_domain(found[1]))

    def _request(self, url: str, site: str, revisit: bool = False) -> scrapy.Request | None:
        """A request for ``url`` unless already asked for or its site is at its page cap.

        In distributed mode the frontier's seen-set and per-site counters,
        shared by all workers, decide instead; a recrawl's ``revisit`` passes
        the seen-set, which remembers the earlier crawl.
        """
        if self.distributed:
            # A bounded memory of URLs this worker asked for spares the Scrapy
            # machinery (and Redis) the site navigation repeated on every page.
            if url in self._recently_requested:
                return None
            self._recently_requested[url] = None
            if len(self._recently_requested) > _RECENT_URLS:
                del self._recently_requested[next(iter(self._recently_requested))]
            return scrapy.Request(url, callback=self.parse, errback=self.on_error, meta={"site": site},
                                  dont_filter=revisit)
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
        return scrapy.Request(url, callback=self.parse, errback=self.on_error, meta={"site": site})

    # -- callbacks -------------------------------------------------------

    def parse(self, response):
        """The page's requests and item; an async generator when redirects need resolving."""
        requests, page, candidates = self._parse(response)
        if candidates:
            return self._with_redirect_links(requests, page, candidates)
        requests.append(page)
        return requests

    def _parse(self, response):
        stats = self.crawler.stats
        # Redirects hand us URLs as servers wrote them (HTTP://Host:80, no path):
        # the page is stored, and its links resolved, under its canonical form.
        url, host = canonicalize_with_host(response.url) or (response.url, "")
        page = PageItem(url=url, status=response.status, fetched_at=_now(), lease=response.meta.get(LEASE))
        # The URLs that redirected here lose their backlinks (page_redirected).
        for earlier in response.meta.get("redirect_urls", ()):
            earlier = canonicalize(earlier)
            if earlier and earlier != url and earlier not in page.redirected_from:
                page.redirected_from.append(earlier)
        if 300 <= response.status < 400:  # a redirect off the site (SiteRedirectMiddleware)
            stats.inc_value("backlinks/pages/redirected_offsite")
            self.logger.info("Redirects off its site, not followed: %s -> %s", response.url,
                             response.meta.get("redirect_offsite"))
            page.error = "redirected_offsite"
            return [], page, []
        if not 200 <= response.status < 300:
            stats.inc_value(f"backlinks/pages/http_{response.status}")
            self.logger.info("HTTP %d, no links taken: %s", response.status, response.url)
            page.error = f"http_{response.status}"
            return [], page, []
        page.error = _unusable(response)
        if page.error:
            stats.inc_value(f"backlinks/pages/{page.error}")
            self.logger.info("Skipping %s body (%s): %s", page.error,
                             response.headers.get("Content-Type", b"").decode("latin-1"), response.url)
            return [], page, []
        site = registered_domain(host)
        targets = self.targets
        resolve = self.follow_redirects and bool(targets)
        suffix = "." + site

        def in_site(host):
            return host == site or host.endswith(suffix)

        def wants(host):
            domain = registered_domain(host)
            # Resolving redirects needs the details of every external link.
            return stores(domain, site, targets) or (resolve and domain != site)

        try:
            found = extract(markup(response), url, wants=wants)
        except Exception:  # a parser bug must not end the crawl
            self.logger.exception("Could not parse %s", response.url)
            stats.inc_value("backlinks/pages/parse_error")
            page.error = "parse_error"
            return [], page, []

        directives = found.directives | header_directives(response.headers.getlist("X-Robots-Tag"))
        page.title = found.title
        page.page_nofollow = "nofollow" in directives
        page.page_noindex = "noindex" in directives
        page.links_found = found.links_found
        page.links = found.links
        follow = not page.page_nofollow or self.follow_page_nofollow
        requests = []
        for url, host in chain(((link.url, link.host) for link in found.links), found.others):
            if in_site(host):
                request = self._request(url, site) if follow else None
                if request is not None:
                    requests.append(request)
            else:
                page.links_external += 1
        if not follow:
            stats.inc_value("backlinks/pages/nofollow_not_followed")
        stats.inc_value("backlinks/pages/parsed")
        candidates = []
        if resolve:
            candidates = [link for link in found.links
                          if not in_site(link.host) and registered_domain(link.host) not in targets]
        # Links first: in distributed mode they reach Redis before the page's
        # lease can be acked, so a worker dying in between loses none.
        return requests, page, candidates

    # -- redirects into the targets (follow_redirects_to_targets) ----------

    async def _with_redirect_links(self, requests, page, candidates):
        for request in requests:
            yield request
        finals = await asyncio.gather(*(self._final_url(link.url) for link in candidates))
        for link, final in zip(candidates, finals):
            if final is not None and registered_domain(final[1]) in self.targets:
                page.links.append(Link(url=final[0], anchor=link.anchor, rel=link.rel, kind="redirect",
                                       host=final[1], redirect_url=link.url))
                self.crawler.stats.inc_value("backlinks/links/redirect_into_target")
        yield page

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
        meta = dict(_CHECK_META)
        try:
            response = await self.crawler.engine.download_async(
                scrapy.Request(url, method="HEAD", meta=meta, dont_filter=True))
            if response.status in HEAD_REFUSED:
                response = await self.crawler.engine.download_async(
                    scrapy.Request(url, meta=meta, dont_filter=True))
        except Exception as exc:  # IgnoreRequest (robots.txt), timeouts, DNS: not a redirect
            self.logger.debug("Could not resolve %s: %r", url, exc)
            self.crawler.stats.inc_value("backlinks/redirect_checks/failed")
            return None
        self.crawler.stats.inc_value("backlinks/redirect_checks/done")
        if not response.meta.get("redirect_urls"):
            return None
        return canonicalize_with_host(response.url)

    # -- target checks (check_targets) -------------------------------------

    def check_targets_when_idle(self):
        """Once the crawl has nothing left to do, check every stored target URL."""
        if self._checks is None:
            self._checks = asyncio.ensure_future(self._schedule_target_checks())
        if not self._checks.done():
            raise DontCloseSpider

    async def _schedule_target_checks(self):
        # Every page of this crawl must be stored before its target URLs are read.
        await self.crawler.signals.send_catch_log_async(our_signals.store_drain)
        try:
            urls = await deferred_to_future(deferToThread(self._from_store, store.target_urls))
        except Exception:
            self.logger.exception("Could not read the target URLs to check")
            return
        self.logger.info("Checking %d target URLs", len(urls))
        self.crawler.stats.set_value("backlinks/targets/to_check", len(urls))
        for url in urls:
            self.crawler.engine.crawl(scrapy.Request(
                url, method="HEAD", callback=self.parse_target, errback=self.on_target_error,
                dont_filter=True, meta={"target_check": url, **_CHECK_META}))

    def headers_received(self, headers, body_length, request, spider=None):
        """A check needs the status, not the body: stop a GET once headers are in."""
        if request.method == "GET" and request.meta.get("headers_only"):
            raise StopDownload(fail=False)

    def parse_target(self, response):
        url = response.meta["target_check"]
        if response.status in HEAD_REFUSED and response.request.method == "HEAD":
            meta = {"target_check": url, **_CHECK_META}
            if LEASE in response.meta:  # the GET replaces the HEAD in the frontier
                meta[LEASE] = response.meta[LEASE]
            return [scrapy.Request(url, callback=self.parse_target, errback=self.on_target_error,
                                   dont_filter=True, meta=meta)]
        final = canonicalize(response.url) or response.url
        if response.status >= 300:
            self.crawler.stats.inc_value(f"backlinks/targets/http_{response.status}")
        return [TargetItem(url=url, checked_at=_now(), status=response.status, final_url=final,
                           lease=response.meta.get(LEASE))]

    def on_target_error(self, failure):
        request = failure.request
        if failure.check(IgnoreRequest):
            text = str(failure.value).lower()
            error = ("robots_disallowed" if "robots" in text
                     else "too_many_redirects" if "redirect" in text else "ignored")
        else:
            error = next((name for cls, name in _ERRORS if failure.check(cls)), "error")
        self.crawler.stats.inc_value(f"backlinks/targets/{error}")
        self.logger.info("Target check failed (%s) for %s", error, request.meta["target_check"])
        return [TargetItem(url=request.meta["target_check"], checked_at=_now(), error=error,
                           final_url=canonicalize(request.url) or request.url,
                           lease=request.meta.get(LEASE))]

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
