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

A store that cannot be reached loses nothing. Batches are written one at a
time, in order, by one writer thread, and each ends with a journaled write:
acknowledged means on disk. While MongoDB is away the batch being written is retried with capped
exponential backoff (30 s at most) for up to ``MONGO_OUTAGE_TIMEOUT``; the
batches behind it wait, and ``MONGO_MAX_PENDING_BATCHES`` stops new pages. When
the store is back they are written in order. After that long the crawl ends:
what was not stored goes back to the frontier (distributed mode) or to a spill
file on local disk (``pipelines/spill.py``), which the next crawl of the same
store writes first. A write MongoDB refuses (not an outage) is tried
``MONGO_WRITE_RETRIES`` more times, then counted lost.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

from pymongo import InsertOne, UpdateMany, UpdateOne
from pymongo.errors import BulkWriteError, ConnectionFailure, OperationFailure, PyMongoError
from pymongo.write_concern import WriteConcern
from scrapy import signals
from scrapy.utils.asyncio import create_looping_call

from backlinkspider import signals as our_signals
from backlinkspider import store
from backlinkspider.items import PageItem, TargetItem
from backlinkspider.urls import host_of, registered_domain
from pipelines.changes import PRIOR_FIELDS, created, plan
from pipelines.sitewide import SitewideTally
from pipelines.spill import SpillFile

logger = logging.getLogger(__name__)

#: Acknowledged means on disk: the last write of every batch waits for the server's
#: journal, which holds the batch's earlier writes too (it is written in order), so a
#: ``kill -9`` of the server after a batch returns keeps the batch. ``w`` is left to the
#: server's default (``majority`` on a replica set since MongoDB 5.0).
JOURNALED = WriteConcern(j=True)
_CAP = 30.0  # seconds: the longest wait between two tries while the store is away
_OUTAGE_WARNING_EVERY = 60.0
# Server codes that mean "not now" (shutting down, stepping down, no primary), not "never".
_UNAVAILABLE_CODES = frozenset({6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436})


class StoreGone(Exception):
    """MongoDB has been unreachable for longer than ``MONGO_OUTAGE_TIMEOUT``."""


