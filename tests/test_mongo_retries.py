"""pipelines/mongo.py retries a failed write whole, and gives up after MONGO_WRITE_RETRIES.

The writes go to the real SecantusDB; the failures are injected in front of it.
"""

from __future__ import annotations

import pytest
from pymongo import UpdateOne
from pymongo.errors import AutoReconnect
from scrapy.utils.test import get_crawler

from pipelines import mongo
from pipelines.mongo import MongoPipeline


class Flaky:
    """A collection whose first ``failures`` writes raise AutoReconnect."""

    def __init__(self, collection, failures: int):
        self.collection, self.failures = collection, failures

    def _maybe_fail(self):
        if self.failures:
            self.failures -= 1
            raise AutoReconnect("connection reset (injected)")

    def bulk_write(self, *args, **kwargs):
        self._maybe_fail()
        return self.collection.bulk_write(*args, **kwargs)

    def insert_many(self, *args, **kwargs):
        self._maybe_fail()
        return self.collection.insert_many(*args, **kwargs)


@pytest.fixture
def pipeline(db, monkeypatch):
    monkeypatch.setattr(mongo.time, "sleep", lambda seconds: None)
    crawler = get_crawler(settings_dict={"MONGO_WRITE_RETRIES": 2})
    crawler.stats.open_spider()
    p = MongoPipeline(crawler)
    p.real = db
    return p


def test_a_write_that_fails_twice_is_sent_again_and_lands(pipeline):
    pipeline.db = {"backlinks": Flaky(pipeline.real.backlinks, failures=2)}
    ok, inserted = pipeline._bulk("backlinks", [UpdateOne({"k": i}, {"$set": {"k": i}}, upsert=True) for i in range(3)])
    assert ok and len(inserted) == 3 and pipeline.real.backlinks.count_documents({}) == 3
    assert pipeline.stats.get_value("backlinks/mongo/retries") == 2
    assert pipeline.stats.get_value("backlinks/mongo/backlinks_lost") is None


def test_a_write_that_keeps_failing_is_counted_lost(pipeline):
    pipeline.db = {"events": Flaky(pipeline.real.events, failures=3)}
    assert pipeline._insert_events([{"_id": "new:1", "type": "new"}]) is False
    assert pipeline.stats.get_value("backlinks/mongo/events_lost") == 1
    assert pipeline.real.events.count_documents({}) == 0


def test_events_already_there_are_not_a_failure(pipeline):
    pipeline.db = {"events": pipeline.real.events}
    pipeline.real.events.insert_one({"_id": "new:1", "type": "new"})
    assert pipeline._insert_events([{"_id": "new:1", "type": "new"}, {"_id": "lost:2", "type": "lost"}])
    assert pipeline.real.events.count_documents({}) == 2
    assert pipeline.stats.get_value("backlinks/events/lost") == 1
    assert pipeline.stats.get_value("backlinks/mongo/retries") is None
