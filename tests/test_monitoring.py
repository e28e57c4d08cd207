"""Monitoring: the test web changes between crawls; lost, recovered, events and broken flags.

Four crawls of one store, as a user's scheduled recrawl would run them: the
first finds the backlinks; the web changes (stage 2) and a recrawl marks what
was lost and why; a third crawl of the same web sees a page fail a second time
in a row; the web changes back and a fourth crawl clears everything.
"""

from __future__ import annotations

import os
import subprocess
from collections import Counter

import pymongo
import pytest

from backlinkspider.demo.proxy import WebProxy
from backlinkspider.store import BACKLINKS, EVENTS, PAGES
from tests.support.cli import BACKLINKS as BACKLINKS_SCRIPT
from tests.support.crawls import run_crawl
from tests.support.distributed import Worker, wait_for
from tests.web import monitoring as web_
from tests.web.monitoring import A, N

ARGS = (
    "-a",
    f"seeds={web_.SEED}",
    "-a",
    f"targets={web_.TARGET}",
    "-a",
    "check_targets=1",
    "-a",
    "follow_redirects_to_targets=1",
)
SETTINGS = {"LOST_AFTER_FAILED_VISITS": "2"}

FIRST = {  # (source, target, anchor) of every backlink the first crawl stores
    (f"{N}/a.html", f"{A}/pricing", "Pricing"),
    (f"{N}/a.html", f"{A}/blog", "Blog"),
    (f"{N}/a.html", f"{A}/old-page", "Old"),
    (f"{N}/a.html", f"{A}/private-area", "Private"),
    (f"{N}/a.html", f"{A}/slow", "Slow"),
    (f"{N}/a.html", f"{A}/promo", "short link"),
    (f"{N}/b.html", f"{A}/features", "Features"),
    (f"{N}/c.html", f"{A}/docs", "Docs"),
    (f"{N}/d.html", f"{A}/about", "About"),
    (f"{N}/e.html", f"{A}/contact", "Contact"),
    (f"{N}/f.html", f"{A}/team", "Team"),
    (f"{N}/g.html", f"{A}/careers", "Careers"),
    (f"{N}/h.html", f"{A}/partners", "Partners"),
}
OLD = (f"{N}/a.html", f"{A}/old-page", "Old")
NEW = (f"{N}/a.html", f"{A}/new", "New")
FEATURES = (f"{N}/b.html", f"{A}/features", "Features")
DOCS = (f"{N}/c.html", f"{A}/docs", "Docs")
ABOUT = (f"{N}/d.html", f"{A}/about", "About")
ABOUT2 = (f"{N}/d2.html", f"{A}/about", "About")
CONTACT = (f"{N}/e.html", f"{A}/contact", "Contact")
TEAM = (f"{N}/f.html", f"{A}/team", "Team")
CAREERS = (f"{N}/g.html", f"{A}/careers", "Careers")
PARTNERS = (f"{N}/h.html", f"{A}/partners", "Partners")
LOST_IN_STAGE_2 = {
    OLD: "link_removed",
    DOCS: "page_not_found",
    ABOUT: "page_redirected",
    TEAM: "page_noindex",
    CAREERS: "page_redirected",
}


def _key(doc):
    return doc["source_url"], doc["target_url"], doc["anchor"]


def _backlinks(db) -> dict:
    docs = list(db[BACKLINKS].find())
    keys = [_key(d) for d in docs]
    assert len(keys) == len(set(keys)), "a backlink was stored twice"
    return {_key(d): d for d in docs}


def _lost(db) -> dict:
    return {k: d["lost_reason"] for k, d in _backlinks(db).items() if d.get("lost_at") is not None}


def _events(db, since=None) -> Counter:
    query = {} if since is None else {"time": {"$gte": since}}
    return Counter((e["type"], _key(e), e.get("reason")) for e in db[EVENTS].find(query))


@pytest.fixture(scope="module")
def history(mongo_uri, tmp_path_factory):
    """The four crawls; each step's store state is checked by the tests below."""
    site = web_.MonitoredWeb()
    proxy = WebProxy(site).start()
    client = pymongo.MongoClient(mongo_uri, tz_aware=True)
    db = client["test_monitoring"]
    client.drop_database(db.name)
    steps = []

    def crawl(*extra):
        before = len(proxy.requests)
        run = run_crawl(mongo_uri, db.name, proxy, *ARGS, *extra, **SETTINGS)
        assert "Deprecat" not in run.stderr, run.stderr[-3000:]
        steps.append(
            {
                "backlinks": _backlinks(db),
                "events": list(db[EVENTS].find()),
                "requests": proxy.requests[before:],
                "crawl": run,
                "pages": {p["url"]: p for p in db[PAGES].find()},
            }
        )

    crawl()
    site.stage = 2
    crawl("-a", "recrawl=1")
    crawl("-a", "recrawl=1")
    site.stage = 1
    crawl("-a", "recrawl=1")
    yield steps
    proxy.stop()
    client.drop_database(db.name)
    client.close()


def _counts(events) -> Counter:
    return Counter(e["type"] for e in events)


