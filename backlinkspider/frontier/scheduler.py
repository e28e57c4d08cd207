"""scrapy-redis's Scheduler without its blocking calls, lost requests or wipes.

scrapy-redis's scheduler makes one blocking Redis call per request enqueued
and per request dequeued, on the reactor thread, and the dupefilter one more
per link: about 37 round trips a page. This subclass keeps scrapy-redis's
keys, settings and extension points and changes how it talks to Redis:

* ``enqueue_request`` only appends to an outbox. One flush script, run on
  the asyncio loop, dedupes (Bloom filter) and enqueues everything gathered
  since the last flush, frees the host slots of responses that came in, and
  acks the requests whose items are stored. At most one flush is in flight:
  the slower Redis answers, the more a flush carries.
* ``next_request`` hands out requests leased in advance by one pop script
  (up to ``FRONTIER_PREFETCH``); the pop also takes new seeds from
  ``P:start_urls``, so seeds pushed at any time start within a second or two.
* A heartbeat renews this worker's leases and reclaims dead workers'.
* ``SCHEDULER_FLUSH_ON_START`` and ``SCHEDULER_PERSIST=False`` are refused: one
  worker must not wipe the frontier of all. ``backlinks reset`` does that.
* The cluster is idle only when no request is queued or leased anywhere; a
  worker then exits after ``MAX_IDLE_TIME_BEFORE_CLOSE`` seconds (0: never).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
import uuid
from collections import deque
from typing import Any

from redis.exceptions import RedisError
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.asyncio import create_looping_call
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.misc import load_object
from scrapy_redis.scheduler import Scheduler

from backlinkspider import signals as our_signals
from backlinkspider.discovery import Weights
from backlinkspider.frontier.connection import when_redis_answers
from backlinkspider.frontier.serializer import SerializationError
from backlinkspider.frontier.spider import read_targets
from backlinkspider.keys import HOST, LEASE, SITE
from backlinkspider.scope import in_site

logger = logging.getLogger(__name__)

_MAX_PUSHES = 2000  # requests per flush script, so no script holds Redis for long


class FrontierScheduler(Scheduler):
    """The scheduler of distributed mode (set by ``backlinkspider.frontier.FrontierAddon``)."""

    # scrapy-redis's Scheduler sets these in its (untyped) __init__.
    flush_on_start: bool
    persist: bool
    df: Any

    @classmethod
    def from_crawler(cls, crawler):
        # scrapy-redis pings Redis here: a worker started during an outage waits for it.
        scheduler = when_redis_answers(
            lambda: super(FrontierScheduler, cls).from_crawler(crawler), crawler.settings, "opening the frontier"
        )
        scheduler.crawler = crawler
        s = crawler.settings
        scheduler.prefetch = s.getint("FRONTIER_PREFETCH") or s.getint("CONCURRENT_REQUESTS")
        scheduler.lease_timeout = s.getfloat("FRONTIER_LEASE_TIMEOUT")
        scheduler.heartbeat_interval = s.getfloat("FRONTIER_HEARTBEAT_INTERVAL")
        scheduler.poll_interval = s.getfloat("FRONTIER_POLL_INTERVAL")
        scheduler.delay_ms = int(s.getfloat("FRONTIER_DOWNLOAD_DELAY") * 1000)
        scheduler.host_limit = max(1, s.getint("CONCURRENT_REQUESTS_PER_DOMAIN"))
        scheduler.site_limit = s.getint("SITE_PAGE_LIMIT")
        scheduler.found_limit = s.getint("DISCOVERED_SITE_PAGE_LIMIT")
        scheduler.order = s.get("DISCOVERY_ORDER")
        scheduler.weights = Weights.from_settings(s)
        scheduler.open_below_setting = s.getint("DISCOVERY_OPEN_BELOW")
        scheduler.max_idle = s.getint("MAX_IDLE_TIME_BEFORE_CLOSE")
        scheduler.redis_outage_timeout = s.getfloat("REDIS_OUTAGE_TIMEOUT")
        scheduler.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        for signal, handler in (
            (signals.request_left_downloader, scheduler._request_left_downloader),
            (signals.spider_idle, scheduler._spider_idle),
            (our_signals.leases_done, scheduler._leases_done),
            (our_signals.leases_failed, scheduler._leases_failed),
            (our_signals.seeds_pushed, scheduler._seeds_pushed),
            (our_signals.sites_linked, scheduler._sites_linked),
        ):
            crawler.signals.connect(handler, signal=signal)
        return scheduler

    # -- lifecycle ---------------------------------------------------------

    def open(self, spider):
        self.spider = spider
        if self.flush_on_start:
            logger.warning(
                "SCHEDULER_FLUSH_ON_START is ignored: a worker never wipes the shared "
                "frontier; run `backlinks reset` to start a crawl afresh"
            )
        if not self.persist:
            logger.warning(
                "SCHEDULER_PERSIST=False is ignored: the frontier outlives its workers; "
                "run `backlinks reset` to clear it"
            )
        self.flush_on_start, self.persist = False, True
        self.queue = load_object(self.queue_cls)(
            server=self.server, spider=spider, key=self.queue_key % {"spider": spider.name}, serializer=self.serializer
        )
        if not self.df:
            self.df = load_object(self.dupefilter_cls).from_spider(spider)
        self.bloom = (self.df.m, self.df.k)
        self._buffer: deque = deque()  # leased requests not yet handed to the engine
        self._unreleased: dict[str, str] = {}  # lease -> host, until the response is in
        self._pushes: list = []
        self._releases: list[str] = []
        self._acks: list[str] = []
        self._requeues: list[str] = []
        self._credits: list = []  # expand: sites pages linked to, for the next flush
        self._sent_entries: dict[str, None] = {}  # sites whose entry requests this worker sent
        # expand: open waiting sites while fewer requests than this are queued or leased, cluster-wide
        self.open_below = (self.open_below_setting or 2 * self.prefetch) if getattr(spider, "expand", 0) else 0
        self._flushing = self._popping = self._closing = False
        self._flush_task = self._pop_task = None
        self._next_pop = 0.0
        self._cluster_pending = True  # until the first pop says otherwise
        self._busy_at = time.monotonic()
        self._redis_down_since = None
        queued = len(self.queue)
        if queued:
            logger.info("Joining a crawl in progress: %d requests queued", queued)
        logger.info("Worker %s on the Redis frontier (bloom m=%d bits, k=%d)", self.worker, *self.bloom)
        self._heartbeat_task = None
        self._heartbeat_loop = create_looping_call(self._start_heartbeat)
        self._heartbeat_loop.start(self.heartbeat_interval, now=True)
        self._poll_loop = create_looping_call(self._maybe_pop)
        self._poll_loop.start(max(self.poll_interval / 4, 0.05), now=False)

    def close(self, reason):
        return deferred_from_coro(self._close(reason))

    async def _close(self, reason):
        self._closing = True
        for loop in (self._heartbeat_loop, self._poll_loop):
            if loop.running:
                loop.stop()
        pending = [
            t for t in (self._pop_task, self._flush_task, self._heartbeat_task) if t is not None and not t.done()
        ]
        if pending:
            await asyncio.wait(pending)
        # Requests leased but never started go back now rather than after the lease timeout.
        self._requeues.extend(self._buffer_leases())
        await self._flush_now()
        try:
            given_back = await self.queue.leave(self.worker)
            if given_back:
                logger.info("Gave %d unfinished requests back to the frontier", given_back)
        except RedisError as exc:
            logger.error(
                "Could not give leases back (%s): other workers reclaim them after %ss", exc, self.lease_timeout
            )
        await self.queue.close()

    def _buffer_leases(self):
        leases = [r.meta[LEASE] for r in self._buffer if LEASE in r.meta]
        self._buffer.clear()
        return leases

    # -- Scrapy's scheduler interface ----------------------------------------

    def has_pending_requests(self):
        return bool(self._buffer or self._outbox() or self._flushing or self._popping or self._cluster_pending)

    def enqueue_request(self, request):
        stats = self.stats
        parent = request.meta.pop(LEASE, None)
        request.meta.pop(HOST, None)
        if parent is not None:  # a redirect or a retry replaces the request it came from
            self._ack(parent)
        host = self.queue.host(request)
        site = request.meta.get(SITE, "")
        if site and not in_site(host, site):
            logger.debug("Offsite for %s, dropped: %s", site, request)
            stats.inc_value("frontier/offsite")
            self._schedule_flush()
            return False
        h1, h2 = self.df.hashes(request)
        filtered = not request.dont_filter
        try:
            entry = self.queue.encode(request)
        except ValueError as exc:  # a callback that is not a spider method
            logger.error("Cannot store %s in Redis: %s", request, exc)
            stats.inc_value("frontier/unserializable")
            return False
        self._pushes.append((h1, h2, "1" if filtered else "0", host, site, entry))
        stats.inc_value("scheduler/enqueued/redis")
        self._schedule_flush()
        return True

    def next_request(self):
        if len(self._buffer) < self.prefetch // 2 + 1:
            self._maybe_pop()
        if not self._buffer:
            return None
        self.stats.inc_value("scheduler/dequeued/redis")
        return self._buffer.popleft()

    # -- leases ------------------------------------------------------------

    def _request_left_downloader(self, request, spider=None):
        lease = request.meta.get(LEASE)
        if lease is not None:
            self._release(lease)

    def _release(self, lease):
        host = self._unreleased.pop(lease, None)
        if host is not None:
            self._releases.append(host)
            self._schedule_flush()

    def _ack(self, lease):
        self._release(lease)
        self._acks.append(lease)
        self._schedule_flush()

    def _leases_done(self, leases):
        for lease in leases:
            self._ack(lease)

    def _leases_failed(self, leases):
        for lease in leases:
            self._release(lease)
            self._requeues.append(lease)
        self.stats.inc_value("frontier/requeued", len(leases))
        self._schedule_flush()

    # -- flushing ------------------------------------------------------------

    def _outbox(self):
        return self._pushes or self._releases or self._acks or self._requeues or self._credits

    def _ranking(self):
        """How the flush script ranks waiting sites: the order, ``expand`` and the weights."""
        expand = getattr(self.spider, "expand", 0)
        return self.order, expand, self.weights.reach_boost, self.weights.indegree_weight

    def _sites_linked(self, credits):
        """``expand``: credit the sites a page linked to; the first time this worker names a
        site, with the requests that open it (its entry URL and home page)."""
        expand = getattr(self.spider, "expand", 0)
        for site, linker, evidence, hop, origin, url in credits:
            requests = ""
            if site not in self._sent_entries and hop <= expand:  # past expand: evidence for a met site only
                self._sent_entries[site] = None
                if len(self._sent_entries) > 100_000:
                    del self._sent_entries[next(iter(self._sent_entries))]
                encoded = []
                for request in self.spider.site_entry_requests(site, url, hop):
                    h1, h2 = self.df.hashes(request)
                    encoded.append([h1, h2, self.queue.host(request), self.queue.encode(request)])
                requests = json.dumps(encoded)
            self._credits.append((site, linker, repr(evidence), hop, origin, requests))
        self._schedule_flush()

    def _schedule_flush(self):
        if not self._flushing and not self._closing:
            self._flushing = True
            self._flush_task = asyncio.ensure_future(self._flush_loop())

    async def _flush_loop(self):
        try:
            await asyncio.sleep(0)  # let the rest of the page's links arrive
            await self._flush_now()
        finally:
            self._flushing = False
        if self._outbox() and not self._closing:
            self._schedule_flush()

    async def _flush_now(self):
        while self._outbox():
            pushes, self._pushes = self._pushes[:_MAX_PUSHES], self._pushes[_MAX_PUSHES:]
            releases, acks, requeues = self._releases, self._acks, self._requeues
            self._releases, self._acks, self._requeues = [], [], []
            credits, self._credits = self._credits[:_MAX_PUSHES], self._credits[_MAX_PUSHES:]
            try:
                added, dups, capped, met = await self.queue.flush(
                    self.worker, pushes, releases, acks, requeues, self.bloom, self._limits(), credits, self._ranking()
                )
            except RedisError as exc:
                # Nothing is dropped: put it all back and try again.
                self._pushes[:0] = pushes
                self._credits[:0] = credits
                self._releases[:0], self._acks[:0], self._requeues[:0] = releases, acks, requeues
                self._redis_error("flush", exc)
                if self._closing and time.monotonic() - (self._redis_down_since or 0.0) > self.lease_timeout:
                    logger.error("Redis unreachable while closing; %d requests not sent", len(self._pushes))
                    return
                await asyncio.sleep(1.0)
                continue
            self._redis_ok()
            stats = self.stats
            stats.inc_value("frontier/flushes")
            stats.inc_value("frontier/enqueued", added)
            stats.inc_value("frontier/duplicates", dups)
            if capped:
                stats.inc_value("frontier/site_page_limit", capped)
            if added:
                self._cluster_pending = True
                self._busy_at = time.monotonic()
                self._next_pop = 0.0
            if met:
                stats.inc_value("frontier/discovery/sites_met", len(met))
                self.crawler.signals.send_catch_log(our_signals.sites_met, met=met)
                self._cluster_pending = True

    def _limits(self):
        return (self.site_limit, self.found_limit if self.open_below else 0)

    # -- leasing -------------------------------------------------------------

    def _maybe_pop(self):
        if self._popping or self._closing or time.monotonic() < self._next_pop or len(self._buffer) >= self.prefetch:
            return
        self._popping = True
        self._pop_task = asyncio.ensure_future(self._pop())

    async def _pop(self):
        try:
            await self._pop_once()
        finally:
            self._popping = False

    async def _pop_once(self):
        n = self.prefetch - len(self._buffer)
        try:
            seeds, leases, queued, leased, wait, start_urls, opened = await self.queue.lease(
                self.worker, n, self.delay_ms, self.host_limit, max(4 * n, 64), 100,
                self.open_below, self.bloom, self._limits(),
            )  # fmt: skip
        except RedisError as exc:
            self._redis_error("pop", exc)
            self._next_pop = time.monotonic() + 1.0
            return
        self._redis_ok()
        stats = self.stats
        stats.inc_value("frontier/pops")
        if opened:
            stats.inc_value("frontier/discovery/sites_opened", len(opened))
            self.crawler.signals.send_catch_log(our_signals.sites_opened, opened=opened)
        for raw in seeds:
            try:
                made = _as_list(self.spider.make_request_from_data(raw))
            except Exception:  # a seed anyone pushed must not end the pop loop
                logger.exception("Dropping an unreadable seed from Redis: %.200r", raw)
                stats.inc_value("frontier/unreadable_seeds")
                continue
            for request in made:
                stats.inc_value("frontier/seeds")
                self.crawler.engine.crawl(request)
        for lease, host, entry in leases:
            try:
                request = self.queue.decode(entry)
            except (SerializationError, ValueError, KeyError, TypeError) as exc:
                logger.error("Dropping an unreadable entry from Redis (%s): %.200r", exc, entry)
                stats.inc_value("frontier/unreadable")
                self._releases.append(host)
                self._acks.append(lease)
                self._schedule_flush()
                continue
            request.meta[LEASE] = lease
            request.meta[HOST] = host
            self._unreleased[lease] = host
            self._buffer.append(request)
        stats.inc_value("frontier/leased", len(leases))
        self._cluster_pending = bool(queued or leased or start_urls or seeds or leases or opened)
        now = time.monotonic()
        if self._cluster_pending:
            self._busy_at = now
        if not leases:
            self._next_pop = now + (max(wait, 50) / 1000 if wait >= 0 else self.poll_interval)
        # Let the engine take the new requests now, or notice sooner that the cluster is idle.
        self._wake_engine()

    def _wake_engine(self):
        # Scrapy has no public "the scheduler has requests now" call; without this
        # nudge the engine would notice only at its next 5-second heartbeat.
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None:
            slot.nextcall.schedule()

    # -- heartbeat, idle -----------------------------------------------------

    def _start_heartbeat(self):
        if self._heartbeat_task is None or self._heartbeat_task.done():
            self._heartbeat_task = asyncio.ensure_future(self._heartbeat())

    async def _heartbeat(self):
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "leases": len(self._unreleased),
            "buffered": len(self._buffer),
            "pages": self.stats.get_value("response_received_count", 0),
        }
        try:
            reclaimed, dead = await self.queue.heartbeat(self.worker, int(self.lease_timeout * 1000), info)
            targets = await self.queue.aio.smembers(self.queue.keys.targets)
        except RedisError as exc:
            self._redis_error("heartbeat", exc)
            return
        self._redis_ok()
        if reclaimed or dead:
            logger.warning("Reclaimed %d requests from %d worker(s) that stopped sending heartbeats", reclaimed, dead)
            self.stats.inc_value("frontier/reclaimed", reclaimed)
            self._cluster_pending = True
            self._next_pop = 0.0
        found = read_targets(targets, logger) if targets else frozenset()
        if found:  # a set of nothing but garbage does not mean "every external link"
            self.spider.targets = found

    def _seeds_pushed(self):
        """Seeds went to ``P:start_urls`` after the last pop: the cluster is not idle, look again now."""
        self._cluster_pending = True
        self._next_pop = 0.0

    def _spider_idle(self, spider=None):
        """Keep the worker up while the cluster works, and ``MAX_IDLE_TIME_BEFORE_CLOSE`` after."""
        self._maybe_pop()
        idle = time.monotonic() - self._busy_at
        if self._cluster_pending or self.max_idle == 0 or idle < self.max_idle:
            raise DontCloseSpider

    def _redis_error(self, what, exc):
        if self._redis_down_since is None:
            self._redis_down_since = time.monotonic()
            logger.warning("Redis %s failed (%s); retrying, nothing is dropped", what, exc)
        self.stats.inc_value(f"frontier/redis_errors/{what}")
        down = time.monotonic() - self._redis_down_since
        if down > self.redis_outage_timeout and not self._closing and not self.stats.get_value("frontier/redis_outage"):
            # Its leases stay in Redis: the other workers reclaim them once its heartbeat is missed.
            logger.error("Redis has been unreachable for %.0f s (REDIS_OUTAGE_TIMEOUT): this worker stops, "
                         "and its unfinished pages are crawled again by the others or the next run", down)  # fmt: skip
            self.stats.set_value("frontier/redis_outage", int(down))
            asyncio.ensure_future(self.crawler.engine.close_spider_async(reason="redis_unreachable"))

    def _redis_ok(self):
        if self._redis_down_since is not None:
            logger.info("Redis is back after %.1fs", time.monotonic() - self._redis_down_since)
            self._redis_down_since = None


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return value
    return [value]
