"""Distributed mode end to end: real Redis (valkey-server), real SecantusDB,
several ``scrapy crawl backlinks`` worker processes on one frontier.

Every crawl must store exactly what the single-machine crawl stores
(``sites.EXPECTED_TARGET_LINKS``), once, whatever happens to the workers or
to Redis on the way.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter

from tests.support.crawls import ROOT
from tests.support.distributed import RETRIED, SEEDS, TARGETS, Worker, stored, wait_for
from tests.web import sites


def fetched_since(web, before: int) -> list[tuple[str, str]]:
    return [(host, path) for _, host, path in web.requests[before:]]


def test_two_workers_store_the_single_machine_result_politely(mongo_uri, db, web, redis_server):
    before = len(web.requests)
    slow = {"DOWNLOAD_DELAY": "0.25", "DOWNLOAD_DELAY_JITTER": "0", "CONCURRENT_REQUESTS_PER_DOMAIN": "1"}
    first = Worker(mongo_uri, db, web.url, redis_server.url, "-a", f"seeds={SEEDS}", "-a", TARGETS, **slow)
    wait_for(lambda: redis_server.client().hget("backlinks:stats", "seen"), what="seeds in Redis")
    second = Worker(mongo_uri, db, web.url, redis_server.url, **slow)  # neither seeds nor targets: joins
    crawls = [first.wait(), second.wait()]

    assert stored(db) == sites.EXPECTED_TARGET_LINKS
    for crawl in crawls:
        assert crawl.stats.get("response_received_count", 0) > 0, "a worker did no work"
        assert "Deprecat" not in crawl.stderr
    fetched = fetched_since(web, before)
    twice = {key: n for key, n in Counter(fetched).items() if n > 1 and key[1] not in RETRIED}
    assert not twice, f"fetched more than once: {twice}"
    robots = Counter(host for host, path in fetched if path == "/robots.txt")
    assert robots and set(robots.values()) == {1}, f"robots.txt fetches per host: {robots}"
    # DOWNLOAD_DELAY holds across both workers: per host, one request every 0.25 s.
    times: dict[str, list[float]] = {}
    for at, host, path in web.arrivals[before:]:
        if path != "/robots.txt":
            times.setdefault(host, []).append(at)
    busiest = max(times.values(), key=len)
    assert len(busiest) > 10
    gaps = [b - a for a, b in zip(busiest, busiest[1:], strict=False)]
    assert min(gaps) >= 0.2, f"two requests to one host {min(gaps):.3f}s apart"


def test_three_workers_from_seeds_pushed_with_redis_cli(mongo_uri, db, web, redis_server):
    client = redis_server.client()
    # The targets first (a worker given -a targets stores them for all), then the seeds.
    workers = [Worker(mongo_uri, db, web.url, redis_server.url, "-a", TARGETS)]
    wait_for(lambda: client.exists("backlinks:targets"), what="targets in Redis")
    # What `redis-cli lpush backlinks:start_urls …` does: a plain URL and a scrapy-redis JSON entry.
    client.lpush("backlinks:start_urls", sites.SEEDS[0], json.dumps({"url": sites.SEEDS[1], "meta": {}}))
    workers += [Worker(mongo_uri, db, web.url, redis_server.url) for _ in range(2)]
    crawls = [w.wait() for w in workers]
    assert stored(db) == sites.EXPECTED_TARGET_LINKS
    assert sum(c.stats.get("frontier/seeds", 0) for c in crawls) == 2
    assert client.smembers("backlinks:targets") == {sites.TARGET.encode()}


def test_kill_9_mid_crawl_loses_nothing(mongo_uri, db, web, redis_server):
    before = len(web.requests)
    slow = {"DOWNLOAD_DELAY": "0.2", "FRONTIER_PREFETCH": "4"}
    victim = Worker(mongo_uri, db, web.url, redis_server.url, "-a", f"seeds={SEEDS}", "-a", TARGETS, **slow)
    client = redis_server.client()
    wait_for(
        lambda: len(web.requests) - before >= 8 and int(client.hget("backlinks:stats", "leased") or 0),
        what="the first worker holding leases",
    )
    victim.kill()
    held = client.hgetall(next(iter(client.scan_iter("backlinks:leases:*"))))
    assert held, "the killed worker held no lease"
    for value in held.values():  # entries are JSON, never pickle
        host, entry = value.split(b"\t", 1)
        assert json.loads(entry)["url"]

    crawl = Worker(mongo_uri, db, web.url, redis_server.url, **slow).wait()
    assert crawl.stats.get("frontier/reclaimed", 0) >= len(held)
    assert stored(db) == sites.EXPECTED_TARGET_LINKS
    assert int(client.hget("backlinks:stats", "leased")) == 0
    assert int(client.hget("backlinks:stats", "queued")) == 0


def test_redis_restart_mid_crawl_resumes(mongo_uri, db, web, redis_server):
    before = len(web.requests)
    worker = Worker(
        mongo_uri, db, web.url, redis_server.url, "-a", f"seeds={SEEDS}", "-a", TARGETS, DOWNLOAD_DELAY="0.2"
    )
    wait_for(lambda: len(web.requests) - before >= 6, what="the crawl under way")
    redis_server.stop()  # the append-only file keeps the frontier
    time.sleep(1.5)
    redis_server.start()
    crawl = worker.wait()
    assert "Redis is back" in crawl.stderr
    assert stored(db) == sites.EXPECTED_TARGET_LINKS


def test_seeds_pushed_mid_crawl_start_within_seconds(mongo_uri, db, web, redis_server):
    before = len(web.requests)
    worker = Worker(
        mongo_uri,
        db,
        web.url,
        redis_server.url,
        "-a",
        f"seeds={sites.SEEDS[0]}",
        "-a",
        TARGETS,
        DOWNLOAD_DELAY="0.25",
        CONCURRENT_REQUESTS_PER_DOMAIN="1",
    )
    wait_for(lambda: len(web.requests) - before >= 4, what="the crawl under way")
    client = redis_server.client()
    assert int(client.hget("backlinks:stats", "queued") or 0) > 0, "the queue should be busy"
    pushed = time.monotonic()
    client.lpush("backlinks:start_urls", sites.SEEDS[1])
    host = sites.SEEDS[1].split("/")[2]
    started = wait_for(
        lambda: next((at for at, h, p in web.arrivals[before:] if h == host and p == "/"), None),
        what="the new seed fetched",
    )
    assert started - pushed < 3.0
    worker.wait()
    assert stored(db) == sites.EXPECTED_TARGET_LINKS


def test_no_worker_wipes_the_frontier_only_reset_does(mongo_uri, db, web, redis_server):
    before = len(web.requests)
    first = Worker(
        mongo_uri, db, web.url, redis_server.url, "-a", f"seeds={SEEDS}", "-a", TARGETS, DOWNLOAD_DELAY="0.2"
    )
    wait_for(lambda: len(web.requests) - before >= 4, what="the crawl under way")
    status = _cli("status", "--json", "--redis-url", redis_server.url)
    assert json.loads(status.stdout)["workers_alive"] == 1
    assert _cli("reset", "--redis-url", redis_server.url, check=False).returncode == 1  # a worker is alive
    wiper = Worker(
        mongo_uri,
        db,
        web.url,
        redis_server.url,
        SCHEDULER_FLUSH_ON_START="1",
        SCHEDULER_PERSIST="0",
        DOWNLOAD_DELAY="0.2",
    )
    crawls = [first.wait(), wiper.wait()]
    assert "SCHEDULER_FLUSH_ON_START is ignored" in crawls[1].stderr
    assert stored(db) == sites.EXPECTED_TARGET_LINKS
    client = redis_server.client()
    assert client.exists("backlinks:dupefilter")  # the crawl outlives its workers

    state = json.loads(_cli("status", "--json", "--redis-url", redis_server.url).stdout)
    assert state["seen_urls"] > 20 and state["queued"] == 0 and state["leased"] == 0
    assert state["workers_alive"] == 0
    assert "Deleted" in _cli("reset", "--redis-url", redis_server.url).stdout
    assert not list(client.scan_iter("backlinks:*"))


def _cli(*args, check=True):
    done = subprocess.run(
        [sys.executable, "-m", "backlinkspider.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done
