"""Store pages and backlinks in MongoDB: batched, unordered, idempotent upserts.

One round trip per link would cap a crawl at the database's latency, and a
blocking call on the reactor thread would stall every download. So writes are
buffered and sent as one unordered ``bulk_write`` per collection, flushed by
page count (``MONGO_BATCH_PAGES``), write count (``MONGO_BATCH_OPS``), age
(``MONGO_FLUSH_INTERVAL``) and at close, each in a worker thread. Upserts keyed
on the unique backlink key, with ``$min``/``$max`` on the dates, make a batch
safe to retry and a page safe to crawl twice: nothing is ever stored twice.

In distributed mode a page's frontier lease ends only here, once its batch
is written (``leases_done``); a batch that cannot be written sends its
pages back to the frontier (``leases_failed``) to be crawled again.
"""

from __future__ import annotations

import logging
import time
from collections import deque

from pymongo import UpdateOne
from pymongo.errors import PyMongoError
from scrapy import signals
from scrapy.utils.asyncio import create_looping_call
from scrapy.utils.defer import deferred_to_future
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from backlinkspider import signals as our_signals
from backlinkspider import store

logger = logging.getLogger(__name__)


class MongoPipeline:
    """Write each ``PageItem`` to ``pages`` and its links to ``backlinks``."""

    def __init__(self, crawler):
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.database = settings.get("MONGO_DATABASE")
        self.batch_pages = settings.getint("MONGO_BATCH_PAGES")
        self.batch_ops = settings.getint("MONGO_BATCH_OPS")
        self.flush_interval = settings.getfloat("MONGO_FLUSH_INTERVAL")
        self.max_pending = settings.getint("MONGO_MAX_PENDING_BATCHES")
        self.retries = settings.getint("MONGO_WRITE_RETRIES")
        self.client = None
        self.db = None
        self._pages: list[UpdateOne] = []
        self._links: list[UpdateOne] = []
        self._leases: list[str] = []
        self._pending: deque = deque()  # Deferreds of batches being written
        self._last_flush = time.monotonic()
        self._timer = None

    @classmethod
    def from_crawler(cls, crawler):
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.spider_idle, signal=signals.spider_idle)
        return pipeline

    async def open_spider(self):
        # Connecting may start the embedded server: seconds of blocking work.
        self.client = await deferred_to_future(deferToThread(store.connect, self.crawler.settings))
        self.db = self.client[self.database]
        await deferred_to_future(deferToThread(store.ensure_indexes, self.db))
        self._timer = create_looping_call(self._flush_if_due)
        self._timer.start(max(self.flush_interval / 2, 0.1), now=False)

    async def process_item(self, item):
        self._pages.append(_page_op(item))
        self._links.extend(_link_op(item, link) for link in item.links)
        if item.lease is not None:
            self._leases.append(item.lease)
        if len(self._pages) >= self.batch_pages or len(self._pages) + len(self._links) >= self.batch_ops:
            self._flush()
        while len(self._pending) > self.max_pending:  # the store is slower than the crawl
            await deferred_to_future(self._pending[0])
        return item

    def spider_idle(self):
        self._flush()

    def _flush_if_due(self):
        if time.monotonic() - self._last_flush >= self.flush_interval:
            self._flush()

    def _flush(self):
        self._last_flush = time.monotonic()
        if not self._pages:
            return
        batch = (self._pages, self._links)
        leases = self._leases
        self._pages, self._links, self._leases = [], [], []
        d = deferToThread(self._write, *batch)
        self._pending.append(d)
        d.addBoth(self._done, d, len(batch[0]) + len(batch[1]), leases)

    def _done(self, result, d, size, leases):
        self._pending.remove(d)
        if isinstance(result, Failure):  # not a database error: a bug or a bad document
            logger.error("Writing a batch of %d documents failed", size,
                         exc_info=(result.type, result.value, result.getTracebackObject()))
            self.stats.inc_value("backlinks/mongo/batches_lost")
        if leases:
            signal = our_signals.leases_done if result is True else our_signals.leases_failed
            self.crawler.signals.send_catch_log(signal, leases=leases)
        # Nothing here may fail the crawl.

    def _write(self, page_ops, link_ops) -> bool:
        """Runs in a worker thread: one unordered bulk write per collection, retried.

        True when every document was written.
        """
        written = True
        for name, ops in ((store.PAGES, page_ops), (store.BACKLINKS, link_ops)):
            if not ops:
                continue
            for attempt in range(self.retries + 1):
                try:
                    result = self.db[name].bulk_write(ops, ordered=False)
                except PyMongoError as exc:
                    # Upserts are idempotent, so the whole batch can be sent again
                    # (this also covers duplicate-key races between concurrent upserts).
                    if attempt == self.retries:
                        logger.error("Gave up writing %d %s documents after %d attempts: %s",
                                     len(ops), name, attempt + 1, exc)
                        self.stats.inc_value(f"backlinks/mongo/{name}_lost", len(ops))
                        written = False
                        break
                    logger.warning("Writing %d %s documents failed (%s), retrying", len(ops), name, exc)
                    self.stats.inc_value("backlinks/mongo/retries")
                    time.sleep(min(2**attempt * 0.5, 10))
                else:
                    self.stats.inc_value("backlinks/mongo/bulk_writes")
                    self.stats.inc_value(f"backlinks/mongo/{name}_upserted", result.upserted_count)
                    break
        return written

    async def close_spider(self):
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        self._flush()
        while self._pending:
            await deferred_to_future(self._pending[0])
        if self.client is not None:
            self.client.close()


def _page_op(item) -> UpdateOne:
    return UpdateOne(
        {"url": item.url},
        {
            "$set": {
                "status": item.status,
                "error": item.error,
                "fetched_at": item.fetched_at,
                "title": item.title,
                "host": item.host,
                "domain": item.domain,
                "page_nofollow": item.page_nofollow,
                "page_noindex": item.page_noindex,
                "links_found": item.links_found,
                "links_external": item.links_external,
                "links_stored": len(item.links),
            },
            "$min": {"first_fetched_at": item.fetched_at},
        },
        upsert=True,
    )


def _link_op(item, link) -> UpdateOne:
    return UpdateOne(
        {"source_url": item.url, "target_url": link.url, "anchor": link.anchor},
        {
            "$set": {
                "source_host": item.host,
                "source_domain": item.domain,
                "target_host": link.host,
                "target_domain": link.domain,
                "rel": list(link.rel),
                "link_types": link.link_types,
                "page_nofollow": item.page_nofollow,
                "kind": link.kind,
                "internal": link.internal,
            },
            # $min/$max rather than $setOnInsert/$set: a retried or late batch
            # can never move first_seen later or last_seen back.
            "$min": {"first_seen": item.fetched_at},
            "$max": {"last_seen": item.fetched_at},
        },
        upsert=True,
    )
