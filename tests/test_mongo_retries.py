"""pipelines/mongo.py: a store that is away is waited for, up to MONGO_OUTAGE_TIMEOUT; a write
the store refuses is sent again MONGO_WRITE_RETRIES times, then counted lost.

The writes go to the real SecantusDB; the failures are injected in front of it.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pymongo import UpdateOne
from pymongo.errors import AutoReconnect, BulkWriteError, OperationFailure
from scrapy.utils.test import get_crawler

from pipelines import mongo
from pipelines.changes import created
from pipelines.mongo import MongoPipeline, StoreGone, unreachable


class Flaky:
    """A collection whose first ``failures`` writes raise ``error``."""

    def __init__(self, collection, failures: int, error: Exception | None = None):
        self.collection, self.failures = collection, failures
        self.error = error or AutoReconnect("connection reset (injected)")

    def _maybe_fail(self):
        if self.failures:
            self.failures -= 1
            raise self.error

    def bulk_write(self, *args, **kwargs):
        self._maybe_fail()
        return self.collection.bulk_write(*args, **kwargs)

    def insert_many(self, *args, **kwargs):
        self._maybe_fail()
        return self.collection.insert_many(*args, **kwargs)


class AnswerLost(Flaky):
    """A collection whose first ``failures`` bulk writes land but answer with a dropped connection."""

    def bulk_write(self, *args, **kwargs):
        result = self.collection.bulk_write(*args, **kwargs)
        self._maybe_fail()
        return result


REFUSED = OperationFailure("document is too large (injected)", code=10334)


@pytest.fixture
def clock(monkeypatch):
    """The pipeline's ``time`` (and only its: pymongo keeps the real one), a fake clock that
    sleeping moves."""
    now = [1000.0]
    fake = SimpleNamespace(sleep=lambda seconds: now.__setitem__(0, now[0] + seconds), monotonic=lambda: now[0])
    monkeypatch.setattr(mongo, "time", fake)
    return now


@pytest.fixture
def pipeline(db, clock):
    crawler = get_crawler(settings_dict={"MONGO_WRITE_RETRIES": 2, "MONGO_OUTAGE_TIMEOUT": 600})
    crawler.stats.open_spider()
    p = MongoPipeline(crawler)
    p.real = db
    return p


def _ops(n):
    return [UpdateOne({"k": i}, {"$set": {"k": i}}, upsert=True) for i in range(n)]


def test_an_outage_is_waited_out_and_the_write_lands(pipeline, clock):
    pipeline.db = {"backlinks": Flaky(pipeline.real.backlinks, failures=8)}
    started = clock[0]
    ok, inserted = pipeline._bulk("backlinks", _ops(3))
    assert ok and len(inserted) == 3 and pipeline.real.backlinks.count_documents({}) == 3
    # 0.5 + 1 + 2 + … capped at 30 s between tries: eight tries in about two minutes.
    assert clock[0] - started == pytest.approx(0.5 + 1 + 2 + 4 + 8 + 16 + 30 + 30)
    assert pipeline.stats.get_value("backlinks/mongo/outage_seconds") == 91
    assert pipeline.stats.get_value("backlinks/mongo/backlinks_lost") is None


def test_an_outage_longer_than_the_timeout_gives_the_batch_up_to_be_kept(pipeline, clock):
    pipeline.db = {"backlinks": Flaky(pipeline.real.backlinks, failures=10_000)}
    with pytest.raises(StoreGone):
        pipeline._bulk("backlinks", _ops(3))
    assert pipeline.stats.get_value("backlinks/mongo/outage_seconds") == 600
    assert pipeline.stats.get_value("backlinks/mongo/backlinks_lost") is None  # kept, not lost


def test_a_refused_write_is_tried_again_then_counted_lost(pipeline):
    pipeline.db = {"events": Flaky(pipeline.real.events, failures=3, error=REFUSED)}
    assert pipeline._insert_events([{"_id": "new:1", "type": "new"}]) is False
    assert pipeline.stats.get_value("backlinks/mongo/events_lost") == 1
    assert pipeline.stats.get_value("backlinks/mongo/retries") == 2
    assert pipeline.real.events.count_documents({}) == 0


def test_a_refused_write_that_succeeds_on_a_retry_lands(pipeline):
    pipeline.db = {"backlinks": Flaky(pipeline.real.backlinks, failures=2, error=REFUSED)}
    ok, _ = pipeline._bulk("backlinks", _ops(3))
    assert ok and pipeline.real.backlinks.count_documents({}) == 3


def _believed_new(keys):
    """Upserts of ``keys`` and the documents each would create, all believed new."""
    writes = [
        ({"k": k}, {"$set": {"seen": "now"}, "$min": {"first": 5}, "$setOnInsert": {"flag": False}}) for k in keys
    ]
    return [UpdateOne(*w, upsert=True) for w in writes], {i: created(*w) for i, w in enumerate(writes)}


def test_a_document_believed_new_but_stored_gets_its_upsert(pipeline):
    """Inserted when new; stored already (a duplicate key): updated exactly as its upsert
    would have, and not reported as created."""
    collection = pipeline.real.backlinks
    collection.create_index("k", unique=True)
    collection.insert_one({"k": 1, "seen": "before", "first": 3, "flag": True})
    pipeline.db = {"backlinks": collection}
    ops, docs = _believed_new([0, 1, 2])
    ok, made = pipeline._bulk("backlinks", ops, docs)
    assert ok and sorted(made) == [0, 2]
    assert made[0] == collection.find_one({"k": 0})["_id"] == docs[0]["_id"]
    assert collection.find_one({"k": 1}, {"_id": 0}) == {"k": 1, "seen": "now", "first": 3, "flag": True}
    assert collection.find_one({"k": 2}, {"_id": 0}) == {"k": 2, "seen": "now", "first": 5, "flag": False}
    assert pipeline.stats.get_value("backlinks/mongo/backlinks_stored_before") == 1
    assert pipeline.stats.get_value("backlinks/mongo/retries") is None


def test_inserts_that_landed_before_an_outage_are_not_stored_twice(pipeline, clock):
    collection = pipeline.real.backlinks
    collection.create_index("k", unique=True)
    pipeline.db = {"backlinks": AnswerLost(collection, failures=1)}
    ops, docs = _believed_new([0, 1, 2])
    ok, _ = pipeline._bulk("backlinks", ops, docs)
    assert ok and collection.count_documents({}) == 3
    assert pipeline.stats.get_value("backlinks/mongo/backlinks_stored_before") == 3
    assert pipeline.stats.get_value("backlinks/mongo/backlinks_lost") is None


def test_events_already_there_are_not_a_failure(pipeline):
    pipeline.db = {"events": pipeline.real.events}
    pipeline.real.events.insert_one({"_id": "new:1", "type": "new"})
    assert pipeline._insert_events([{"_id": "new:1", "type": "new"}, {"_id": "lost:2", "type": "lost"}])
    assert pipeline.real.events.count_documents({}) == 2
    assert pipeline.stats.get_value("backlinks/events/lost") == 1
    assert pipeline.stats.get_value("backlinks/mongo/retries") is None


@pytest.mark.parametrize(
    "error, away",
    [
        (AutoReconnect("reset"), True),
        (OperationFailure("shutting down", code=91), True),
        (OperationFailure("not primary", code=10107), True),
        (BulkWriteError({"writeErrors": [{"code": 11600, "errmsg": "interrupted at shutdown"}]}), True),
        (REFUSED, False),
        (BulkWriteError({"writeErrors": [{"code": 11000, "errmsg": "duplicate key"}]}), False),
    ],
)
def test_what_counts_as_the_store_being_away(error, away):
    assert unreachable(error) is away
