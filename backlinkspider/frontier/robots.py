"""robots.txt fetched once per host per day for the whole cluster.

Scrapy's ``RobotsTxtMiddleware`` keeps parsed robots.txt files per process,
so N workers fetch each one N times, and again at every restart. This
subclass keeps the body (and status) of every robots.txt it fetches in Redis
under ``P:robots:<scheme>://<netloc>`` for ``ROBOTS_CACHE_TTL`` seconds (24 hours,
as RFC 9309 allows caching for), and reads it there before fetching. A short
lock key makes the first worker the only one to fetch; the others wait up to
``ROBOTS_LOCK_WAIT`` seconds for its answer. It shares the first
``robots_txt.MAX_BYTES`` of the body, exactly what the fetching worker's parser
reads, so every worker answers every URL the same way. A failed fetch is shared
for most of ``ROBOTS_ERROR_RETRY`` only (``robots_errors.py`` says what it means).
"""

from __future__ import annotations

import asyncio
import json
import logging

from redis.exceptions import RedisError
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler

from backlinkspider.frontier.connection import async_client
from backlinkspider.keys import RedisKeys
from backlinkspider.robots_errors import RFC9309RobotsTxtMiddleware
from backlinkspider.robots_txt import MAX_BYTES

logger = logging.getLogger(__name__)


class SharedRobotsTxtMiddleware(RFC9309RobotsTxtMiddleware):
    """``RobotsTxtMiddleware`` with a cluster-wide cache in Redis."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self.redis = async_client(crawler.settings)
        self.ttl = crawler.settings.getint("ROBOTS_CACHE_TTL")
        self.lock_wait = crawler.settings.getfloat("ROBOTS_LOCK_WAIT")
        self.keys: RedisKeys | None = None

    @property
    def _keys(self) -> RedisKeys:
        if self.keys is None:  # the spider's name is known once the crawl runs
            assert self.crawler.spider is not None
            self.keys = RedisKeys(self.crawler.spider.name)
        return self.keys

    async def robot_parser(self, request):
        netloc = urlparse_cached(request).netloc
        if netloc not in self._parsers:
            origin = self._origins[netloc] = self._origin(request)
            try:
                cached = await self._cached(origin)
            except RedisError as exc:
                logger.warning("robots.txt cache unreachable (%s); fetching %s directly", exc, netloc)
                cached = None
            if cached is not None and "error" in cached:  # another worker's fetch failed just now
                self._stats.inc_value("robotstxt/shared_error_hit")
                self._failed(netloc, f"{cached['error']}, as another worker found", shared=True)
            elif cached is not None:
                self._stats.inc_value("robotstxt/shared_cache_hit")
                body = cached["body"].encode("latin-1")
                self._parsers[netloc] = build_from_crawler(self._parserimpl, self.crawler, body)
        return await super().robot_parser(request)

    async def _cached(self, origin: str) -> dict | None:
        """The shared record of ``origin``'s robots.txt (``body``, or ``error``), or None: ours to fetch."""
        key = self._keys.robots(origin)
        record = await self.redis.get(key)
        if record is not None:
            return json.loads(record)
        if await self.redis.set(self._keys.robots_lock(origin), 1, nx=True, ex=max(int(self.lock_wait), 1)):
            return None  # ours to fetch
        waited = 0.0
        while waited < self.lock_wait:  # another worker is fetching it
            await asyncio.sleep(0.2)
            waited += 0.2
            record = await self.redis.get(key)
            if record is not None:
                return json.loads(record)
        return None

    def _failed(self, netloc: str, why: str, exc: Exception | None = None, shared: bool = False) -> None:
        """A failed fetch is shared until just before the next try is due (``ROBOTS_ERROR_RETRY``), so the
        other workers hold their pages too instead of fetching a failing robots.txt again."""
        super()._failed(netloc, why, exc)
        origin = self._origins.get(netloc)
        if shared or origin is None:
            return
        record = json.dumps({"error": why[:200]})
        asyncio.ensure_future(self._share(self._keys.robots(origin), record, netloc))

    def _read_as_absent(self, netloc, why, since):
        """Failing for longer than ``ROBOTS_ERROR_ABSENT_AFTER``: shared as no rules until the next
        try is due, so the other workers crawl the host too without fetching it again."""
        super()._read_as_absent(netloc, why, since)
        origin = self._origins.get(netloc)
        if origin is not None:
            record = json.dumps({"status": 0, "url": f"{origin}/robots.txt", "body": "", "absent_since": str(since)})
            asyncio.ensure_future(self._share(self._keys.robots(origin), record, netloc))

    async def _share(self, key: str, record: str, netloc: str) -> None:
        """Share a fetch's outcome until a little before the next try is due: this worker's own
        next try must find it gone and fetch, not count the shared record as another failure."""
        try:
            await self.redis.set(key, record, px=max(1, int(self.retry_after * 800)))
        except RedisError as exc:
            logger.warning("Could not share the failed robots.txt of %s in Redis: %s", netloc, exc)

    async def _parse_robots(self, response, netloc, request):
        await super()._parse_robots(response, netloc, request)
        if response.status >= 500 or response.status == 429 or 300 <= response.status < 400:
            return  # a failed fetch: shared by _failed, for a short while
        # A 4xx is shared as what it means: no rules.
        body = b"" if response.status >= 400 else response.body[:MAX_BYTES]
        record = json.dumps({"status": response.status, "url": response.url, "body": body.decode("latin-1")})
        try:
            await self.redis.set(self._keys.robots(self._origin(request)), record, ex=self.ttl)
        except RedisError as exc:
            logger.warning("Could not cache robots.txt of %s in Redis: %s", netloc, exc)
