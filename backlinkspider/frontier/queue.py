"""The shared frontier (``SCHEDULER_QUEUE_CLASS``): per-host queues with leases.

scrapy-redis pops a request and forgets it: a worker killed with 32 requests
in flight loses all 32. Here a pop is a *lease*: the entry moves into the
worker's ``P:leases:<worker>`` hash and stays there until the worker acks it
(once the page's items are in MongoDB) or gives it back. A worker that stops
sending heartbeats is declared dead after ``FRONTIER_LEASE_TIMEOUT`` seconds
and any live worker's heartbeat puts everything it held back in the queue.
Writes are idempotent, so a page crawled twice stores nothing twice.

Requests queue per host (``P:requests:<host>``) and a sorted set orders the
hosts by when each may be fetched next, on the Redis clock. A pop leases at
most ``CONCURRENT_REQUESTS_PER_DOMAIN`` requests of one host across the whole
cluster and, with ``DOWNLOAD_DELAY``, one per host per delay: politeness holds
for N workers as it does for one.

The asyncio methods are the hot path (one script a call, batched by the
scheduler); the blocking ``push``/``pop``/``__len__`` keep scrapy-redis's
queue interface for tools and tests.
"""

from __future__ import annotations

import json

from scrapy import Request
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.request import request_from_dict
from scrapy_redis.queue import Base

from backlinkspider.frontier import scripts
from backlinkspider.frontier import serializer as json_serializer
from backlinkspider.frontier.connection import async_client
from backlinkspider.keys import RedisKeys


class LeasedQueue(Base):
    """Per-host FIFO queues in Redis, popped under leases."""

    def __init__(self, server, spider, key, serializer=None):
        super().__init__(server, spider, key, serializer or json_serializer)
        self.prefix = spider.name
        self.keys = RedisKeys(spider.name)
        settings = spider.crawler.settings
        self.aio = async_client(settings)
        self._flush = self.aio.register_script(scripts.FLUSH)
        self._pop = self.aio.register_script(scripts.POP)
        self._heartbeat = self.aio.register_script(scripts.HEARTBEAT)
        self._leave = self.aio.register_script(scripts.LEAVE)

    # -- entries ---------------------------------------------------------

    def encode(self, request) -> str:
        return self._encode_request(request)

    def _encode_request(self, request):
        # Request.to_dict(spider=…) finds a callback's name by scanning every
        # member of the spider, twice a request; a bound method knows its name.
        names = []
        for func in (request.callback, request.errback):
            if callable(func) and getattr(func, "__self__", None) is not self.spider:
                return self.serializer.dumps(request.to_dict(spider=self.spider))
            names.append(func.__name__ if callable(func) else func)
        d = {"url": request.url, "callback": names[0], "errback": names[1], "headers": dict(request.headers)}
        for attr in request.attributes:  # what Request.to_dict() adds
            d.setdefault(attr, getattr(request, attr))
        if type(request) is not Request:
            d["_class"] = f"{type(request).__module__}.{type(request).__name__}"
        return self.serializer.dumps(d)

    def decode(self, entry):
        return self._decode_request(entry)

    def _decode_request(self, encoded_request):
        return request_from_dict(self.serializer.loads(encoded_request), spider=self.spider)

    @staticmethod
    def host(request) -> str:
        return urlparse_cached(request).hostname or ""

    # -- the hot path (asyncio) ------------------------------------------

    async def flush(
        self, worker, pushes, releases, acks, requeues, bloom, limits, credits=(), ranking=("focused", 0, 1.0, 0.1)
    ):
        """One script: dedupe and enqueue ``pushes``, free ``releases``, end ``acks``, give back
        ``requeues``, and credit the sites pages linked to (``expand``). ``limits``: the page caps
        of seed sites and of sites met by expanding; ``ranking``: (DISCOVERY_ORDER, expand,
        DISCOVERY_REACH_BOOST, DISCOVERY_INDEGREE_WEIGHT). Returns (added, duplicates, capped,
        met): ``met`` the sites credited for the first time, as (site, hop, discovered_from)."""
        args = [self.prefix, worker, bloom[0], bloom[1], limits[0], limits[1], *ranking, len(pushes)]
        for push in pushes:
            args.extend(push)
        for batch in (releases, acks, requeues):
            args.append(len(batch))
            args.extend(batch)
        args.append(len(credits))
        for credit in credits:
            args.extend(credit)
        added, dups, capped, met = await self._flush(args=args)
        found = [(met[i].decode(), int(met[i + 1]), met[i + 2].decode()) for i in range(0, len(met), 3)]
        return int(added), int(dups), int(capped), found

    async def lease(self, worker, n, delay_ms, host_limit, scan, seeds_max, open_below=0, bloom=(0, 0), limits=(0, 0)):
        """Lease up to ``n`` requests, opening the best waiting sites first while fewer than
        ``open_below`` are queued or leased (``expand``)."""
        seeds, out, queued, leased, wait, start_urls, opened = await self._pop(
            args=[self.prefix, worker, n, delay_ms, host_limit, scan, seeds_max, open_below, *bloom, *limits]
        )
        leases = [(out[i].decode(), out[i + 1].decode(), out[i + 2]) for i in range(0, len(out), 3)]
        sites = [(opened[i].decode(), float(opened[i + 1])) for i in range(0, len(opened), 2)]
        return seeds, leases, int(queued), int(leased), int(wait), int(start_urls), sites

    async def heartbeat(self, worker, timeout_ms, info: dict):
        reclaimed, dead = await self._heartbeat(args=[self.prefix, worker, timeout_ms, json.dumps(info)])
        return int(reclaimed), int(dead)

    async def leave(self, worker) -> int:
        return int(await self._leave(args=[self.prefix, worker]))

    async def close(self):
        await self.aio.aclose()

    # -- scrapy-redis's blocking interface --------------------------------

    def __len__(self):
        return int(self.server.hget(self.keys.stats, "queued") or 0)

    def push(self, request):
        """Enqueue one request, unfiltered (blocking; the scheduler batches instead)."""
        host = self.host(request)
        self.server.rpush(self.keys.host_queue(host), self.encode(request))
        self.server.zadd(self.keys.requests, {host: 0}, nx=True)
        self.server.hincrby(self.keys.stats, "queued", 1)

    def pop(self, timeout=0):
        raise NotImplementedError("LeasedQueue hands out requests under leases: use lease()")

    def clear(self):
        """Delete the whole crawl state under the prefix (``backlinks reset``)."""
        clear(self.server, self.prefix)


def clear(server, prefix: str) -> int:
    """Delete every key of crawl ``prefix``; the number deleted."""
    deleted = 0
    batch = []
    for key in server.scan_iter(match=RedisKeys(prefix).all, count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            deleted += server.unlink(*batch)
            batch = []
    if batch:
        deleted += server.unlink(*batch)
    return deleted
