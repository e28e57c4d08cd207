"""DOWNLOAD_DELAY for the whole cluster: one request to a host per delay.

Scrapy spaces the requests of one process to a host by ``DOWNLOAD_DELAY``;
N workers would each keep their own spacing and hit the host N times as
often. The frontier already leases one request per host per delay, but a
leased request can wait in a worker before it is sent, and two leases a
delay apart can then go out closer together. So, right before a leased
request enters the downloader, this middleware takes the host's turn in
Redis: ``SET P:polite:<host> NX PX delay``, on the Redis clock. Whoever sets
it goes now; the others wait for the key to expire (``PTTL``) and try again.
One round trip a request, and only when ``DOWNLOAD_DELAY`` is above zero.

In distributed mode the add-on moves ``DOWNLOAD_DELAY`` here
(``FRONTIER_DOWNLOAD_DELAY``) and sets Scrapy's own per-process delay and
AutoThrottle, which would add waits after the turn is taken, to zero.
"""

from __future__ import annotations

import asyncio
import logging

from redis.exceptions import RedisError

from backlinkspider.frontier.connection import async_client
from backlinkspider.keys import HOST, LEASE, RedisKeys

logger = logging.getLogger(__name__)


class ClusterPolitenessMiddleware:
    """Downloader middleware: wait for the host's turn, cluster-wide."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.delay_ms = int(crawler.settings.getfloat("FRONTIER_DOWNLOAD_DELAY") * 1000)
        self.redis = async_client(crawler.settings) if self.delay_ms > 0 else None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request):
        if self.redis is None or LEASE not in request.meta:
            return None  # no delay, or not a frontier request (robots.txt)
        key = RedisKeys(self.crawler.spider.name).polite(request.meta.get(HOST, ""))
        waited = 0
        while True:
            try:
                if await self.redis.set(key, 1, nx=True, px=self.delay_ms):
                    break
                wait_ms = await self.redis.pttl(key)
            except RedisError as exc:  # never stall the crawl on it: Scrapy's own delay is gone
                logger.warning("Cluster-wide delay unavailable (%s); waiting %d ms locally", exc, self.delay_ms)
                await asyncio.sleep(self.delay_ms / 1000)
                break
            wait_ms = wait_ms if wait_ms > 0 else 1
            waited += wait_ms
            await asyncio.sleep(wait_ms / 1000)
        if waited:
            self.crawler.stats.inc_value("frontier/politeness_wait_ms", waited)
        return None
