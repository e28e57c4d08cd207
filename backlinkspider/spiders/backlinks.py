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
redirect into one (``kind: redirect``). ``crawl_targets=1`` also walks each
target's own site (the ``targets`` given, else those set with ``backlinks
target``), from the first link into it, so ``backlinks score`` has the targets'
text to judge relevance by.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import scrapy
from scrapy import signals
from scrapy.utils.defer import deferred_to_future
from twisted.internet.threads import deferToThread

from backlinkspider import redact, store
from backlinkspider import signals as our_signals
from backlinkspider.frontier import enabled as distributed_mode
from backlinkspider.frontier.connection import when_redis_answers
from backlinkspider.frontier.spider import FrontierSpiderMixin
from backlinkspider.items import Link, PageItem
from backlinkspider.keys import HOP, LEASE, LINK_URL, REDIRECT_OFFSITE, REDIRECT_URLS, SITE
from backlinkspider.language import page_language, preload
from backlinkspider.links import ExtractedPage, extract, markup
from backlinkspider.robots_meta import header_directives
from backlinkspider.scope import in_site, stores
from backlinkspider.spiders.outcomes import failure_reason, held, ignored, now, unusable
from backlinkspider.spiders.redirect_links import RedirectLinksMixin
from backlinkspider.spiders.site_discovery import SiteDiscoveryMixin, whole_number
from backlinkspider.spiders.target_checks import TargetChecksMixin, stop_after_headers
from backlinkspider.terms import count_terms
from backlinkspider.traps import TrapGuard
from backlinkspider.urls import (
    canonicalize,
    canonicalize_with_host,
    domain_of,
    home_page,
    host_of,
    registered_domain,
    user_url,
)

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


@dataclass(slots=True)
class Visit:
    """What one response gave: the page's item, the in-site requests it leads to,
    and the external links to ask where they lead (``follow_redirects_to_targets``)."""

    page: PageItem
    requests: list[scrapy.Request] = field(default_factory=list)
    unresolved: list[Link] = field(default_factory=list)


