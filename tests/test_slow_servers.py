"""A server that trickles, one that never answers and one that resets are bounded by
DOWNLOAD_TIMEOUT, recorded as failed visits, and do not slow the crawl's other sites."""

from __future__ import annotations

import time

import pytest

from backlinkspider.demo.proxy import WebProxy
from tests.support.crawls import run_crawl
from tests.support.distributed import Worker
from tests.web import slow as web_

TIMEOUT = 4
ARGS = ("-a", f"seeds={','.join(web_.SEEDS)}", "-a", f"targets={web_.TARGET}")


@pytest.mark.parametrize("mode", ["single", "distributed"])
def test_slow_servers_are_bounded_and_hold_nobody_else(mode, mongo_uri, db, request):
    web = WebProxy(web_.resolve).start()
    started = time.monotonic()
    try:
        if mode == "single":
            crawl = run_crawl(mongo_uri, db.name, web, *ARGS, DOWNLOAD_TIMEOUT=str(TIMEOUT))
        else:
            redis_url = request.getfixturevalue("redis_server").url
            crawl = Worker(mongo_uri, db, web.url, redis_url, *ARGS, DOWNLOAD_TIMEOUT=str(TIMEOUT)).wait()
        took = time.monotonic() - started
        arrivals = [(t, h, p) for t, h, p in web.arrivals if p != "/robots.txt"]
    finally:
        web.stop()
    # Bounded: two tries (RETRY_TIMES=1) of DOWNLOAD_TIMEOUT each, not the trickle's four minutes.
    assert took < 4 * TIMEOUT + 15
    pages = {p["url"]: p for p in db.pages.find()}
    assert pages[f"http://{web_.TRICKLE}/"]["error"] == "timeout"
    assert pages[f"http://{web_.SILENT}/"]["error"] == "timeout"
    assert pages[f"http://{web_.RESET}/"]["error"] == "download_failed"
    assert crawl.stats["backlinks/pages/timeout"] == 2 and crawl.stats["backlinks/pages/download_failed"] == 1
    # The good site's pages were all crawled, each backlink stored once,
    # before the slow servers' first try had even timed out.
    good = [t for t, h, _ in arrivals if h == web_.GOOD]
    assert len(good) == web_.GOOD_PAGES + 1
    first_slow = min(t for t, h, _ in arrivals if h in web_.SLOW_HOSTS)
    assert max(good) < first_slow + TIMEOUT
    stored = [d["target_url"] for d in db.backlinks.find({"source_host": web_.GOOD})]
    assert sorted(stored) == sorted(f"https://{web_.TARGET}/good/{n}.html" for n in range(web_.GOOD_PAGES))
    assert db.backlinks.count_documents({"source_host": {"$in": list(web_.SLOW_HOSTS)}}) == 0
