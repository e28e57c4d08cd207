"""robots.txt fetched once per host per day for the whole cluster.

Scrapy's ``RobotsTxtMiddleware`` keeps parsed robots.txt files per process,
so N workers fetch each one N times, and again at every restart. This
subclass keeps the body (and status) of every robots.txt it fetches in Redis
under ``P:robots:<scheme>://<netloc>`` for ``ROBOTS_CACHE_TTL`` seconds (24 hours,
as RFC 9309 allows caching for), and reads it there before fetching. A short
lock key makes the first worker the only one to fetch; the others wait up to
``ROBOTS_LOCK_WAIT`` seconds for its answer. It shares the first
``robots_txt.MAX_BYTES`` of the body, exactly what the fetching worker's parser
reads, so every worker answers every URL the same way. Fetch errors are not cached:
Scrapy then allows everything, and the next worker tries again.
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

_DEFAULT_PORTS = {"http": 80, "https": 443}


class SharedRobotsTxtMiddleware(RFC9309RobotsTxtMiddleware):
    """``RobotsTxtMiddleware`` with a cluster-wide cache in Redis."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self.redis = async_client(crawler.settings)
        self.ttl = crawler.settings.getint("ROBOTS_CACHE_TTL")
        self.lock_wait = crawler.settings.getfloat("ROBOTS_LOCK_WAIT")
        self.keys: RedisKeys | None = None

    def _origin(self, request) -> str:
        """One entry per origin: http://Host:80 and http://host are the same robots.txt."""
        url = urlparse_cached(request)
        port = "" if url.port in (None, _DEFAULT_PORTS.get(url.scheme)) else f":{url.port}"
        return f"{url.scheme}://{url.hostname}{port}"

    @property
    def _keys(self) -> RedisKeys:
        if self.keys is None:  # the spider's name is known once the crawl runs
            assert self.crawler.spider is not None
            self.keys = RedisKeys(self.crawler.spider.name)
        return self.keys

    async def robot_parser(self, request):
        netloc = urlparse_cached(request).netloc
        if netloc not in self._parsers:
            try:
                cached = await self._cached(self._origin(request))
            except RedisError as exc:
                logger.warning("robots.txt cache unreachable (%s); fetching %s directly", exc, netloc)
                cached = None
            if cached is not None:
                self._stats.inc_value("robotstxt/shared_cache_hit")
                self._parsers[netloc] = build_from_crawler(self._parserimpl, self.crawler, cached)
        return await super().robot_parser(request)

    async def _cached(self, origin: str) -> bytes | None:
        key = self._keys.robots(origin)
        body = await self.redis.get(key)
        if body is not None:
            return json.loads(body)["body"].encode("latin-1")
        if await self.redis.set(self._keys.robots_lock(origin), 1, nx=True, ex=max(int(self.lock_wait), 1)):
            return None  # ours to fetch
        waited = 0.0
        while waited < self.lock_wait:  # another worker is fetching it
            await asyncio.sleep(0.2)
            waited += 0.2
            body = await self.redis.get(key)
            if body is not None:
                return json.loads(body)["body"].encode("latin-1")
        return None

    async def _parse_robots(self, response, netloc, request):
        await super()._parse_robots(response, netloc, request)
        if response.status >= 500 or response.status == 429 or 300 <= response.status < 400:
            return  # a failed fetch is not shared: each worker holds its pages and tries again
        # A 4xx is shared as what it means: no rules.
        body = b"" if response.status >= 400 else response.body[:MAX_BYTES]
        record = json.dumps({"status": response.status, "url": response.url, "body": body.decode("latin-1")})
        try:
            await self.redis.set(self._keys.robots(self._origin(request)), record, ex=self.ttl)
        except RedisError as exc:
            logger.warning("Could not cache robots.txt of %s in Redis: %s", netloc, exc)