class BacklinksSpider(SiteDiscoveryMixin, RedirectLinksMixin, TargetChecksMixin, FrontierSpiderMixin, scrapy.Spider):
    """Crawl seed sites and record every link that leaves them (or enters a target).

    Arguments: ``seeds`` (``URL[,URL…]`` or ``@file``) and ``targets``
    (``DOMAIN[,DOMAIN…]``, optional: without it every external link is stored).
    With ``REDIS_URL`` set, both are shared through Redis with every worker
    (``backlinkspider.frontier.spider``), and a worker given neither joins
    the running crawl. ``recrawl``, ``check_targets`` (``spiders/target_checks.py``)
    ``follow_redirects_to_targets`` (``spiders/redirect_links.py``) and
    ``crawl_targets``: ``1`` to turn on. ``expand`` (hops past the seed sites) and
    ``max_pages`` (the page budget): whole numbers (``spiders/site_discovery.py``).
    """

    name = "backlinks"

    def __init__(
        self,
        seeds: str | None = None,
        targets: str | None = None,
        recrawl=None,
        check_targets=None,
        follow_redirects_to_targets=None,
        crawl_targets=None,
        expand=None,
        max_pages=None,
        *args,
        **kwargs,
    ):
        redact.install()  # before anything is logged: seeds are logged as written
        super().__init__(*args, **kwargs)
        self.targets = load_targets(targets)
        self._targets_given = targets is not None
        self.recrawl = flag(recrawl)
        self.check_targets = flag(check_targets)
        self.follow_redirects = flag(follow_redirects_to_targets)
        self.crawl_targets = flag(crawl_targets)
        self.expand = whole_number("expand", expand)
        self.max_pages = whole_number("max_pages", max_pages)
        self._target_sites: frozenset[str] = frozenset()  # crawl_targets: the targets whose sites to walk
        self._targets_crawled: set[str] = set()  # …and those started
        self.seed_urls: list[str] = []
        for raw in load_seeds(seeds):
            found = user_url(raw)
            if found is None:
                self.logger.error("Ignoring seed %r: not an http(s) URL", raw)
                continue
            self.seed_urls.append(found[0])
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
        spider.page_terms = crawler.settings.getint("PAGE_TERMS")
        spider.follow_page_nofollow = crawler.settings.getbool("FOLLOW_PAGE_NOFOLLOW")
        spider.traps = TrapGuard(crawler)
        spider.setup_budget(crawler)
        spider.setup_discovery(crawler)
        preload()  # the language model, for pages that declare no language
        spider.setup_redirect_links(crawler)
        if distributed_mode(crawler.settings):
            spider.setup_frontier(crawler)
        if spider.check_targets:
            spider.setup_target_checks(crawler)
        if spider.check_targets or spider.follow_redirects:
            crawler.signals.connect(stop_after_headers, signal=signals.headers_received)
        return spider

    async def start(self):
        revisit = await self._referring_pages() if self.recrawl else []
        if self.crawl_targets:
            self._target_sites = self.targets or frozenset(
                await self.from_store(lambda db, _: store.target_domains(db))
            )
            if not self._target_sites:
                self.logger.warning("crawl_targets=1: no targets given or set with `backlinks target`: no site to walk")
        if self.distributed:
            # A recrawl's seeds are revisited even though the seen-set knows them.
            # Before the engine first sees the spider idle (target checks start on idle), so
            # blocking; during a Redis outage it waits for Redis, up to REDIS_OUTAGE_TIMEOUT.
            when_redis_answers(
                lambda: self.share_seeds_and_targets(self._targets_given, push_seeds=not self.recrawl),
                self.crawler.settings,
                "sharing seeds and targets",
            )
        elif not self.seed_urls and not revisit and not self.check_targets:
            self.logger.error("No seeds: pass -a seeds=URL[,URL…] or -a seeds=@file")
        if self.distributed and not self.recrawl:
            return
        await self.start_discovery()
        for url in chain(self.seed_urls, revisit):
            request = self._request(url, registered_domain(host_of(url)), revisit=self.recrawl, hop=0)
            if request is not None:
                yield request

    async def _referring_pages(self) -> list[str]:
        pages = await self.from_store(store.referring_pages)
        self.logger.info("Recrawl: revisiting %d referring pages in the store", len(pages))
        self.crawler.stats.set_value("backlinks/recrawl/pages", len(pages))
        return pages

    async def from_store(self, query):
        """``query(db, targets)`` in a thread, on a client of its own."""

        def run():
            with store.database(self.crawler.settings) as db:
                return query(db, self.targets)

        return await deferred_to_future(deferToThread(run))

    # -- following -------------------------------------------------------

    def seed_request(self, raw: str) -> scrapy.Request | None:
        """A request for a seed pushed through Redis (``P:start_urls``)."""
        found = user_url(raw)
        if found is None:
            self.logger.error("Ignoring seed %r: not an http(s) URL", raw)
            return None
        site = registered_domain(found[1])
        self.seed_site(site)
        return self._request(found[0], site, hop=0)

    def _request(
        self, url: str, site: str, revisit: bool = False, found: bool = False, hop: int | None = None
    ) -> scrapy.Request | None:
        """A request for ``url`` unless already asked for, a trap (``found`` on a page:
        ``traps.py``) or its site is at its page cap.

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
            if found and not self.traps.allows(url):
                return None
            return self._page_request(url, site, dont_filter=revisit, hop=hop)
        if url in self._requested:
            return None
        if found and not self.traps.allows(url):
            self._requested.add(url)  # judged once
            return None
        limit = self.site_page_limit_of(site, self.site_page_limit)
        if limit and self._site_requests[site] >= limit:
            if self._site_requests[site] == limit:
                self.logger.info("Site %s reached its page limit (%d)", site, limit)
                self.crawler.stats.inc_value("backlinks/site_page_limit_reached")
                self._site_requests[site] += 1  # log once
            return None
        self._requested.add(url)
        self._site_requests[site] += 1
        self.requested(site)
        return self._page_request(url, site, hop=hop)

    def _page_request(self, url: str, site: str, dont_filter: bool = False, hop: int | None = None) -> scrapy.Request:
        meta = {SITE: site} if hop is None or not self.expand else {SITE: site, HOP: hop}
        request = scrapy.Request(url, callback=self.parse, errback=self.on_error, meta=meta, dont_filter=dont_filter)
        if request.url != url:  # Scrapy re-encoded it: the page is stored under the link's form
            request.meta[LINK_URL] = url
        return request

    # -- callbacks -------------------------------------------------------

    async def parse(self, response):
        """The in-site requests of a page, then its ``PageItem``.

        Links first: in distributed mode they reach Redis before the page's
        lease can be acked, so a worker dying in between loses none.
        """
        self.settled(response)
        visit = self.visit(response)
        for request in chain(visit.requests, self.open_sites()):
            yield request
        if visit.unresolved:
            await self.add_redirect_links(visit.page, visit.unresolved)
        self.site_updates_for(visit.page)
        yield visit.page

    def visit(self, response) -> Visit:
        """Read one response: its item, and what it leads to."""
        page = self._page(response)
        page.error = self._unparsable(response)
        if page.error:
            return Visit(page)
        site = registered_domain(page.host)
        found = self._extract(response, page, site)
        if found is None:
            return Visit(page)
        hop = response.meta.get(HOP)
        return Visit(page, self._follow(page, found, site, hop), self.redirect_candidates(found.links, site))

    def _page(self, response) -> PageItem:
        """The item of a response, under its canonical URL, with the URLs that redirected to it."""
        # The page is stored, and its links resolved, under the URL the link gave
        # (Scrapy re-encodes some characters for the request), or where redirects
        # led, in canonical form (servers write HTTP://Host:80, no path…).
        requested = response.meta.get(LINK_URL)
        redirects = response.meta.get(REDIRECT_URLS, ())
        url, host = canonicalize_with_host(response.url if redirects or not requested else requested) or (
            response.url,
            "",
        )
        page = PageItem(
            url=url,
            status=response.status,
            fetched_at=now(),
            targets=self.targets,
            lease=response.meta.get(LEASE),
            host=host,
        )
        # The URLs that redirected here lose their backlinks (page_redirected).
        for n, earlier in enumerate(redirects):
            earlier = requested if n == 0 and requested else canonicalize(earlier)
            if earlier and earlier != url and earlier not in page.redirected_from:
                page.redirected_from.append(earlier)
        return page

    def _unparsable(self, response) -> str:
        """Why no links are taken from ``response`` ("" when they are), logged and counted."""
        stats = self.crawler.stats
        if 300 <= response.status < 400:  # a redirect off the site (SiteRedirectMiddleware)
            stats.inc_value("backlinks/pages/redirected_offsite")
            self.logger.info(
                "Redirects off its site, not followed: %s -> %s", response.url, response.meta.get(REDIRECT_OFFSITE)
            )
            return "redirected_offsite"
        if not 200 <= response.status < 300:
            stats.inc_value(f"backlinks/pages/http_{response.status}")
            self.logger.info("HTTP %d, no links taken: %s", response.status, response.url)
            return f"http_{response.status}"
        error = unusable(response)
        if error:
            stats.inc_value(f"backlinks/pages/{error}")
            self.logger.info(
                "Skipping %s body (%s): %s",
                error,
                response.headers.get("Content-Type", b"").decode("latin-1"),
                response.url,
            )
        return error

    def _extract(self, response, page: PageItem, site: str) -> ExtractedPage | None:
        """Fill ``page`` with the links and robots directives of the response's HTML.

        Details (anchor, rel, kind) only for the links the crawl can store, or
        resolve; the others are only resolved, for following. None when the
        HTML could not be parsed (``page.error`` says so).
        """
        targets = self.targets
        resolve = self.resolves_redirects

        def wants(host):
            domain = registered_domain(host)
            return stores(domain, site, targets) or (resolve and domain != site)

        try:
            found = extract(markup(response), page.url, wants=wants)
        except Exception:  # a parser bug must not end the crawl
            self.logger.exception("Could not parse %s", response.url)
            self.crawler.stats.inc_value("backlinks/pages/parse_error")
            page.error = "parse_error"
            return None
        directives = found.directives | header_directives(response.headers.getlist("X-Robots-Tag"))
        page.title = found.title
        page.page_nofollow = "nofollow" in directives
        page.page_noindex = "noindex" in directives
        page.links_found = found.links_found
        page.words = found.words
        content_language = response.headers.get("Content-Language")
        page.language = page_language(
            found.lang, content_language.decode("latin-1") if content_language else None, found.text
        )
        if self.page_terms:
            page.terms = count_terms(found.main_text, page.language, self.page_terms)
        if found.invalid_urls:  # hrefs no browser could follow: not links
            self.crawler.stats.inc_value("backlinks/links/invalid_url", found.invalid_urls)
        page.links = found.links
        return found

    def _follow(self, page: PageItem, found: ExtractedPage, site: str, hop: int | None = None) -> list[scrapy.Request]:
        """Requests for the page's in-site links; counts its external ones."""
        stats = self.crawler.stats
        follow = not page.page_nofollow or self.follow_page_nofollow
        requests = []
        external = set()
        for url, host in chain(((link.url, link.host) for link in found.links), found.others):
            if in_site(host, site):
                request = self._request(url, site, found=True, hop=hop) if follow else None
                if request is not None:
                    requests.append(request)
            else:
                external.add(url)
        page.external_links = len(external)
        if self._target_sites:
            requests.extend(self._target_site_requests(found.links))
        self.discover(page, found, site, hop)
        if not follow:
            stats.inc_value("backlinks/pages/nofollow_not_followed")
        stats.inc_value("backlinks/pages/parsed")
        return requests

    def _target_site_requests(self, links) -> list[scrapy.Request]:
        """``crawl_targets``: the pages of the targets' own sites, whose text relevance compares with.

        A target's site is started from the home page of the first link into it (its
        scheme and host: a link tells which of ``http``/``https`` and ``www`` the site
        answers on), then walked as a seed's site is; each linked target page is asked
        for too (within the same ``SITE_PAGE_LIMIT``), so the pages that backlinks point
        at have text even where the home page's links do not lead to them.
        """
        requests = []
        for link in links:
            domain = registered_domain(link.host)
            if domain not in self._target_sites:
                continue
            if domain not in self._targets_crawled:
                self._targets_crawled.add(domain)
                self.crawler.stats.inc_value("backlinks/targets/sites_crawled")
                home = home_page(link.url)
                request = self._request(home, domain) if home else None
                if request is not None:
                    requests.append(request)
            request = self._request(link.url, domain)
            if request is not None:
                requests.append(request)
        return requests

    def on_error(self, failure):
        """Log and count a failed request; a failed download is still a `pages` entry."""
        request = failure.request
        if held(failure):  # waits for its host's robots.txt: sent again later, lease and all
            return
        if ignored(failure):  # robots.txt, too many redirects
            self.settled(request, "ignored")
            yield from self.open_sites()
            self.logger.debug("Ignored %s: %s", request.url, failure.value)
            if request.meta.get(LEASE) is not None:  # nothing to store: the request is done
                self.crawler.signals.send_catch_log(our_signals.leases_done, leases=[request.meta[LEASE]])
            return
        error = failure_reason(failure)
        self.settled(request, error)
        self.crawler.stats.inc_value(f"backlinks/pages/{error}")
        self.logger.warning("Fetch failed (%s) for %s: %s", error, request.url, failure.value)
        yield from self.open_sites()
        page = PageItem(
            url=request.meta.get(LINK_URL) or canonicalize(request.url) or request.url,
            status=0,
            fetched_at=now(),
            error=error,
            targets=self.targets,
            lease=request.meta.get(LEASE),
        )
        self.site_updates_for(page)
        yield page