def test_first_crawl_records_every_backlink_as_new(history):
    first = history[0]
    assert set(first["backlinks"]) == FIRST, first["crawl"].stderr[-8000:]
    assert all(d.get("lost_at") is None for d in first["backlinks"].values())
    assert _counts(first["events"]) == {"new": len(FIRST)}
    assert {_key(e) for e in first["events"]} == FIRST
    promo = first["backlinks"][(f"{N}/a.html", f"{A}/promo", "short link")]
    assert promo["kind"] == "redirect" and promo["redirect_url"] == "http://sho.rt/x1"
    assert promo["target_domain"] == "acme-tools.com"


def test_target_checks(history):
    first, second, _, fourth = history
    docs = first["backlinks"]
    assert docs[(f"{N}/a.html", f"{A}/pricing", "Pricing")]["target_status"] == 200
    assert docs[(f"{N}/a.html", f"{A}/pricing", "Pricing")]["broken"] is False
    old = docs[OLD]
    assert old["target_status"] == 200 and old["target_final_url"] == f"{A}/new-page"
    assert docs[FEATURES]["target_final_url"] == f"{A}/features"
    blog = docs[(f"{N}/a.html", f"{A}/blog", "Blog")]  # HEAD refused with 405: GET
    assert blog["target_status"] == 200 and blog["broken"] is False
    private = docs[(f"{N}/a.html", f"{A}/private-area", "Private")]
    assert private["target_error"] == "robots_disallowed" and private["broken"] is False
    assert private["target_status"] is None
    slow = docs[(f"{N}/a.html", f"{A}/slow", "Slow")]
    assert slow["target_error"] == "timeout" and slow["broken"] is True
    assert all(d["target_checked_at"] >= d["last_seen"] for d in docs.values())
    # Each distinct target URL once a check (HEAD, then GET where HEAD is refused).
    checks = Counter((m, p) for m, h, p in first["requests"] if h == "acme-tools.com" and p != "/robots.txt")
    assert checks[("HEAD", "/pricing")] == 1 and checks[("GET", "/blog")] == 1
    assert ("GET", "/private-area") not in checks and ("HEAD", "/private-area") not in checks
    # /slow is retried after its timeout; /promo was also reached through sho.rt/x1 while crawling.
    assert all(m in ("HEAD", "GET") and (n == 1 or p in ("/slow", "/promo")) for (m, p), n in checks.items()), checks
    assert checks[("HEAD", "/promo")] == 2
    # Stage 2: the pricing page is gone: its backlink is broken; back in stage 1 it is not.
    pricing = (f"{N}/a.html", f"{A}/pricing", "Pricing")
    assert second["backlinks"][pricing]["broken"] is True
    assert second["backlinks"][pricing]["target_status"] == 404
    assert fourth["backlinks"][pricing]["broken"] is False
    assert {k for k, d in fourth["backlinks"].items() if d["broken"]} == {(f"{N}/a.html", f"{A}/slow", "Slow")}


def test_recrawl_marks_what_was_lost_and_why(history):
    first, second = history[0], history[1]
    assert {
        k: d["lost_reason"] for k, d in second["backlinks"].items() if d.get("lost_at") is not None
    } == LOST_IN_STAGE_2
    for key in LOST_IN_STAGE_2:
        doc = second["backlinks"][key]
        assert doc["lost_at"] > first["backlinks"][key]["last_seen"]
        assert doc["last_seen"] == first["backlinks"][key]["last_seen"]  # not seen since
    # The failing page has failed once, fewer than LOST_AFTER_FAILED_VISITS=2.
    assert second["backlinks"][CONTACT]["failed_visits"] == 1
    # The page no longer linked from the seed is still revisited by the recrawl.
    assert second["backlinks"][PARTNERS]["last_seen"] > first["backlinks"][PARTNERS]["last_seen"]
    assert ("GET", "www.news-site.com", "/h.html") in second["requests"]
    # A rel change keeps the document and updates link_types.
    assert second["backlinks"][FEATURES]["_id"] == first["backlinks"][FEATURES]["_id"]
    assert second["backlinks"][FEATURES]["link_types"] == ["sponsored"]
    assert set(second["backlinks"]) == FIRST | {NEW, ABOUT2}
    assert second["pages"][f"{N}/g.html"]["error"] == "redirected_offsite"


def test_events_match_the_changes_exactly(history):
    first, second, third, fourth = history
    crawl2 = second["events"][len(first["events"]) :]
    assert Counter((e["type"], _key(e), e.get("reason")) for e in crawl2) == Counter(
        [("lost", k, r) for k, r in LOST_IN_STAGE_2.items()]
        + [("new", NEW, None), ("new", ABOUT2, None), ("link_type_changed", FEATURES, None)]
    )
    changed = next(e for e in crawl2 if e["type"] == "link_type_changed")
    assert changed["old_link_types"] == ["follow"] and changed["link_types"] == ["sponsored"]
    assert all(e["target_domain"] == "acme-tools.com" for e in crawl2)
    crawl3 = third["events"][len(second["events"]) :]
    assert [(e["type"], _key(e), e["reason"]) for e in crawl3] == [("lost", CONTACT, "page_error")]
    assert third["backlinks"][CONTACT]["lost_reason"] == "page_error"
    crawl4 = fourth["events"][len(third["events"]) :]
    recovered = set(LOST_IN_STAGE_2) | {CONTACT}
    assert Counter((e["type"], _key(e)) for e in crawl4) == Counter(
        [("recovered", k) for k in recovered] + [("lost", NEW), ("lost", ABOUT2), ("link_type_changed", FEATURES)]
    )


