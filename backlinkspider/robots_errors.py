"""robots.txt that cannot be fetched, as RFC 9309 says: the host is disallowed for now.

Scrapy reads a robots.txt that answers 5xx as its error page (no rules: allow
everything) and one that times out, is refused or does not resolve as absent
(allow everything). RFC 9309 (section 2.3.1.4) says the opposite: when robots.txt
is unreachable because of server or network errors, the crawler must assume a
complete disallow. Here:

* 2xx: parsed (the first 500 KiB, ``robots_txt.MAX_BYTES``).
* 4xx: no rules, everything allowed, as before.
* 5xx, a timeout, a refused or reset connection, a DNS failure, more than five
  redirects: the host's pages (and target checks) are held back (they take no
  download slot; a direct download, such as a redirect resolution, fails) and
  robots.txt is fetched again after ``ROBOTS_ERROR_RETRY`` seconds, at most
  ``ROBOTS_ERROR_TRIES`` times in one crawl. If it still fails, the held pages
  and any later ones are recorded as not visited (``error: robots_unavailable``,
  which never makes a backlink lost) and the crawl ends normally.
* A robots.txt that has been failing for ``ROBOTS_ERROR_ABSENT_AFTER`` (30 days),
  across crawls, is read as absent: no rules, as RFC 9309 allows after "a
  reasonably long period". When each run of errors began is kept in the store
  (``store/robots.py``), so every crawl and every worker counts from the same day.

In distributed mode ``frontier/robots.py`` shares a failed fetch until just before
the next try is due, so N workers do not hammer a failing host.

Stats: ``robotstxt/disallowed_host_error`` (each failed fetch),
``robotstxt/held`` (pages held back), ``robotstxt/unavailable`` (pages given up),
``robotstxt/error_read_as_absent`` (hosts failing for longer than the period).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from pymongo.errors import PyMongoError
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred

from backlinkspider import store
from backlinkspider.embedded import EmbeddedMongoError

logger = logging.getLogger(__name__)


def store_now() -> datetime:
    """Now, as the store's dates are read back: UTC-aware."""
    return datetime.now(timezone.utc)


ROBOTS_UNAVAILABLE = "robots_unavailable"
_REDIRECTS = 5  # RFC 9309 2.3.1.2: follow at least five consecutive redirects
_DEFAULT_PORTS = {"http": 80, "https": 443}


class RobotsHeld(IgnoreRequest):
    """The page waits for its host's robots.txt to be fetched again: nothing to record yet."""


class RobotsUnavailable(IgnoreRequest):
    """The host's robots.txt could not be fetched, every try: the page is not visited."""


@dataclass
class _Failing:
    """A host whose robots.txt failed: how often, and the pages waiting for it."""

    tries: int = 0
    held: list[Request] = field(default_factory=list)
    retry_scheduled: bool = False


