"""A robots.txt that cannot be fetched disallows its host (RFC 9309): pages are held, robots.txt is
tried again, and pages whose robots.txt never comes are recorded as not visited; the crawl ends."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from backlinkspider.demo.proxy import WebProxy
from tests.support.crawls import run_crawl
from tests.support.distributed import Worker
from tests.web import robots_errors as web_

SETTINGS = {"ROBOTS_ERROR_RETRY": "1", "ROBOTS_ERROR_TRIES": "2", "RETRY_TIMES": "0", "DOWNLOAD_TIMEOUT": "2"}


@pytest.fixture
def errors_web():
    web = web_.RobotsErrorsWeb()
    proxy = WebProxy(web.resolve).start()
    yield proxy
    proxy.stop()


def _check(db, proxy, before):
    requests = [(h, p) for _, h, p in proxy.requests[before:]]
    for host in web_.FAILING:
        # Nothing but robots.txt (and its redirect hops): the host is disallowed.
        assert {p for h, p in requests if h == host} <= {"/robots.txt", *(f"/hop{n}" for n in range(1, 7))}, host
        fetches = sum(1 for h, p in requests if h == host and p == "/robots.txt")
        # ROBOTS_ERROR_TRIES; Twisted sends a GET again once when a kept-alive connection resets.
        assert fetches == 2 or (host.startswith("reset.") and 2 <= fetches <= 4), (host, fetches)
    # The flaky host's pages waited for its second robots.txt, then were crawled.
    assert (web_.FLAKY, "/") in requests and (web_.FLAKY, "/page.html") in requests
    assert (web_.GONE, "/page.html") in requests  # 404: no rules
    pages = {p["url"]: p["error"] for p in db.pages.find()}
    for host in web_.FAILING:
        assert pages[f"http://{host}/"] == "robots_unavailable"
    assert pages[f"http://{web_.FLAKY}/page.html"] == ""
    targets = {d["target_url"] for d in db.backlinks.find()}
    assert f"https://acme-tools.com/{web_.FLAKY}/page" in targets
    assert not any(host in t for t in targets for host in web_.FAILING)


def test_single_machine(mongo_uri, db, errors_web):
    before = len(errors_web.requests)
    started = time.monotonic()
    crawl = run_crawl(mongo_uri, db.name, errors_web, "-a", f"seeds={','.join(web_.SEEDS)}", "-a",
                      "targets=acme-tools.com", **SETTINGS)  # fmt: skip
    assert time.monotonic() - started < 60  # it never hangs on a failing robots.txt
    _check(db, errors_web, before)
    assert crawl.stats["robotstxt/disallowed_host_error"] >= 2 * len(web_.FAILING) + 1
    assert crawl.stats["robotstxt/held"] >= len(web_.FAILING) + 1


def test_distributed(mongo_uri, db, errors_web, redis_server):
    before = len(errors_web.requests)
    Worker(mongo_uri, db, errors_web.url, redis_server.url, "-a", f"seeds={','.join(web_.SEEDS)}", "-a",
           "targets=acme-tools.com", **SETTINGS).wait()  # fmt: skip
    _check(db, errors_web, before)


def test_a_failed_fetch_is_shared_so_other_workers_hold_without_fetching(redis_server):
    """Worker A's robots.txt fetch failed; worker B, asking within ROBOTS_ERROR_RETRY, holds its
    pages on A's word. B has no engine: had it tried to fetch, it would have failed loudly."""
    import asyncio

    from scrapy import Request, Spider
    from scrapy.utils.test import get_crawler

    from backlinkspider import settings as project_settings
    from backlinkspider.frontier.robots import SharedRobotsTxtMiddleware

    class _Spider(Spider):
        name = "backlinks"

    def middleware():
        values = {k: v for k, v in vars(project_settings).items() if k.isupper()}
        crawler = get_crawler(_Spider, {**values, "REDIS_URL": redis_server.url, "ROBOTS_ERROR_RETRY": 30})
        crawler.spider = _Spider()
        crawler.stats.open_spider()
        return SharedRobotsTxtMiddleware(crawler)

    async def scenario():
        a, b = middleware(), middleware()
        a._origins["err.example"] = "http://err.example"
        a._failed("err.example", "HTTP 500")
        await asyncio.sleep(0.2)  # the record reaches Redis
        parser = await b.robot_parser(Request("http://err.example/page", callback=lambda r: None))
        return b, parser

    b, parser = asyncio.run(scenario())
    assert parser is None and b._failing["err.example"].tries == 1
    assert b._stats.get_value("robotstxt/shared_error_hit") == 1
    assert 0 < redis_server.client().pttl("backlinks:robots:http://err.example") <= 24_000  # 0.8 of the 30 s


@pytest.mark.parametrize("mode", ["single", "distributed"])
def test_a_robots_txt_failing_for_the_period_is_read_as_absent(mode, mongo_uri, db, errors_web, request):
    """RFC 9309's 30-day rule: the start of a host's run of errors is kept in the store across crawls."""
    now = datetime.now(timezone.utc)
    long_ago, recently = now - timedelta(days=31), now - timedelta(days=5)
    err500, loop, slow, reset = (f"http://{h}" for h in web_.FAILING)
    db.robots_errors.insert_many([
        {"_id": err500, "since": long_ago, "failures": 90},  # failing for 31 days: no rules now
        {"_id": loop, "since": recently, "failures": 15},  # for 5: still disallowed
        {"_id": f"http://{web_.GONE}", "since": recently, "failures": 3},  # answers now (404)
    ])  # fmt: skip
    before = len(errors_web.requests)
    args = ("-a", f"seeds={','.join(web_.SEEDS)}", "-a", "targets=acme-tools.com")
    if mode == "single":
        crawl = run_crawl(mongo_uri, db.name, errors_web, *args, **SETTINGS)
        assert crawl.stats["robotstxt/error_read_as_absent"] == 1
    else:
        redis_url = request.getfixturevalue("redis_server").url
        Worker(mongo_uri, db, errors_web.url, redis_url, *args, **SETTINGS).wait()
    requests = [(h, p) for _, h, p in errors_web.requests[before:]]
    host = err500.removeprefix("http://")
    assert (host, "/page.html") in requests  # crawled as if it had no robots.txt
    assert sum(1 for h, p in requests if h == host and p == "/robots.txt") == 1
    pages = {p["url"]: p["error"] for p in db.pages.find()}
    assert pages[f"{err500}/"] == pages[f"{err500}/page.html"] == ""
    assert pages[f"{loop}/"] == pages[f"{slow}/"] == pages[f"{reset}/"] == "robots_unavailable"
    errors = {d["_id"]: d for d in db.robots_errors.find()}
    assert set(errors) == {err500, loop, slow, reset}  # the 404 ended its run of errors
    assert abs(errors[err500]["since"] - long_ago) < timedelta(seconds=1) and errors[err500]["failures"] == 91
    assert abs(errors[loop]["since"] - recently) < timedelta(seconds=1) and errors[loop]["failures"] == 17
    assert now <= errors[slow]["since"] <= errors[slow]["last"] and errors[slow]["failures"] == 2
