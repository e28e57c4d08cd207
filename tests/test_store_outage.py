"""A store outage loses nothing: MongoDB and Redis killed (``kill -9``) mid-crawl and started
again on the same data. Short outages are waited out; longer ones end the crawl with a
non-zero exit, and what it fetched is kept (a spill file, or the Redis frontier)."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import datetime, timezone

import pytest
from pymongo import monitoring
from scrapy.utils.test import get_crawler

from backlinkspider.items import Link, PageItem
from pipelines.mongo import MongoPipeline
from tests.support.crawls import ROOT, Crawl, crawl_command
from tests.support.distributed import SEEDS, TARGETS, Worker, stored, wait_for
from tests.support.mongo_server import KillableMongo
from tests.web import sites

SLOW = {"DOWNLOAD_DELAY": "0.1", "CONCURRENT_REQUESTS_PER_DOMAIN": "1", "MONGO_BATCH_PAGES": "3",
        "MONGO_FLUSH_INTERVAL": "0.2"}  # fmt: skip
ARGS = ("-a", f"seeds={SEEDS}", "-a", TARGETS)


@pytest.fixture
def mongo(tmp_path):
    server = KillableMongo(tmp_path / "mongo")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def store(mongo):
    client = mongo.client()
    yield client["outage"]
    client.close()


class Crawler:
    """One single-machine ``scrapy crawl backlinks`` process, started now."""

    def __init__(self, mongo, proxy_url, spill_dir, *args, **settings):
        cmd, env = crawl_command(mongo.uri, "outage", proxy_url, *args,
                                 **{"SPILL_DIR": str(spill_dir), **SLOW, **settings})  # fmt: skip
        self.process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)  # fmt: skip

    def wait(self, timeout: float = 180) -> Crawl:
        out, err = self.process.communicate(timeout=timeout)
        assert "Traceback" not in err, err[-5000:]
        return Crawl(self.process.returncode, out, err)


def _targets_shared(redis_server):
    """A worker started with neither seeds nor targets takes the crawl's from Redis."""
    wait_for(lambda: redis_server.client().exists("backlinks:targets"), what="targets in Redis")


def _pages_stored(store, at_least: int):
    return lambda: store.pages.count_documents({}) >= at_least


def test_a_short_outage_is_waited_out(mongo, store, web, tmp_path):
    crawl = Crawler(mongo, web.url, tmp_path / "spill", *ARGS, MONGO_OUTAGE_TIMEOUT="60")
    wait_for(_pages_stored(store, 3), what="the first pages stored")
    mongo.kill()
    time.sleep(4)
    mongo.start()
    done = crawl.wait()
    assert done.returncode == 0, done.stderr[-3000:]
    assert "MongoDB is unreachable" in done.stderr and "MongoDB is back after" in done.stderr
    assert done.stats["backlinks/mongo/outage_seconds"] >= 2
    assert stored(store) == sites.EXPECTED_TARGET_LINKS
    assert not (tmp_path / "spill").exists()


def test_a_long_outage_ends_the_crawl_and_the_next_crawl_writes_what_it_kept(mongo, store, web, tmp_path):
    spill_dir = tmp_path / "spill"
    crawl = Crawler(mongo, web.url, spill_dir, *ARGS, MONGO_OUTAGE_TIMEOUT="3")
    wait_for(_pages_stored(store, 3), what="the first pages stored")
    mongo.kill()
    done = crawl.wait(timeout=60)
    assert done.returncode == 3, done.stderr[-3000:]
    files = list(spill_dir.iterdir())
    assert len(files) == 1
    last = done.stderr.strip().splitlines()[-1]
    assert "Exit status 3" in last and str(files[0]) in last
    kept = [json.loads(line) for line in files[0].read_text().splitlines()]
    assert kept and len(kept) == done.stats["backlinks/mongo/spilled"]

    mongo.start()
    second_started = time.time()
    again = Crawler(mongo, web.url, spill_dir, *ARGS).wait()
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stats["backlinks/mongo/unspilled"] == len(kept)
    assert "an earlier crawl kept" in again.stderr
    assert not files[0].exists()
    assert stored(store) == sites.EXPECTED_TARGET_LINKS  # what an undisturbed crawl stores
    # The kept pages were written with the first crawl's fetch times: they came from the file.
    for record in kept:
        page = store.pages.find_one({"url": record["url"]})
        assert page["first_fetched_at"].timestamp() < second_started


