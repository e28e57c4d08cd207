"""Sites nobody named (``-a expand=N``) and the crawl's page budget (``-a max_pages=N``).

With ``expand`` above 0, every site a crawled page links to (neither the page's own nor a
target) is met at one hop more than the page's site, seeds being hop 0; sites within
``expand`` hops wait in ``backlinkspider.discovery.SiteQueue``, which says which to open
next. A site is *opened* when fewer than ``DISCOVERY_OPEN_BELOW`` requests are queued or
in flight: its linked URL and home page are requested, and it is walked as a seed's site,
up to ``DISCOVERED_SITE_PAGE_LIMIT`` pages. What the crawl learns about sites reaches the
``sites`` collection on the pages' items (``PageItem.site_updates``).

``max_pages`` is Scrapy's ``CLOSESPIDER_PAGECOUNT``. On one machine the frontier is then
kept in a ``JOBDIR`` (Scrapy's own pause-and-resume: the queued requests, the seen set and
``spider.state``, where this mixin keeps the site queue and the per-site counts), so the
same command with a larger budget goes on from where the last stopped; a crawl that
finishes removes the directory it made. The distributed frontier keeps itself in Redis.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from collections.abc import Callable
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

import scrapy
from pymongo.database import Database
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy.utils.log import SpiderLoggerAdapter

from backlinkspider import discovery
from backlinkspider import signals as our_signals
from backlinkspider.discovery import SiteQueue, Weights
from backlinkspider.frontier import enabled as distributed_mode
from backlinkspider.guard import PRIVATE_NETWORK
from backlinkspider.items import PageItem, SiteUpdate
from backlinkspider.keys import SITE
from backlinkspider.links import ExtractedPage
from backlinkspider.robots_errors import ROBOTS_UNAVAILABLE
from backlinkspider.spiders.outcomes import now
from backlinkspider.urls import home_page, host_of, registered_domain

#: a site none of whose pages could be fetched for one of these reasons ends in that state
_FAILED_STATES = {PRIVATE_NETWORK: discovery.REFUSED, ROBOTS_UNAVAILABLE: discovery.ROBOTS_UNAVAILABLE}


def whole_number(name: str, raw: object) -> int:
    """A spider argument that must be an integer ≥ 0 (``None``/"" is 0)."""
    if raw is None or str(raw).strip() == "":
        return 0
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = -1
    if value < 0:
        raise ValueError(f"-a {name}= takes a whole number of 0 or more, not {raw!r}")
    return value


class SiteDiscoveryMixin:
    """Mix into the spider: ``expand`` (hops) and ``max_pages`` (budget) turn it on."""

    # Set by the spider this is mixed into:
    crawler: Crawler
    targets: frozenset[str]
    seed_urls: list[str]
    _requested: set[str]
    _site_requests: Counter[str]

    if TYPE_CHECKING:  # scrapy.Spider's and BacklinksSpider's

        @property
        def logger(self) -> SpiderLoggerAdapter: ...

        def _request(
            self, url: str, site: str, revisit: bool = False, found: bool = False, hop: int | None = None
        ) -> scrapy.Request | None: ...

        def _page_request(
            self, url: str, site: str, dont_filter: bool = False, hop: int | None = None
        ) -> scrapy.Request: ...

        async def from_store(self, query: Callable[..., Any]) -> Any: ...

    expand = 0
    max_pages = 0
    sites: SiteQueue | None = None
    shared_frontier = False

    def setup_budget(self, crawler: Crawler) -> None:
        """``max_pages``: Scrapy's page count, and on one machine a ``JOBDIR`` to go on from."""
        settings = crawler.settings
        if self.max_pages:
            settings.set("CLOSESPIDER_PAGECOUNT", self.max_pages, priority="spider")
        self._own_jobdir: Path | None = None
        if settings.getint("CLOSESPIDER_PAGECOUNT") and not settings.get("JOBDIR") and not distributed_mode(settings):
            key = json.dumps(
                [sorted(self.seed_urls), sorted(self.targets), self.expand, settings.get("MONGO_DATABASE")]
            )
            jobdir = Path(settings.get("CRAWL_STATE_DIR")).expanduser() / hashlib.sha1(key.encode()).hexdigest()[:16]
            settings.set("JOBDIR", str(jobdir), priority="spider")
            self._own_jobdir = jobdir
        if settings.get("JOBDIR"):
            crawler.signals.connect(self._connect_jobdir_cleanup, signal=signals.spider_opened)

    def setup_discovery(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self._site_pending: Counter[str] = Counter()  # requests queued or in flight, per site
        self._outstanding = 0
        self._site_pages: Counter[str] = Counter()  # responses, per site (sites.pages_crawled)
        self._site_failures: dict[str, str] = {}  # site -> why its pages failed, while none succeeded
        self._site_updates: list[SiteUpdate] = []
        if not self.expand:
            return
        self.shared_frontier = distributed_mode(settings)
        if self.shared_frontier:  # the order lives in Redis: this worker credits and records
            crawler.signals.connect(self._sites_met, signal=our_signals.sites_met)
            crawler.signals.connect(self._sites_opened, signal=our_signals.sites_opened)
        self.discovered_site_page_limit = settings.getint("DISCOVERED_SITE_PAGE_LIMIT")
        self.open_below = settings.getint("DISCOVERY_OPEN_BELOW") or settings.getint("CONCURRENT_REQUESTS")
        self.sites = SiteQueue(self.expand, settings.get("DISCOVERY_ORDER"), Weights.from_settings(settings))
        crawler.signals.connect(self._request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(self._open_sites_when_idle, signal=signals.spider_idle)

    # -- state -----------------------------------------------------------

    async def start_discovery(self) -> None:
        """Seeds at hop 0, the targets' pages learned; or the state a ``JOBDIR`` kept."""
        state = getattr(self, "state", None)  # Scrapy's SpiderState, with a JOBDIR
        if state is not None and "requested" in state:
            self.logger.info("Going on with the crawl kept in %s", self.crawler.settings.get("JOBDIR"))
            self._requested = state["requested"]
            self._site_requests = state["site_requests"]
            self._site_pending = state["site_pending"]
            self._site_pages = state["site_pages"]
            self._outstanding = sum(self._site_pending.values())
            if state.get("sites") is not None:
                self.sites = state["sites"]
        elif state is not None:
            state.update(
                requested=self._requested,
                site_requests=self._site_requests,
                site_pending=self._site_pending,
                site_pages=self._site_pages,
                sites=self.sites,
            )
        if self.sites is None:
            return
        for url in self.seed_urls:
            self.seed_site(registered_domain(host_of(url)))
        if self.targets and not self.sites.profile.pages:
            for terms in await self.from_store(_target_terms):
                self.sites.learn(terms)
            self.logger.info("Discovery: the targets' profile starts from %d stored pages", self.sites.profile.pages)

    def seed_site(self, domain: str) -> None:
        """A seed's site: hop 0, crawled from the start."""
        if self.sites is None or not domain or self.sites.hop(domain) is not None:
            return
        self.sites.add_seed(domain)
        self._site_updates.append(SiteUpdate(domain, discovery.CRAWLING, hop=0, first_seen=now()))

    def _connect_jobdir_cleanup(self, spider: scrapy.Spider) -> None:
        # Connected once the spider is open, so it runs after SpiderState has saved the state.
        self.crawler.signals.connect(self._remove_finished_jobdir, signal=signals.spider_closed)

    def _remove_finished_jobdir(self, spider: scrapy.Spider, reason: str) -> None:
        jobdir = self.crawler.settings.get("JOBDIR")
        if reason == "finished" and self._own_jobdir is not None:
            shutil.rmtree(self._own_jobdir, ignore_errors=True)
            self.logger.info("The crawl finished: removed its kept frontier %s", self._own_jobdir)
        elif reason != "finished":
            self.logger.info(
                "Crawl ended (%s): its frontier is kept in %s; run the same command to go on", reason, jobdir
            )

    # -- counting what is in flight ----------------------------------------

    def requested(self, site: str) -> None:
        """A page request of ``site`` left the spider."""
        self._site_pending[site] += 1
        self._outstanding += 1

    def settled(self, request: scrapy.Request | Response, outcome: str = "") -> None:
        """A page request of a site ended: ``""`` a response, else why it failed (a
        ``PageItem.error``), or ``"dropped"``/``"ignored"`` when nothing was fetched."""
        site = request.meta.get(SITE)
        if site is None or self._site_pending[site] <= 0:
            return
        self._outstanding -= 1
        self._site_pending[site] -= 1
        if not outcome:
            self._site_pages[site] += 1
        if outcome in _FAILED_STATES:
            self._site_failures.setdefault(site, outcome)
        elif outcome not in ("dropped", "ignored"):
            self._site_failures[site] = ""
        if self._site_pending[site] == 0:
            del self._site_pending[site]
            if self.sites is not None and self.sites.hop(site) is not None:
                state = _FAILED_STATES.get(self._site_failures.get(site, ""), discovery.DONE)
                self._site_updates.append(SiteUpdate(site, state, self._site_pages[site]))

    def _request_dropped(self, request: scrapy.Request, spider: scrapy.Spider | None = None) -> None:
        self.settled(request, "dropped")

    def site_page_limit_of(self, site: str, default: int) -> int:
        if self.sites is not None and site in self.sites.sites:
            return self.discovered_site_page_limit
        return default

    # -- expanding -------------------------------------------------------

    def discover(self, page: PageItem, found: ExtractedPage, site: str, hop: int | None) -> None:
        """What a parsed page of ``site`` (at ``hop``, distributed mode) adds to the site queue."""
        if self.sites is None:
            return
        if site in self.targets:  # a target's own page (crawl_targets): what backlinks should read like
            if page.terms:
                self.sites.learn(page.terms)
            return
        targets = self.targets
        external: dict[str, str] = {}  # site -> the first URL linked to in it
        links_target = False
        for url, host in chain(((link.url, link.host) for link in found.links), found.others):
            domain = registered_domain(host)
            if not domain or domain == site:
                continue
            if domain in targets:
                links_target = True
            else:
                external.setdefault(domain, url)
        if self.shared_frontier:
            self._credit_in_redis(page, site, hop, external, links_target)
            return
        for new in self.sites.saw(page.url, site, external, links_target, page.terms, page.fetched_at):
            self._site_updates.append(
                SiteUpdate(new.domain, discovery.QUEUED, 0, new.hop, new.discovered_from, new.first_seen, new.priority)
            )
        self.crawler.stats.set_value("backlinks/discovery/sites_met", len(self.sites.sites))

    def _credit_in_redis(
        self, page: PageItem, site: str, hop: int | None, external: dict[str, str], links_target: bool
    ) -> None:
        """Distributed mode: the credits go to the frontier's sorted set with the next flush."""
        assert self.sites is not None
        if hop is None or hop > self.expand or not external:
            return  # a page at the last hop meets no site, but speaks for those met (the script knows)
        evidence = self.sites.evidence(links_target, page.terms)
        credits = [(domain, site, evidence, hop + 1, page.url, url) for domain, url in external.items()]
        self.crawler.signals.send_catch_log(our_signals.sites_linked, credits=credits)

    def site_entry_requests(self, site: str, url: str, hop: int) -> list[scrapy.Request]:
        """The requests that open a site met at ``url``: that page and the site's home page."""
        home = home_page(url)
        return [self._page_request(u, site, hop=hop) for u in dict.fromkeys([url, home]) if u]

    def _sites_met(self, met: list[tuple[str, int, str]]) -> None:
        for site, hop, origin in met:
            self._site_updates.append(SiteUpdate(site, discovery.QUEUED, 0, hop, origin, now(), None))

    def _sites_opened(self, opened: list[tuple[str, float]]) -> None:
        for site, priority in opened:
            self._site_updates.append(SiteUpdate(site, discovery.CRAWLING, priority=priority))

    def open_sites(self) -> list[scrapy.Request]:
        """Requests for the best waiting sites, while fewer than ``open_below`` are pending."""
        requests: list[scrapy.Request] = []
        while self.sites is not None and self._outstanding < self.open_below:
            site = self.sites.pop()
            if site is None:
                break
            self.crawler.stats.inc_value("backlinks/discovery/sites_opened")
            self.logger.debug("Opening %s (hop %d, priority %.3g)", site.domain, site.hop, site.priority)
            home = home_page(site.entry)
            urls = [url for url in dict.fromkeys([site.entry, home]) if url]
            opened = [r for r in (self._request(url, site.domain, hop=site.hop) for url in urls) if r is not None]
            state = discovery.CRAWLING if opened else discovery.DONE
            self._site_updates.append(SiteUpdate(site.domain, state, priority=site.priority))
            requests.extend(opened)
        return requests

    def sites_waiting(self) -> bool:
        return self.sites is not None and len(self.sites) > 0

    def _open_sites_when_idle(self) -> None:
        """Nothing queued or in flight: whatever the counts say, open the next sites."""
        if not self.sites_waiting():
            return
        self._outstanding = 0
        self._site_pending.clear()
        requests = self.open_sites()
        for request in requests:
            self.crawler.engine.crawl(request)
        if requests or self.sites_waiting():
            raise DontCloseSpider

    def site_updates_for(self, page: PageItem) -> None:
        """Hand the site news gathered so far to ``page``, with its own site's page count."""
        if self.sites is None:
            return
        site = registered_domain(page.host) if page.host else ""
        updates, self._site_updates = self._site_updates, []
        if site and self.sites.hop(site) is not None:
            updates.append(SiteUpdate(site, pages_crawled=self._site_pages[site]))
        page.site_updates = updates


def _target_terms(db: Database, targets: frozenset[str]) -> list[dict]:
    """The stored term counts of the targets' own pages (at most 2,000)."""
    from backlinkspider import store

    return store.target_page_terms(db, targets)