class RFC9309RobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's ``RobotsTxtMiddleware`` with RFC 9309's reading of fetch errors."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.retry_after = crawler.settings.getfloat("ROBOTS_ERROR_RETRY")
        self.max_tries = max(1, crawler.settings.getint("ROBOTS_ERROR_TRIES"))
        self.absent_after = timedelta(seconds=crawler.settings.getfloat("ROBOTS_ERROR_ABSENT_AFTER"))
        self._failing: defaultdict[str, _Failing] = defaultdict(_Failing)
        self._origins: dict[str, str] = {}  # netloc -> origin, as the store and the cache key them
        self._store: asyncio.Future | None = None  # the store, opened at the first robots.txt
        self._since: dict[str, datetime] = {}  # origin -> the first error of its run, from the store
        crawler.signals.connect(self._spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)

    @staticmethod
    def _origin(request: Request) -> str:
        """One entry per origin: http://Host:80 and http://host are the same robots.txt."""
        url = urlparse_cached(request)
        port = "" if url.port in (None, _DEFAULT_PORTS.get(url.scheme)) else f":{url.port}"
        return f"{url.scheme}://{url.hostname}{port}"

    def process_request_2(self, rp, request: Request) -> None:  # type: ignore[no-untyped-def]
        netloc = urlparse_cached(request).netloc
        failing = self._failing.get(netloc)
        if rp is None and failing is not None and 0 < failing.tries:
            # Only what the scheduler sent can wait and come back; a direct download
            # (redirect resolution) fails now.
            if failing.tries >= self.max_tries or request.callback is None:
                self._stats.inc_value("robotstxt/unavailable")
                raise RobotsUnavailable(f"{ROBOTS_UNAVAILABLE}: robots.txt of {netloc} could not be fetched")
            failing.held.append(request)
            self._stats.inc_value("robotstxt/held")
            self._schedule_retry(netloc)
            raise RobotsHeld(f"waiting for the robots.txt of {netloc}")
        super().process_request_2(rp, request)

    async def robot_parser(self, request: Request):  # type: ignore[no-untyped-def]
        """Scrapy's, with the robots.txt request allowed five redirects (RFC 9309), not ten."""
        url = urlparse_cached(request)
        netloc = url.netloc
        if netloc not in self._parsers:
            self._parsers[netloc] = Deferred()
            self._origins.setdefault(netloc, self._origin(request))
            robotsreq = Request(
                f"{url.scheme}://{netloc}/robots.txt",
                priority=self.DOWNLOAD_PRIORITY,
                meta={"dont_obey_robotstxt": True, "redirect_ttl": _REDIRECTS},
                callback=NO_CALLBACK,
            )
            try:
                assert self.crawler.engine is not None
                response = await self.crawler.engine.download_async(robotsreq)
                await self._parse_robots(response, netloc, request)
            except Exception as exc:  # timeouts, DNS, refused, too many redirects: logged in _failed
                await self._fetch_failed(netloc, repr(exc), exc)
            self._stats.inc_value("robotstxt/request_count")
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            return await maybe_deferred_to_future(parser)
        return parser

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status >= 500 or response.status == 429:
            await self._fetch_failed(netloc, f"HTTP {response.status}")
            return
        if 300 <= response.status < 400:  # redirects beyond RedirectMiddleware's or ours
            await self._fetch_failed(netloc, "too many redirects")
            return
        self._failing.pop(netloc, None)
        await self._fetched(netloc)
        if 400 <= response.status < 500:  # no robots.txt: no rules
            response = response.replace(body=b"")
        await super()._parse_robots(response, netloc, request)

    async def _fetch_failed(self, netloc: str, why: str, exc: Exception | None = None) -> None:
        """Our own fetch failed: the host is disallowed for now, unless it has failed for so long
        (``ROBOTS_ERROR_ABSENT_AFTER``) that RFC 9309 lets us read it as absent."""
        since = await self._record_error(netloc, why)
        if since is not None and self.absent_after and store_now() - since >= self.absent_after:
            self._read_as_absent(netloc, why, since)
        else:
            self._failed(netloc, why, exc)

    def _read_as_absent(self, netloc: str, why: str, since: datetime) -> None:
        self._failing.pop(netloc, None)
        self._stats.inc_value("robotstxt/error_read_as_absent")
        logger.warning("robots.txt of %s could not be fetched (%s) and has failed since %s: read as absent "
                       "(no rules), as RFC 9309 allows after ROBOTS_ERROR_ABSENT_AFTER",
                       netloc, why, f"{since:%Y-%m-%d %H:%M} UTC")  # fmt: skip
        parser = build_from_crawler(self._parserimpl, self.crawler, b"")
        waiting = self._parsers.get(netloc)
        self._parsers[netloc] = parser
        if isinstance(waiting, Deferred):
            waiting.callback(parser)

    async def _record_error(self, netloc: str, why: str) -> datetime | None:
        """The start of the host's run of robots.txt errors, across crawls; None without a store."""
        db = await self._database()
        origin = self._origins.get(netloc)
        if db is None or origin is None:
            return None
        try:
            since = await asyncio.to_thread(store.record_robots_error, db, origin, why, store_now())
        except PyMongoError as exc:
            logger.warning("Could not record the failed robots.txt of %s: %s", netloc, exc)
            return None
        self._since[origin] = since
        return since

    async def _fetched(self, netloc: str) -> None:
        """A robots.txt that failed in an earlier crawl answers again: its run of errors is over."""
        db = await self._database()
        origin = self._origins.get(netloc)
        if db is None or origin not in self._since:
            return
        del self._since[origin]
        try:
            await asyncio.to_thread(store.clear_robots_error, db, origin)
        except PyMongoError as exc:
            logger.warning("Could not clear the robots.txt errors of %s: %s", netloc, exc)

    async def _database(self) -> Any:
        """The store, opened once (in a thread: it may start the embedded server), with the hosts
        that were failing; None if it cannot be reached, and the 30-day rule is off."""
        if self._store is None:
            self._store = asyncio.ensure_future(asyncio.to_thread(self._open_store))
        return await self._store

    def _open_store(self) -> Any:
        try:
            db = store.open_database(self.crawler.settings)
            self._since = store.failing_robots(db)
        except (PyMongoError, EmbeddedMongoError) as exc:
            logger.warning("The store is unreachable (%s): robots.txt errors are not counted across crawls", exc)
            return None
        return db

    def _spider_closed(self, spider: object = None) -> None:
        if self._store is not None and self._store.done() and self._store.result() is not None:
            self._store.result().client.close()

    def _failed(self, netloc: str, why: str, exc: Exception | None = None, shared: bool = False) -> None:
        failing = self._failing[netloc]
        failing.tries += 1
        self._stats.inc_value("robotstxt/disallowed_host_error")
        if failing.tries >= self.max_tries:
            logger.warning("robots.txt of %s could not be fetched (%s), %d tries: its pages are not visited",
                           netloc, why, failing.tries)  # fmt: skip
        else:
            logger.warning("robots.txt of %s could not be fetched (%s): its pages wait %.0f s for another try",
                           netloc, why, self.retry_after)  # fmt: skip
        if exc is not None:
            super()._robots_error(exc, netloc)  # resolves the waiting requests with no parser
            return
        waiting = self._parsers.get(netloc)
        self._parsers[netloc] = None
        if isinstance(waiting, Deferred):
            waiting.callback(None)

    def _schedule_retry(self, netloc: str) -> None:
        failing = self._failing[netloc]
        if failing.retry_scheduled:
            return
        failing.retry_scheduled = True
        call_later(self.retry_after, self._retry, netloc)

    def _retry(self, netloc: str) -> None:
        """Forget the failed fetch and send the held pages again: the first refetches robots.txt."""
        failing = self._failing[netloc]
        failing.retry_scheduled = False
        held, failing.held = failing.held, []
        self._parsers.pop(netloc, None)
        engine = self.crawler.engine
        if engine is None:
            return
        for request in held:
            engine.crawl(request.replace(dont_filter=True))

    def _spider_idle(self, spider: object = None) -> None:
        """A crawl with pages waiting for a robots.txt is not done."""
        if any(f.held or f.retry_scheduled for f in self._failing.values()):
            raise DontCloseSpider
