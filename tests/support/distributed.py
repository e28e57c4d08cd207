"""Distributed crawls in the tests: worker processes on one Redis frontier, and the
checks every distributed test makes (nothing stored twice)."""

from __future__ import annotations

import subprocess
import tempfile
import time

from backlinkspider.store import BACKLINKS, PAGES
from tests.support.crawls import ROOT, Crawl, checked, crawl_command
from tests.web import sites

SEEDS = ",".join(sites.SEEDS)
TARGETS = f"targets={sites.TARGET}"
# Short clocks so the tests take seconds: a worker is dead after 3 s without a
# heartbeat, and exits after 2 s with nothing to do anywhere in the cluster.
DISTRIBUTED = {
    "MAX_IDLE_TIME_BEFORE_CLOSE": "2",
    "FRONTIER_LEASE_TIMEOUT": "3",
    "FRONTIER_HEARTBEAT_INTERVAL": "0.5",
    "FRONTIER_POLL_INTERVAL": "0.2",
    "FRONTIER_PREFETCH": "2",
    "FRONTIER_BLOOM_CAPACITY": "100000",
}
RETRIED = {"/bad/500.html", "/bad/slow.html"}  # fetched RETRY_TIMES + 1 times by design


def worker_command(mongo_uri, db, proxy_url, redis_url, *args, **settings):
    """The command line and environment of one worker of a distributed crawl."""
    cmd, env = crawl_command(mongo_uri, db.name, proxy_url, *args, **{**DISTRIBUTED, **settings})
    env["REDIS_URL"] = redis_url
    return cmd, env


class Worker:
    """One ``scrapy crawl backlinks`` process in distributed mode."""

    def __init__(self, mongo_uri, db, proxy_url, redis_url, *args, **settings):
        cmd, env = worker_command(mongo_uri, db, proxy_url, redis_url, *args, **settings)
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self.stderr)

    def wait(self, timeout: float = 120) -> Crawl:
        self.process.wait(timeout)
        self.stderr.seek(0)
        return checked(Crawl(self.process.returncode, "", self.stderr.read()))

    def kill(self) -> None:
        self.process.kill()  # SIGKILL: no goodbye, no flush
        self.process.wait()


def wait_for(predicate, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return value


def stored(db) -> set:
    docs = list(db[BACKLINKS].find())
    got = [
        (
            d["source_url"],
            d["target_url"],
            d["anchor"],
            tuple(d["link_types"]),
            tuple(d["rel"]),
            d["kind"],
            d["page_nofollow"],
        )
        for d in docs
    ]
    assert len(got) == len(set(got)), "a backlink was stored twice"
    urls = [d["url"] for d in db[PAGES].find()]
    assert len(urls) == len(set(urls)), "a page was stored twice"
    return set(got)
