"""robots.txt as Google reads it.

The table is Google's own test suite: the 145 ``IsUserAgentAllowed`` checks of
``robots_test.cc`` in google/robotstxt (Apache-2.0; commit
22b355ff855419e6a3ff8ff09c0ad7fdb17116f9), as data in
``../shared/data/robots-google/cases.json`` (its README says how it was made).
Each is asked as the crawler asks: through ``ROBOTSTXT_PARSER``'s class, with
the URL percent-encoded as Scrapy sends it. Then the three cases where Scrapy's
default reading let the crawler fetch what a site forbids it, end to end, in
both modes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from w3lib.url import safe_url_string

from backlinkspider.demo.proxy import WebProxy
from backlinkspider.robots_txt import MAX_BYTES, GoogleRobotParser
from tests.support.crawls import run_crawl
from tests.support.distributed import Worker
from tests.web import robots as web_

CASES_FILE = Path(__file__).resolve().parents[2] / "shared" / "data" / "robots-google" / "cases.json"
CASES = json.loads(CASES_FILE.read_text(encoding="utf-8"))["cases"] if CASES_FILE.exists() else []


def _body(case: dict) -> bytes:
    return bytes.fromhex(case["body_hex"]) if case["body_hex"] else case["body"].encode("utf-8")


def _as_sent(case: dict) -> tuple[str, bool]:
    """The URL as Scrapy sends it, and Google's answer for that URL.

    A few cases ask with raw non-ASCII characters, which no crawler sends; the
    suite also asks the same rules with the encoded URL, and that is the answer
    a crawler gets from Google's parser.
    """
    url = safe_url_string(case["url"]) if case["url"] else ""
    if url == case["url"]:
        return url, case["expected_allowed"]
    [sibling] = [
        c for c in CASES if c["test"] == case["test"] and c["url"] == url and _body(c) == _body(case)
        and c["agent"] == case["agent"]
    ]  # fmt: skip
    return url, sibling["expected_allowed"]


def test_the_suite_is_there():
    # CI lays ../shared beside the project; without it the table below would test nothing.
    assert len(CASES) == 145, f"{CASES_FILE} is missing or changed"


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['id']}-{c['test']}")
def test_google_robots_test_cc(case):
    url, expected = _as_sent(case)
    assert GoogleRobotParser(_body(case)).allowed(url, case["agent"]) is expected


def test_only_the_first_500_kib_count_and_the_shared_cache_keeps_exactly_those():
    filler = b"# " + b"x" * 1000 + b"\n"
    early = b"User-agent: backlinkspider\nDisallow: /early\n"
    body = early + filler * 620 + b"Disallow: /late\n"  # the last rule lies past 600 KiB
    assert len(body) > 600 * 1024
    parser = GoogleRobotParser(body)
    assert not parser.allowed("http://site.com/early", "backlinkspider")
    assert parser.allowed("http://site.com/late", "backlinkspider")
    # What a worker shares in distributed mode (frontier/robots.py) parses the same.
    shared = GoogleRobotParser(body[:MAX_BYTES].decode("latin-1").encode("latin-1"))
    assert shared.body == parser.body


def test_percent_encoded_letters_in_rules_are_compared_as_written():
    parser = GoogleRobotParser(b"User-agent: *\nDisallow: /\nAllow: /foo/%62%61%7A\n")
    assert not parser.allowed("http://foo.bar/foo/baz", "backlinkspider")
    assert parser.allowed("http://foo.bar/foo/%62%61%7A", "backlinkspider")


@pytest.fixture(scope="module")
def robots_web():
    proxy = WebProxy(web_.resolve).start()
    yield proxy
    proxy.stop()


def _fetched(web, before: int) -> set[tuple[str, str]]:
    return {(host, path) for _, host, path in web.requests[before:]}


def test_the_crawler_reads_robots_txt_as_google_does(mongo_uri, db, robots_web):
    before = len(robots_web.requests)
    run_crawl(mongo_uri, db.name, robots_web, "-a", f"seeds={','.join(web_.SEEDS)}")
    fetched = _fetched(robots_web, before)
    assert {(host, "/robots.txt") for host in web_.ROBOTS} <= fetched
    assert not fetched & web_.DISALLOWED
    assert web_.ALLOWED <= fetched


def test_distributed_workers_read_robots_txt_as_google_does(mongo_uri, db, robots_web, redis_server):
    before = len(robots_web.requests)
    Worker(mongo_uri, db, robots_web.url, redis_server.url, "-a", f"seeds={','.join(web_.SEEDS)}").wait()
    fetched = _fetched(robots_web, before)
    assert not fetched & web_.DISALLOWED
    assert web_.ALLOWED <= fetched
