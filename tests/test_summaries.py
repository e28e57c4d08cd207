"""Per-target summaries (store/summaries.py) and the index windows the dashboard pages by.

A summary must say exactly what the backlinks say (``reads.profile`` reads them every
time): on the known store, after ``backlinks target`` changes the anchor categories, and
after a recrawl loses links, where the crawl itself must mark the summary stale and
compute it again at its end. The windows must page through every filtered row once
however small the reading budget.
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import datetime, timezone

import pytest

from backlinkspider import store
from backlinkspider.store import reads, summaries
from backlinkspider.store.freshness import is_fresh, mark_changed
from backlinkspider.web import windows
from backlinkspider.web.data import Store
from backlinkspider.web.filters import BacklinkQuery
from tests.support import known_store
from tests.support.cli import cli
from tests.support.crawls import run_crawl
from tests.support.known_store import ACME
from tests.web import monitoring


@pytest.fixture
def known(db):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    known_store.fill(db, now)
    return db, now


@pytest.mark.parametrize("top", [1, 10, 100, 150])
def test_a_summary_gives_the_profile_the_backlinks_give(known, top):
    db, now = known
    assert summaries.profile(db, ACME, top=top, now=now) == reads.profile(db, ACME, top=top, now=now)
    assert summaries.history(db, ACME, today=now.date()) == reads.history(db, ACME, today=now.date())
    assert db[store.SUMMARIES].find_one({"_id": ACME}) is not None  # read once, then kept


def test_a_summary_is_read_not_recomputed_while_fresh_and_recomputed_once_marked(known):
    db, now = known
    first = summaries.compute(db, ACME)
    assert is_fresh(db[store.SUMMARIES].find_one({"_id": ACME}))
    # A write that does not mark: the summary still says what it said (writers must mark).
    extra = {**db[store.BACKLINKS].find_one({"target_domain": ACME, "lost_at": None}), "anchor": "one more link"}
    del extra["_id"]
    db[store.BACKLINKS].insert_one(extra)
    before = reads.profile(db, ACME, now=now)["backlinks"]["total"]
    assert summaries.profile(db, ACME, now=now)["backlinks"]["total"] == before - 1
    assert summaries.summary(db, ACME)["computed_from"] == first["computed_from"]
    mark_changed(db, [ACME])
    assert not is_fresh(db[store.SUMMARIES].find_one({"_id": ACME}))
    assert summaries.profile(db, ACME, now=now) == reads.profile(db, ACME, now=now)
    assert is_fresh(db[store.SUMMARIES].find_one({"_id": ACME}))


def test_backlinks_target_brings_the_anchor_categories_up_to_date(known):
    db, now = known
    before = summaries.profile(db, ACME, now=now)["anchor_categories"]
    cli(db, "target", ACME, "--keywords", "best spade")
    assert is_fresh(db[store.SUMMARIES].find_one({"_id": ACME}))  # the command computed it again
    after = summaries.profile(db, ACME, now=now)["anchor_categories"]
    assert after == reads.profile(db, ACME, now=now)["anchor_categories"] and after != before


def test_a_recrawl_marks_the_summary_and_its_end_computes_it_again(mongo_uri, db):
    site = monitoring.MonitoredWeb()
    from backlinkspider.demo.proxy import WebProxy

    proxy = WebProxy(site).start()
    try:
        args = ("-a", f"seeds={monitoring.SEED}", "-a", f"targets={monitoring.TARGET}")
        run_crawl(mongo_uri, db.name, proxy, *args)
        first = summaries.compute(db, monitoring.TARGET)  # as `backlinks report` leaves it
        table = db[store.SUMMARIES].find_one({"_id": summaries.TARGETS_ID})
        assert table is not None and is_fresh(table)  # the crawl's end computed the targets table
        site.stage = 2
        run_crawl(mongo_uri, db.name, proxy, *args, "-a", "recrawl=1")
    finally:
        proxy.stop()
    held = db[store.SUMMARIES].find_one({"_id": monitoring.TARGET})
    assert is_fresh(held) and held["computed_from"] > first["computed_from"]
    now = datetime.now(timezone.utc)
    fresh = summaries.profile(db, monitoring.TARGET, now=now)
    assert fresh == reads.profile(db, monitoring.TARGET, now=now)
    assert fresh["backlinks"]["lost"] > 0 and fresh["backlinks"] != first["profile"]["facets"]["totals"]
    rows, _ = summaries.target_rows(db, db[store.SUMMARIES].find_one({"_id": summaries.TARGETS_ID})), None
    mine = next(r for r in rows if r["domain"] == monitoring.TARGET)
    assert mine["live_backlinks"] == fresh["backlinks"]["live"]


def test_lower_bound_walks_down_from_the_cursor():
    hours = [(0, 5), (10, 5), (20, 5), (30, 5)]
    assert windows.lower_bound(hours, None, 4) == (30, 5)
    assert windows.lower_bound(hours, None, 6) == (20, 10)
    assert windows.lower_bound(hours, 30, 6) == (10, 10)  # the bucket at the bound is above it
    assert windows.lower_bound(hours, 25, 100) == (None, 15)


def _export(db, *args: str) -> list[dict]:
    out = cli(db, "export", ACME, *args).stdout
    return list(csv.DictReader(io.StringIO(out)))


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"status": ("lost",)},
        {"anchor": "acme"},
        {"sort": "first_seen"},
        {"sort": "authority"},
        {"sort": "relevance"},
    ],
)
def test_pages_visit_every_row_once_however_small_the_budget(known, mongo_uri, monkeypatch, filters):
    db, _ = known
    monkeypatch.setattr(windows, "BUDGET", 2)
    scored = list(db[store.BACKLINKS].find({"target_domain": ACME}, {"_id": 1}))
    for n, doc in enumerate(scored[:-3]):  # as `backlinks score` leaves them: most rated, some not
        db[store.BACKLINKS].update_one({"_id": doc["_id"]}, {"$set": {"relevance": float(n * 7 % 23) + 0.5}})
    summaries.compute(db, ACME)

    async def every_row() -> tuple[list[dict], int]:
        served = Store(mongo_uri, db.name)
        rows, pages, query = [], 0, BacklinkQuery(ACME, limit=3, **filters)
        try:
            while True:
                found, cursor = await served.backlinks(query)
                rows += found
                pages += 1
                if cursor is None:
                    return rows, pages
                query = BacklinkQuery.parse(ACME, {**_params(query), "cursor": [cursor]})
        finally:
            await served.close()

    rows, pages = asyncio.run(every_row())
    wanted = _export(db, *(["--lost"] if filters.get("status") else []))
    if "anchor" in filters:
        wanted = [r for r in wanted if "acme" in r["anchor"].lower()]
    keys = [(r["referring_page"], r["target_url"], r["anchor"]) for r in rows]
    assert wanted and len(keys) == len(set(keys))
    assert sorted(keys) == sorted((r["referring_page"], r["target_url"], r["anchor"]) for r in wanted)
    field = {"authority": "domain_authority"}.get(filters.get("sort", ""), filters.get("sort", "last_seen"))
    unrated = 0 if field == "domain_authority" else -1  # authority: as 0; relevance: after every value
    stamps = [r[field] if r[field] is not None else unrated for r in rows]
    assert stamps == sorted(stamps, reverse=True) and len(set(stamps)) > 1
    assert pages > len(rows) / 3  # the budget cut pages short: more pages than full ones would need


def _params(query: BacklinkQuery) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for key, value in query.params():
        found.setdefault(key, []).append(value)
    return found