def unreachable(exc: PyMongoError) -> bool:
    """Whether ``exc`` says the store is away (try again later) rather than that it refused the write."""
    if isinstance(exc, ConnectionFailure):  # AutoReconnect, NetworkTimeout, ServerSelectionTimeoutError
        return True
    if exc.has_error_label("RetryableWriteError"):
        return True
    if isinstance(exc, BulkWriteError):
        errors = exc.details.get("writeErrors", [])
        return bool(errors) and all(e.get("code") in _UNAVAILABLE_CODES for e in errors)
    return isinstance(exc, OperationFailure) and exc.code in _UNAVAILABLE_CODES


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
        self.outage_timeout = settings.getfloat("MONGO_OUTAGE_TIMEOUT")
        self.lost_after = max(1, settings.getint("LOST_AFTER_FAILED_VISITS"))
        self.sitewide = SitewideTally(settings.getfloat("SITEWIDE_SHARE"), settings.getint("SITEWIDE_MIN_PAGES"))
        self.db: Any = None  # a pymongo Database once the spider is open
        self._pages: list[tuple[PageItem, frozenset]] = []
        self._targets: list[TargetItem] = []
        self._size = 0  # buffered writes, about
        self._leases: list[str] = []
        self._pending: deque[asyncio.Future] = deque()  # batches being written, oldest first
        self._waiting_pages = 0  # pages in those batches
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mongo-writer")
        self._away_since: float | None = None  # the store has not answered since then
        self._recoveries = 0  # times the store came back after being away
        self._warned_at = 0.0
        self._next_wait = 0.5
        self._gone = False  # away for longer than MONGO_OUTAGE_TIMEOUT: keep, don't write
        self._last_flush = time.monotonic()
        self._timer = None
        self._touched: set[str] = set()  # target domains this crawl wrote: their summaries, at the end

    @functools.cached_property
    def spill(self) -> SpillFile:
        return SpillFile.for_store(self.crawler.settings)

    @classmethod
    def from_crawler(cls, crawler):
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(pipeline.drain, signal=our_signals.store_drain)
        return pipeline

    async def open_spider(self):
        # Connecting may start the embedded server: seconds of blocking work.
        self.db = await self._in_writer(store.open_database, self.crawler.settings)
        # A worker may start while the store is away: it waits, as a batch would.
        await self._in_writer(self._when_reachable, store.ensure_indexes)
        # A store written with the old URL form is rewritten before anything new lands in it.
        migrated = await self._in_writer(self._when_reachable, store.ensure_url_form)
        if migrated:
            logger.warning("Rewrote the store's URLs to the WHATWG form once (backlinks migrate): %s", migrated)
            self.stats.set_value("backlinks/mongo/migrated", sum(migrated.values()))
        if self.spill.exists():  # an earlier crawl's pages, kept while this store was away
            await self._in_writer(self._unspill)
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
            self.sitewide.add(item)
        if item.lease is not None:
            self._leases.append(item.lease)
        if len(self._pages) + len(self._targets) >= self.batch_pages or self._size >= self.batch_ops:
            self._flush()
        while len(self._pending) > self.max_pending:  # the store is slower than the crawl, or away
            await asyncio.wait([self._pending[0]])
        return item

    def spider_idle(self):
        self._flush()

    async def drain(self):
        """``store_drain``: write what is buffered; return once every batch is stored."""
        self._flush()
        while self._pending:
            await asyncio.wait([self._pending[0]])

    def _flush_if_due(self):
        if time.monotonic() - self._last_flush >= self.flush_interval:
            self._flush()

    def _flush(self):
        self._last_flush = time.monotonic()
        if not self._pages and not self._targets:
            return
        pages, targets, leases, size = self._pages, self._targets, self._leases, self._size
        self._pages, self._targets, self._leases, self._size = [], [], [], 0
        if self._gone:  # the crawl is ending: keep, don't wait for the store again
            self._keep(pages, targets, leases)
            return
        batch = self._in_writer(self._write, pages, targets)
        self._pending.append(batch)
        self._waiting_pages += len(pages)
        batch.add_done_callback(lambda done: self._done(done, pages, targets, leases, size))

    def _in_writer(self, func, *args) -> asyncio.Future:
        """Run ``func`` in the writer thread, after the batches before it."""
        return asyncio.wrap_future(self._writer.submit(func, *args))

    def _done(self, batch: asyncio.Future, pages, targets, leases, size) -> None:
        self._pending.remove(batch)
        self._waiting_pages -= len(pages)
        error = batch.exception()
        if isinstance(error, StoreGone):
            self._store_gone(error)
            self._keep(pages, targets, leases)
            return
        if error is not None:  # not a database error: a bug or a bad document
            logger.error("Writing a batch of %d documents failed", size, exc_info=error)
            self.stats.inc_value("backlinks/mongo/batches_lost")
            self.stats.inc_value("backlinks/mongo/pages_lost", len(pages))
        if leases:
            signal = our_signals.leases_done if error is None and batch.result() else our_signals.leases_failed
            self.crawler.signals.send_catch_log(signal, leases=leases)
        # Nothing here may fail the crawl.

    def _store_gone(self, error: StoreGone) -> None:
        """Away for longer than ``MONGO_OUTAGE_TIMEOUT``: end the crawl, keeping what it fetched."""
        if self._gone:
            return
        self._gone = True
        logger.error("MongoDB has been unreachable for %s: ending the crawl, keeping what was not stored", error)
        engine = self.crawler.engine
        if engine is not None:
            asyncio.ensure_future(engine.close_spider_async(reason="store_unreachable"))

    def _keep(self, pages, targets, leases) -> None:
        """What the store could not take: leased pages go back to the frontier (another worker, or a
        later run, crawls them again); the rest goes to the spill file."""
        if leases:
            self.crawler.signals.send_catch_log(our_signals.leases_failed, leases=leases)
            self.stats.inc_value("backlinks/mongo/released", len(leases))
        items = [page for page, _ in pages if page.lease is None] + [t for t in targets if t.lease is None]
        if not items:
            return
        try:
            kept = self.spill.append(items)
        except OSError as exc:
            logger.error("Could not keep %d items in %s: %s; they are lost", len(items), self.spill.path, exc)
            self.stats.inc_value("backlinks/mongo/pages_lost", len(items))
            return
        self.stats.inc_value("backlinks/mongo/spilled", kept)
        self.stats.set_value("backlinks/mongo/spill_file", str(self.spill.path))

    def _unspill(self) -> None:
        """In the writer thread, before this crawl's first batch: write what an earlier crawl kept."""
        items = list(self.spill.read())
        logger.warning("Writing %d pages an earlier crawl kept in %s while MongoDB was away",
                       len(items), self.spill.path)  # fmt: skip
        pages = [(i, i.targets) for i in items if isinstance(i, PageItem)]
        targets = [i for i in items if isinstance(i, TargetItem)]
        for start in range(0, max(len(pages), len(targets)), self.batch_pages):
            if not self._write(pages[start : start + self.batch_pages], targets[start : start + self.batch_pages]):
                logger.error("Some of the kept pages could not be written: %s stays for the next crawl",
                             self.spill.path)  # fmt: skip
                return
        self.spill.remove()
        self.stats.inc_value("backlinks/mongo/unspilled", len(items))

    def _write(self, pages, targets) -> bool:
        """Runs in the writer thread: pages, then backlinks and events, then target checks.

        True when every document was written; raises ``StoreGone`` after an outage too long.
        """
        if self._gone:
            raise StoreGone("the crawl is ending")
        recoveries = self._recoveries
        page_writes = [_page_write(page) for page, _ in pages]
        page_ops = [UpdateOne(*write, upsert=True) for write in page_writes]
        # Most pages of a crawl are new to the store: each is inserted; one stored before
        # (a duplicate key) is then updated, its upsert sent after all.
        page_docs = {i: created(*write) for i, write in enumerate(page_writes)}
        written, inserted = self._bulk(store.PAGES, page_ops, page_docs)
        written &= self._bulk(store.SITES, store.site_ops(u for page, _ in pages for u in page.site_updates))[0]
        # A page stored for the first time just now has no backlinks yet: no need to look.
        seen = {pages[i][0].url for i in inserted}
        sources = {page.url for page, _ in pages if page.url not in seen}
        sources.update(url for page, _ in pages for url in page.redirected_from)
        read: dict = {}
        if not self._retrying(store.PAGES, len(pages), lambda: read.update(prior=self._prior(sources))):
            return False
        changes = plan(pages, read["prior"], self.lost_after)
        target_ops = [_target_op(item) for item in targets]
        touched = _target_domains(pages, read["prior"], targets)
        self._touched |= touched
        new_ids: dict = {}  # backlink op index -> the _id its upsert inserted
        while True:
            ok, inserted = self._bulk(store.BACKLINKS, changes.ops, changes.inserts)
            new_ids.update(inserted)
            written &= ok & self._insert_events(changes.events + changes.new_events(new_ids))
            written &= self._bulk(store.BACKLINKS, target_ops)[0]
            # Their summaries are stale now (store/freshness.py): before the journal, so it holds too.
            written &= self._retrying(store.SUMMARIES, 0, lambda: store.mark_changed(self.db, touched))
            # One journaled write ends the batch: the journal is written in order, so once it is
            # on disk every write before it is too.
            if not self._retrying("journal", 0, self._journal):
                return False
            if self._recoveries == recoveries:
                break
            # The store was away during the batch: it may have restarted and lost writes it had
            # acknowledged. Send the batch again as planned; every write in it is idempotent.
            recoveries = self._recoveries
            self.stats.inc_value("backlinks/mongo/batches_resent")
            written = self._bulk(store.PAGES, page_ops, page_docs)[0]
        if targets:
            self.stats.inc_value("backlinks/targets/checked", len(targets))
        return written

    def _journal(self) -> None:
        self.db[store.STORE_INFO].with_options(write_concern=JOURNALED).update_one(
            {"_id": "last_batch"}, {"$set": {"written_at": datetime.now(timezone.utc)}}, upsert=True
        )

    def _prior(self, sources) -> dict:
        """Source URL -> (target URL, anchor) -> stored backlink, for ``sources``."""
        if not sources:
            return {}
        prior = store.stored_backlinks(self.db, sources, PRIOR_FIELDS)
        self.stats.inc_value("backlinks/mongo/reads")
        return prior

    def _retrying(self, name: str, count: int, write) -> bool:
        """Call ``write()`` until it succeeds: for as long as ``MONGO_OUTAGE_TIMEOUT`` while the
        store is away, ``MONGO_WRITE_RETRIES`` times more when it refuses the write.

        Every write here is idempotent (upserts, events with derived ``_id``s), so
        a failed one can be sent again whole. False once it gives up.
        """
        refused = 0
        while True:
            try:
                write()
            except PyMongoError as exc:
                if unreachable(exc):
                    self._wait_for_store(exc)
                    continue
                if refused == self.retries:
                    logger.error("Gave up writing %d %s documents after %d attempts: %s", count, name, refused + 1, exc)
                    self.stats.inc_value(f"backlinks/mongo/{name}_lost", count)
                    return False
                logger.warning("Writing %d %s documents failed (%s), retrying", count, name, exc)
                self.stats.inc_value("backlinks/mongo/retries")
                time.sleep(min(2**refused * 0.5, 10))
                refused += 1
            else:
                self._store_answered()
                return True

    def _when_reachable(self, func):
        """``func(self.db)``, waiting for the store as ``_retrying`` does if it is away."""
        while True:
            try:
                result = func(self.db)
            except PyMongoError as exc:
                if not unreachable(exc):
                    raise
                self._wait_for_store(exc)
            else:
                self._store_answered()
                return result

    def _wait_for_store(self, exc: PyMongoError) -> None:
        """The store is away: wait (capped exponential backoff) before the next try, one warning a
        minute; raise ``StoreGone`` once it has been away for ``MONGO_OUTAGE_TIMEOUT``."""
        now = time.monotonic()
        if self._gone:
            raise StoreGone("the crawl is ending")
        if self._away_since is None:
            self._away_since, self._warned_at, self._next_wait = now, now, 0.5
            logger.warning("MongoDB is unreachable (%s): %d pages wait for it, for %.0f s at most "
                           "(MONGO_OUTAGE_TIMEOUT)", exc, self._waiting_pages, self.outage_timeout)  # fmt: skip
        away = now - self._away_since
        if away >= self.outage_timeout:
            self.stats.inc_value("backlinks/mongo/outage_seconds", int(away))
            raise StoreGone(f"{away:.0f} s (MONGO_OUTAGE_TIMEOUT {self.outage_timeout:.0f} s)") from exc
        if now - self._warned_at >= _OUTAGE_WARNING_EVERY:
            self._warned_at = now
            logger.warning("MongoDB has been unreachable for %.0f s; %d pages wait for it", away, self._waiting_pages)
        time.sleep(min(self._next_wait, self.outage_timeout - away))
        self._next_wait = min(self._next_wait * 2, _CAP)

    def _store_answered(self) -> None:
        if self._away_since is None:
            return
        away = time.monotonic() - self._away_since
        self._away_since = None
        self._recoveries += 1
        self.stats.inc_value("backlinks/mongo/outage_seconds", int(away))
        logger.warning("MongoDB is back after %.0f s: writing the %d pages that waited", away, self._waiting_pages)

    def _bulk(self, name, ops, docs=None) -> tuple[bool, dict]:
        """Unordered bulk writes of the upserts ``ops``, retried; (all written, {op index:
        _id of the document it created}).

        ``docs`` (op index -> the document that upsert would create) are the ones the
        batch believes new: they are inserted instead, a third of an upsert's work on the
        server. An insert that meets a stored document (a duplicate key: a batch sent
        again, a page two workers crawled, a belief that was wrong) is sent again as its
        upsert, so the outcome is the upsert's either way.
        """
        inserted: dict = {}
        docs = dict(docs or {})
        todo = list(range(len(ops)))  # what is left to send, by op index

        def write():
            nonlocal todo
            while todo:
                requests = [InsertOne(docs[i]) if i in docs else ops[i] for i in todo]
                try:
                    result = self.db[name].bulk_write(requests, ordered=False)
                    errors, upserted = [], result.upserted_ids
                except BulkWriteError as exc:
                    errors = exc.details.get("writeErrors", [])
                    upserted = {u["index"]: u["_id"] for u in exc.details.get("upserted", [])}
                    error = exc
                self.stats.inc_value("backlinks/mongo/bulk_writes")
                # What was written before an error is written all the same.
                failed = {e["index"] for e in errors}
                made = {todo[k]: _id for k, _id in upserted.items()}
                made.update((i, docs[i]["_id"]) for k, i in enumerate(todo) if i in docs and k not in failed)
                inserted.update(made)
                self.stats.inc_value(f"backlinks/mongo/{name}_upserted", len(made))
                stored = [todo[e["index"]] for e in errors if e.get("code") == 11000 and todo[e["index"]] in docs]
                for i in stored:
                    del docs[i]  # there after all: its upsert
                if stored:
                    self.stats.inc_value(f"backlinks/mongo/{name}_stored_before", len(stored))
                refused = [todo[e["index"]] for e in errors if todo[e["index"]] not in stored]
                todo = refused + stored
                if refused:  # a retry also covers duplicate-key races between concurrent upserts
                    raise error

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
        if self.db is not None and not self._gone and self.sitewide.domains:
            await self._in_writer(self._mark_sitewide)
        if self.db is not None and not self._gone and self._touched:
            await self._in_writer(self._refresh_summaries)
        if self.db is not None:
            await self._in_writer(self.db.client.close)
        self._writer.shutdown(wait=False)

    def _refresh_summaries(self) -> None:
        """Recompute the summaries this crawl made stale (``store/summaries.py``): the next
        report or dashboard click reads them instead of the backlinks."""
        try:
            done = store.refresh_summaries(self.db, self._touched)
        except PyMongoError as exc:  # stale summaries are computed again when read
            logger.warning("Could not refresh the summaries of the domains crawled: %s", exc)
            self.stats.inc_value("backlinks/summaries/failed")
            return
        table = ", and the targets table" if done["targets_table"] else ""
        logger.info("Summaries computed again in %.1f s: %d of the target domains crawled%s",
                    done["seconds"], done["summaries"], table)  # fmt: skip
        self.stats.set_value("backlinks/summaries/refreshed", done["summaries"])

    def _mark_sitewide(self) -> None:
        """The end-of-crawl pass over the referring domains crawled (``store/sitewide.py``)."""
        started = time.monotonic()
        try:
            tally = self.sitewide
            done = store.mark_sitewide(self.db, tally.domains, tally.share, tally.min_pages)
        except PyMongoError as exc:  # the flags stay as the last pass left them
            logger.warning("Could not mark sitewide backlinks: %s", exc)
            self.stats.inc_value("backlinks/sitewide/failed")
            return
        logger.info(
            "Sitewide pass over %d referring domains in %.1f s: %d link sitewide, %d backlinks changed flag",
            len(self.sitewide.domains), time.monotonic() - started, done["domains_sitewide"], done["backlinks_changed"],
        )  # fmt: skip
        self.stats.set_value("backlinks/sitewide/domains", done["domains_sitewide"])
        self.stats.set_value("backlinks/sitewide/changed", done["backlinks_changed"])


def _target_domains(pages, prior: dict, targets) -> set[str]:
    """The target domains a batch wrote backlinks of: its links, the stored links of its pages
    (lost now, perhaps), and the checked target URLs."""
    found = {link.domain for page, _ in pages for link in page.links}
    found.update(doc["target_domain"] for stored in prior.values() for doc in stored.values())
    found.update(registered_domain(host_of(item.url)) for item in targets)
    found.discard("")
    return found


def _page_write(item) -> tuple[dict, dict]:
    """The filter and update of a page's upsert."""
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
        "external_links": item.external_links,
        "links_stored": len(item.links),
        "language": item.language,
        "words": item.words,
        "terms": item.terms,
    }
    if item.redirected_from:
        fields["redirected_from"] = item.redirected_from
    # ``links_external`` was the name before ``external_links`` (distinct URLs) replaced it.
    update = {"$set": fields, "$unset": {"links_external": ""}, "$min": {"first_fetched_at": item.fetched_at}}
    return {"url": item.url}, update


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
