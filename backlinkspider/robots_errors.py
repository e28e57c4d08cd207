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

In distributed mode ``frontier/robots.py`` shares a failed fetch for
``ROBOTS_ERROR_RETRY`` seconds, so N workers do not hammer a failing host.

Stats: ``robotstxt/disallowed_host_error`` (each failed fetch),
``robotstxt/held`` (pages held back), ``robotstxt/unavailable`` (pages given up).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)

ROBOTS_UNAVAILABLE = "robots_unavailable"
_REDIRECTS = 5  # RFC 9309 2.3.1.2: follow at least five consecutive redirects


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
        self._failing: defaultdict[str, _Failing] = defaultdict(_Failing)
        crawler.signals.connect(self._spider_idle, signal=signals.spider_idle)

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
                self._robots_error(exc, netloc)
            self._stats.inc_value("robotstxt/request_count")
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            return await maybe_deferred_to_future(parser)
        return parser

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status >= 500 or response.status == 429:
            self._failed(netloc, f"HTTP {response.status}")
            return
        if 300 <= response.status < 400:  # redirects beyond RedirectMiddleware's or ours
            self._failed(netloc, "too many redirects")
            return
        self._failing.pop(netloc, None)
        if 400 <= response.status < 500:  # no robots.txt: no rules
            response = response.replace(body=b"")
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        self._failed(netloc, repr(exc), exc)

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