def test_links_back_clear_lost(history):
    fourth = history[3]
    assert {k: d["lost_reason"] for k, d in fourth["backlinks"].items() if d.get("lost_at") is not None} == {
        NEW: "link_removed",
        ABOUT2: "page_not_found",
    }
    assert fourth["backlinks"][FEATURES]["link_types"] == ["follow"]
    assert fourth["backlinks"][CONTACT]["failed_visits"] == 0
    assert "lost_reason" not in fourth["backlinks"][TEAM]


def test_events_are_indexed_by_target_domain_and_time(history, mongo_uri):
    client = pymongo.MongoClient(mongo_uri)
    info = client["test_monitoring"][EVENTS].index_information()
    assert any(i["key"] == [("target_domain", 1), ("time", -1)] for i in info.values())
    client.close()


def test_check_targets_command(mongo_uri, db, tmp_path):
    """`backlinks check-targets DOMAIN` checks the stored target URLs, and nothing else."""
    site = web_.MonitoredWeb()
    proxy = WebProxy(site).start()
    try:
        run_crawl(mongo_uri, db.name, proxy, "-a", f"seeds={web_.SEED}", "-a", f"targets={web_.TARGET}")
        assert db[BACKLINKS].count_documents({"target_checked_at": {"$exists": True}}) == 0
        site.stage = 2  # /pricing is 404 now
        before = len(proxy.requests)
        env = {
            **os.environ,
            "http_proxy": proxy.url,
            "MONGO_URI": mongo_uri,
            "MONGO_DATABASE": db.name,
            "DOWNLOAD_TIMEOUT": "2",
            "RETRY_TIMES": "0",
            "DOWNLOAD_DELAY": "0",
        }
        env.pop("REDIS_URL", None)
        done = subprocess.run(
            [BACKLINKS_SCRIPT, "check-targets", "acme-tools.com"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        requested = proxy.requests[before:]
    finally:
        proxy.stop()
    assert {h for _, h, _ in requested} == {"acme-tools.com"}  # no page crawled, targets only
    docs = list(db[BACKLINKS].find())
    assert docs and all("target_checked_at" in d for d in docs)
    assert {d["target_url"] for d in docs if d["broken"]} == {f"{A}/pricing", f"{A}/slow"}
    assert "broken 2" in done.stdout


def _summary(step) -> tuple:
    """What a step left in the store, without times and ids."""
    docs = step["backlinks"]
    return (
        {k: d.get("lost_reason") for k, d in docs.items()},
        {k: (d.get("broken"), d.get("target_status"), d.get("target_final_url")) for k, d in docs.items()},
        {k: d["link_types"] for k, d in docs.items()},
        Counter((e["type"], _key(e), e.get("reason")) for e in step["events"]),
    )


def test_distributed_workers_monitor_exactly_as_one_machine(history, mongo_uri, db, redis_server):
    """The same four crawls by two workers on one Redis frontier: the same store, step by step.

    The first worker carries the arguments (recrawl, check_targets); the second joins.
    ``follow_redirects_to_targets`` is a per-worker switch, so both get it.
    """
    import redis as redis_py

    redis = redis_py.Redis.from_url(redis_server.url)
    site = web_.MonitoredWeb()
    proxy = WebProxy(site).start()
    steps = []
    try:
        for stage, extra in ((1, ()), (2, ("-a", "recrawl=1")), (2, ("-a", "recrawl=1")), (1, ("-a", "recrawl=1"))):
            site.stage = stage
            first = Worker(mongo_uri, db, proxy.url, redis_server.url, *ARGS, *extra, **SETTINGS)
            # As OPERATIONS.md says: the targets are shared before another worker joins.
            wait_for(lambda: redis.exists("backlinks:targets"), what="the first worker's targets in Redis")
            second = Worker(
                mongo_uri, db, proxy.url, redis_server.url, "-a", "follow_redirects_to_targets=1", **SETTINGS
            )
            for worker in (first, second):
                assert "Deprecat" not in worker.wait().stderr
            steps.append({"backlinks": _backlinks(db), "events": list(db[EVENTS].find())})
    finally:
        proxy.stop()
        redis.close()
    for n, (single, distributed) in enumerate(zip(history, steps, strict=True), 1):
        for part, (want, got) in enumerate(zip(_summary(single), _summary(distributed), strict=True)):
            if got != want:
                diff = {k: (want.get(k), got.get(k)) for k in set(want) | set(got) if want.get(k) != got.get(k)}
                raise AssertionError(f"crawl {n}, part {part}: (single, distributed) differ: {diff}")