def test_two_workers_wait_out_an_outage_longer_than_the_write_retries(mongo, store, web, redis_server):
    class Db:  # Worker wants the database, by name
        name = "outage"

    workers = [Worker(mongo.uri, Db, web.url, redis_server.url, *ARGS, MONGO_WRITE_RETRIES="1", **SLOW)]
    _targets_shared(redis_server)
    workers.append(Worker(mongo.uri, Db, web.url, redis_server.url, MONGO_WRITE_RETRIES="1", **SLOW))
    wait_for(_pages_stored(store, 3), what="the first pages stored")
    mongo.kill()
    time.sleep(8)  # longer than one write's retries, far shorter than MONGO_OUTAGE_TIMEOUT
    mongo.start()
    crawls = [w.wait(timeout=180) for w in workers]  # exit 0, or wait() fails
    assert sum(c.stats.get("backlinks/mongo/outage_seconds", 0) for c in crawls) >= 5
    assert stored(store) == sites.EXPECTED_TARGET_LINKS


def test_redis_killed_and_restarted_mid_crawl_loses_nothing(mongo, store, web, redis_server):
    class Db:
        name = "outage"

    workers = [Worker(mongo.uri, Db, web.url, redis_server.url, *ARGS, **SLOW)]
    _targets_shared(redis_server)
    workers.append(Worker(mongo.uri, Db, web.url, redis_server.url, **SLOW))
    wait_for(lambda: redis_server.client().zcard("backlinks:workers") == 2, what="both workers at work")
    wait_for(_pages_stored(store, 3), what="the first pages stored")
    redis_server.process.kill()  # kill -9: the append-only file (fsync always) is all that is left
    redis_server.process.wait()
    time.sleep(3)
    redis_server.start()
    crawls = [w.wait(timeout=180) for w in workers]
    assert any("Redis is back" in c.stderr for c in crawls)
    assert stored(store) == sites.EXPECTED_TARGET_LINKS  # and nothing twice


def test_a_worker_ends_non_zero_when_redis_stays_away_and_another_finishes_its_pages(mongo, store, web, redis_server):
    class Db:
        name = "outage"

    first = Worker(mongo.uri, Db, web.url, redis_server.url, *ARGS, REDIS_OUTAGE_TIMEOUT="3", **SLOW)
    wait_for(_pages_stored(store, 3), what="the first pages stored")
    redis_server.process.kill()
    redis_server.process.wait()
    first.process.wait(timeout=60)
    first.stderr.seek(0)
    err = first.stderr.read()
    assert first.process.returncode == 3, err[-3000:]
    assert "REDIS_OUTAGE_TIMEOUT" in err.strip().splitlines()[-1]
    redis_server.start()
    Worker(mongo.uri, Db, web.url, redis_server.url, **SLOW).wait()  # reclaims the first one's leases
    assert stored(store) == sites.EXPECTED_TARGET_LINKS


class _Commands(monitoring.CommandListener):
    def __init__(self):
        self.writes = []  # (command, its write concern)

    def started(self, event):
        if event.command_name in ("update", "insert"):
            self.writes.append((event.command_name, event.command.get("writeConcern")))

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


def _page(n: int) -> PageItem:
    links = [Link(url=f"https://acme-tools.com/{n}/{i}", anchor=f"a{i}", rel=(), kind="text", host="acme-tools.com",
                  domain="acme-tools.com", link_types=["follow"]) for i in range(20)]  # fmt: skip
    return PageItem(url=f"http://www.seed-site.com/{n}.html", status=200, fetched_at=datetime.now(timezone.utc),
                    host="www.seed-site.com", domain="seed-site.com", links=links)  # fmt: skip


def test_a_batch_acknowledged_before_a_kill_9_is_there_after_the_restart(mongo, tmp_path):
    import pymongo

    listener = _Commands()
    client = pymongo.MongoClient(mongo.uri, tz_aware=True, event_listeners=[listener])
    crawler = get_crawler(settings_dict={"MONGO_OUTAGE_TIMEOUT": 5, "SPILL_DIR": str(tmp_path)})
    crawler.stats.open_spider()
    pipeline = MongoPipeline(crawler)
    pipeline.db = client["durable"]
    for round_ in range(2):
        pages = [_page(round_ * 10 + n) for n in range(10)]
        listener.writes.clear()
        assert pipeline._write([(p, frozenset({"acme-tools.com"})) for p in pages], [])
        mongo.kill()  # right after the batch returned
        mongo.start()
        with mongo.client() as check:
            assert check["durable"].pages.count_documents({}) == 10 * (round_ + 1)
            assert check["durable"].backlinks.count_documents({}) == 200 * (round_ + 1)
            assert check["durable"].events.count_documents({}) == 200 * (round_ + 1)
        # One journal wait a batch: its last write.
        assert [wc for _, wc in listener.writes[:-1]] == [None] * (len(listener.writes) - 1)
        assert listener.writes[-1] == ("update", {"j": True})
    client.close()
