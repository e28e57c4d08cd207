"""Whoever reaches Redis can push anything: a worker drops what it cannot read, with a log
line and a stat, and crawls the rest."""

from __future__ import annotations

import json

from tests.support.distributed import Worker, stored
from tests.web import sites

HUGE = "http://www.seed-site.com/" + "x" * (10 * 1024 * 1024)
QUEUE_GARBAGE = [
    b"\xff\xfe not json at all",
    b"[1, 2, 3]",
    json.dumps({"url": "http://www.seed-site.com/a", "_class": "os.system"}).encode(),
    json.dumps({"url": "http://www.seed-site.com/b", "callback": "_private_helper"}).encode(),
    json.dumps({"url": "http://www.seed-site.com/c", "callback": ["parse"]}).encode(),
    HUGE.encode(),
]
SEED_GARBAGE = [b"\xff\xfe\xfd", b"not a url", b'{"url": 42}', b'{"nested": ' * 1000, HUGE.encode(), b"{}"]
TARGET_GARBAGE = [b"\xff\xfe", b'{"$ne": null}']


def test_garbage_in_every_key_is_dropped_and_the_crawl_goes_on(mongo_uri, db, web, redis_server):
    client = redis_server.client()
    host = "www.seed-site.com"
    for entry in QUEUE_GARBAGE:
        client.rpush(f"backlinks:requests:{host}", entry)
    client.zadd("backlinks:requests", {host: 0})
    client.hincrby("backlinks:stats", "queued", len(QUEUE_GARBAGE))
    client.lpush("backlinks:start_urls", *SEED_GARBAGE, sites.SEEDS[0])
    client.sadd("backlinks:targets", *TARGET_GARBAGE, sites.TARGET)
    crawl = Worker(mongo_uri, db, web.url, redis_server.url).wait()  # joins: reads the targets set
    assert crawl.stats["frontier/unreadable"] == len(QUEUE_GARBAGE)
    assert crawl.stats["frontier/unreadable_seeds"] == len(SEED_GARBAGE)
    assert "Dropping an unreadable entry" in crawl.stderr and "Ignoring a start_urls entry" in crawl.stderr
    # The one real seed was crawled for the one real target; the garbage members were no target.
    got = stored(db)
    assert got and {t for _, t, *_ in got} <= {t for _, t, *_ in sites.EXPECTED_TARGET_LINKS}


def test_a_targets_set_of_nothing_but_garbage_keeps_the_targets(mongo_uri, db, web, redis_server):
    client = redis_server.client()
    client.sadd("backlinks:targets", *TARGET_GARBAGE)
    client.lpush("backlinks:start_urls", sites.SEEDS[0])
    Worker(mongo_uri, db, web.url, redis_server.url).wait()
    # Garbage is no target list: without one, every external link is stored (not none).
    assert db.backlinks.count_documents({}) > 0
