"""Pages built to break a parser or a crawl (tests/web/hostile_content.py): the crawl finishes,
every page is recorded, each well-behaved backlink is stored exactly once, traps are cut short."""

from __future__ import annotations

from collections import Counter

import pytest

from backlinkspider.demo.proxy import WebProxy
from tests.support.crawls import run_crawl
from tests.support.distributed import Worker
from tests.web import hostile_content as web_

# A large DOWNLOAD_MAXSIZE, so the huge pages are parsed, not dropped.
SETTINGS = {"DOWNLOAD_MAXSIZE": str(64 * 1024 * 1024), "DOWNLOAD_TIMEOUT": "30"}
# Recorded without links: what it is, and why (a NUL byte in text says binary).
NOT_HTML = {"not-html": "not_html", "nul-bytes": "binary"}
ARGS = ("-a", f"seeds={web_.SEED}", "-a", f"targets={web_.TARGET}")


@pytest.fixture(scope="module")
def content_web():
    proxy = WebProxy(web_.resolve).start()
    yield proxy
    proxy.stop()


def _check(db, proxy, before, stats):
    pages = {p["url"].split("/", 3)[3]: p for p in db.pages.find()}
    for name in web_.PAGES:
        assert name in pages, name
        assert pages[name]["error"] == NOT_HTML.get(name, ""), (name, pages[name]["error"])
    good = Counter(d["target_url"] for d in db.backlinks.find() if "/good" not in d["anchor"])
    backlinks = Counter((d["source_url"], d["target_url"], d["anchor"]) for d in db.backlinks.find())
    assert max(backlinks.values()) == 1  # nothing twice
    for name in web_.PAGES:
        if name not in NOT_HTML:
            assert backlinks[(f"{web_.SEED}{name}", f"https://acme-tools.com/{name}", f"good {name}")] == 1, name
    assert not any(len(d["target_url"]) > 2048 for d in db.backlinks.find())
    assert not any(len(d["anchor"]) > 1000 for d in db.backlinks.find())
    script = db.backlinks.find_one({"target_url": "https://acme-tools.com/js"})
    assert script["anchor"] == "JS"
    requests = [p for _, h, p in proxy.requests[before:] if h == web_.HOST]
    assert sum(1 for p in requests if p.startswith("/calendar?")) <= 200  # MAX_QUERY_VARIANTS
    assert "/a/b/a/b/a/b/" not in requests  # repeated segments
    assert stats["backlinks/traps/query_variants"] > 0 and stats["backlinks/traps/repeated_segments"] > 0
    return good


def test_single_machine(mongo_uri, db, content_web):
    before = len(content_web.requests)
    crawl = run_crawl(mongo_uri, db.name, content_web, *ARGS, **SETTINGS)
    _check(db, content_web, before, crawl.stats)


def test_distributed(mongo_uri, db, content_web, redis_server):
    before = len(content_web.requests)
    crawl = Worker(mongo_uri, db, content_web.url, redis_server.url, *ARGS, **SETTINGS).wait(timeout=300)
    _check(db, content_web, before, crawl.stats)
