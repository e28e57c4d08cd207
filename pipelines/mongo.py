"""Store pages, backlinks and their events in MongoDB: batched, unordered, idempotent.

One round trip per link would cap a crawl at the database's latency, and a
blocking call on the reactor thread would stall every download. So writes are
buffered and sent as one unordered ``bulk_write`` per collection, flushed by
page count (``MONGO_BATCH_PAGES``), write count (``MONGO_BATCH_OPS``), age
(``MONGO_FLUSH_INTERVAL``) and at close, each in a worker thread. Upserts keyed
on the unique backlink key, with ``$min``/``$max`` on the dates, make a batch
safe to retry and a page safe to crawl twice: nothing is ever stored twice.

A batch is compared with what the store held for its pages before
(``pipelines/changes.py``): one read of the pages that were stored already, so
a first crawl reads nothing. That marks lost and recovered backlinks and
records every change in ``events``. Target checks (``TargetItem``) set
``target_status`` and ``broken`` on every backlink to the URL checked.

In distributed mode a page's frontier lease ends only here, once its batch
is written (``leases_done``); a batch that cannot be written sends its
pages back to the frontier (``leases_failed``) to be crawled again.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import Any

from pymongo import UpdateMany, UpdateOne
from pymongo.errors import BulkWriteError, PyMongoError
from scrapy import signals
from scrapy.utils.asyncio import create_looping_call
from scrapy.utils.defer import deferred_to_future
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from backlinkspider import signals as our_signals
from backlinkspider import store
from backlinkspider.items import PageItem, TargetItem
from backlinkspider.urls import host_of, registered_domain
from pipelines.changes import PRIOR_FIELDS, plan

logger = logging.getLogger(__name__)


class MongoPipeline:
    """Write each ``PageItem`` to ``pages``, ``backlinks`` and ``events``; each ``TargetItem`` to ``backlinks``."""

    def __init__(self, crawler):
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.batch_pages = settings.getint("MONGO_BATCH_PAGES")
        self.batch_ops = settings.getint("MONGO_BATCH_OPS")
        self.flush_interval = settings.getfloat("MONGO_FLUSH_INTERVAL")
        self.max_pending = settings.getint("MONGO_MAX_PENDING_BATCHES")
        self.retries = settings.getint("MONGO_WRITE_RETRIES")
        self.lost_after = max(1, settings.getint("LOST_AFTER_FAILED_VISITS"))
        self.db: Any = None  # a pymongo Database once the spider is open
        self._pages: list[tuple[PageItem, frozenset]] = []
        self._targets: list[TargetItem] = []
        self._size = 0  # buffered writes, about
        self._leases: list[str] = []
        self._pending: deque = deque()  # Deferreds of batches being written
        self._last_flush = time.monotonic()
        self._timer = None

    @classmethod
    def from_crawler(cls, crawler):
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(pipeline.drain, signal=our_signals.store_drain)
        return pipeline

    async def open_spider(self):
        # Connecting may start the embedded server: seconds of blocking work.
        self.db = await deferred_to_future(deferToThread(store.open_database, self.crawler.settings))
        await deferred_to_future(deferToThread(store.ensure_indexes, self.db))
        # A store written with the old URL form is rewritten before anything new lands in it.
        migrated = await deferred_to_future(deferToThread(store.ensure_url_form, self.db))
        if migrated:
            logger.warning("Rewrote the store's URLs to the WHATWG form once (backlinks migrate): %s", migrated)
            self.stats.set_value("backlinks/mongo/migrated", sum(migrated.values()))
        self._timer = create_looping_call(self._flush_if_due)
        self._timer.start(max(self.flush_interval / 2, 0.1), now=False)

    async def process_item(self, item):
        if isinstance(item, TargetItem):
            self._targets.append(item)
            self._size += 1
        else:
            # The targets this page was classified with decide which stored backlinks it can lose.
            self._pages.append((item, item.targets))
            self._size += 1 + len(item.links)
        if item.lease is not None:
            self._leases.append(item.lease)
        if len(self._pages) + len(self._targets) >= self.batch_pages or self._size >= self.batch_ops:
            self._flush()
        while len(self._pending) > self.max_pending:  # the store is slower than the crawl
            await deferred_to_future(self._pending[0])
        return item

    def spider_idle(self):
        self._flush()

    async def drain(self):
        """``store_drain``: write what is buffered; return once every batch is stored."""
        self._flush()
        while self._pending:
            await deferred_to_future(self._pending[0])

    def _flush_if_due(self):
        if time.monotonic() - self._last_flush >= self.flush_interval:
            self._flush()

    def _flush(self):
        self._last_flush = time.monotonic()
        if not self._pages and not self._targets:
            return
        pages, targets, leases, size = self._pages, self._targets, self._leases, self._size
        self._pages, self._targets, self._leases, self._size = [], [], [], 0
        d = deferToThread(self._write, pages, targets)
        self._pending.append(d)
        d.addBoth(self._done, d, size, leases)

    def _done(self, result, d, size, leases):
        self._pending.remove(d)
        if isinstance(result, Failure):  # not a database error: a bug or a bad document
            logger.error(
                "Writing a batch of %d documents failed",
                size,
                exc_info=(result.type, result.value, result.getTracebackObject()),  # type: ignore[arg-type]
            )
            self.stats.inc_value("backlinks/mongo/batches_lost")
        if leases:
            signal = our_signals.leases_done if result is True else our_signals.leases_failed
            self.crawler.signals.send_catch_log(signal, leases=leases)
        # Nothing here may fail the crawl.

    def _write(self, pages, targets) -> bool:
        """Runs in a worker thread: pages, then backlinks and events, then target checks.

        True when every document was written.
        """
        written, inserted = self._bulk(store.PAGES, [_page_op(page) for page, _ in pages])
        # A page stored for the first time just now has no backlinks yet: no need to look.
        seen = {pages[i][0].url for i in inserted}
        sources = {page.url for page, _ in pages if page.url not in seen}
        sources.update(url for page, _ in pages for url in page.redirected_from)
        try:
            prior = self._prior(sources)
        except PyMongoError as exc:
            logger.error("Could not read the stored backlinks of %d pages: %s", len(sources), exc)
            self.stats.inc_value("backlinks/mongo/pages_lost", len(pages))
            return False
        changes = plan(pages, prior, self.lost_after)
        ok, inserted = self._bulk(store.BACKLINKS, changes.ops)
        written &= ok
        events = changes.events + changes.new_events(inserted)
        written &= self._insert_events(events)
        ok, _ = self._bulk(store.BACKLINKS, [_target_op(item) for item in targets])
        written &= ok
        if targets:
            self.stats.inc_value("backlinks/targets/checked", len(targets))
        return written

    def _prior(self, sources) -> dict:
        """Source URL -> (target URL, anchor) -> stored backlink, for ``sources``."""
        if not sources:
            return {}
        prior = store.stored_backlinks(self.db, sources, PRIOR_FIELDS)
        self.stats.inc_value("backlinks/mongo/reads")
        return prior

    def _retrying(self, name: str, count: int, write) -> bool:
        """Call ``write()`` until it succeeds, ``MONGO_WRITE_RETRIES`` times more at most.

        Every write here is idempotent (upserts, events with derived ``_id``s), so
        a failed one can be sent again whole. False once it gives up.
        """
        for attempt in range(self.retries + 1):
            try:
                write()
                return True
            except PyMongoError as exc:
                if attempt == self.retries:
                    logger.error("Gave up writing %d %s documents after %d attempts: %s", count, name, attempt + 1, exc)
                    self.stats.inc_value(f"backlinks/mongo/{name}_lost", count)
                    return False
                logger.warning("Writing %d %s documents failed (%s), retrying", count, name, exc)
                self.stats.inc_value("backlinks/mongo/retries")
                time.sleep(min(2**attempt * 0.5, 10))
        return False

    def _bulk(self, name, ops) -> tuple[bool, dict]:
        """One unordered bulk write, retried; (all written, {op index: upserted _id})."""
        inserted: dict = {}
        if not ops:
            return True, inserted

        def write():
            try:
                result = self.db[name].bulk_write(ops, ordered=False)
            except BulkWriteError as exc:
                # What was upserted before the error is new all the same. A retry also
                # covers duplicate-key races between concurrent upserts.
                inserted.update((u["index"], u["_id"]) for u in exc.details.get("upserted", []))
                raise
            inserted.update(result.upserted_ids)
            self.stats.inc_value("backlinks/mongo/bulk_writes")
            self.stats.inc_value(f"backlinks/mongo/{name}_upserted", result.upserted_count)

        return self._retrying(name, len(ops), write), inserted

    def _insert_events(self, events) -> bool:
        """Insert events; one already there (same ``_id``) was recorded by an earlier try."""
        if not events:
            return True

        def write():
            try:
                self.db[store.EVENTS].insert_many(events, ordered=False)
            except BulkWriteError as exc:
                if not all(e.get("code") == 11000 for e in exc.details.get("writeErrors", [])):
                    raise

        if not self._retrying(store.EVENTS, len(events), write):
            return False
        for event in events:
            self.stats.inc_value(f"backlinks/events/{event['type']}")
        return True

    async def close_spider(self):
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        await self.drain()
        if self.db is not None:
            self.db.client.close()


def _page_op(item) -> UpdateOne:
    fields = {
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
    }
    if item.redirected_from:
        fields["redirected_from"] = item.redirected_from
    return UpdateOne({"url": item.url}, {"$set": fields, "$min": {"first_fetched_at": item.fetched_at}}, upsert=True)


def _target_op(item: TargetItem) -> UpdateMany:
    fields = {
        "target_status": item.status,
        "target_checked_at": item.checked_at,
        "target_final_url": item.final_url or item.url,
    }
    unset = {}
    if item.broken is None:  # we did not look: no verdict either way
        unset["broken"] = ""
    else:
        fields["broken"] = item.broken
    if item.error:
        fields["target_error"] = item.error
    else:
        unset["target_error"] = ""
    update = {"$set": fields, **({"$unset": unset} if unset else {})}
    # (target_domain, target_url) is an index: the check finds its backlinks by it.
    return UpdateMany({"target_domain": registered_domain(host_of(item.url)), "target_url": item.url}, update)
