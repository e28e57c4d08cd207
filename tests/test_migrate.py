"""Stores written with the old URL form (urljoin + w3lib) are rewritten once, merging what
then shares a key; a crawl on such a store does it first, ``backlinks migrate`` on demand."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from backlinkspider import store
from backlinkspider.store.migrate import INFO, URL_FORM, new_form
from tests.support.cli import cli
from tests.support.crawls import run_crawl
from tests.web import sites

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
DAY = timedelta(days=1)
SRC = "http://blog.example.org/list?order%5Bdir%5D=asc"  # w3lib's form of ?order[dir]=asc
NEW_SRC = "http://blog.example.org/list?order[dir]=asc"


@pytest.mark.parametrize(
    "old, new",
    [
        (SRC, NEW_SRC),
        ("http://user:pw@acme-tools.com/a", "http://acme-tools.com/a"),
        ("https://acme-tools.com/x/../y", "https://acme-tools.com/y"),
        ("http://derdiplomatst%C3%A9phanehessel-derfilm.de/", "http://xn--derdiplomatstphanehessel-derfilm-n3c.de/"),
        ("http://a.com/p%5B1%5D%7Cx?q=%7Ba%7D%60", "http://a.com/p[1]|x?q={a}`"),
        ("http://a.com/%7Bkept%7D", "http://a.com/%7Bkept%7D"),  # a path's { } stay encoded, as browsers send them
        ("https://acme-tools.com/a%20b/%C3%BC", "https://acme-tools.com/a%20b/%C3%BC"),
    ],
)
def test_old_forms_become_the_browsers(old, new):
    assert new_form(old)[0] == new


def _backlink(source, target, anchor, first, last, lost=None, **more):
    host = target.split("/")[2].split("@")[-1]
    return {"source_url": source, "target_url": target, "anchor": anchor, "source_host": "blog.example.org",
            "source_domain": "example.org", "target_host": host, "target_domain": "acme-tools.com",
            "first_seen": first, "last_seen": last, "lost_at": lost, "link_types": ["follow"], "internal": False,
            **more}  # fmt: skip


@pytest.fixture
def old_store(db):
    store.ensure_indexes(db)
    ids = db.backlinks.insert_many([
        # Two old forms of one backlink, one lost and one live: one live document.
        _backlink(SRC, "https://acme-tools.com/x/../y", "Acme", T0 + 5 * DAY, T0 + 9 * DAY),
        _backlink(SRC, "https://user:pw@acme-tools.com/y", "Acme", T0, T0 + 7 * DAY, lost=T0 + 8 * DAY),
        # Already in the new form, and an old one that merges into it.
        _backlink(NEW_SRC, "https://acme-tools.com/z", "Z", T0 + 3 * DAY, T0 + 4 * DAY, lost=T0 + 5 * DAY),
        _backlink(SRC, "https://acme-tools.com/z", "Z", T0 + DAY, T0 + 2 * DAY, lost=T0 + 3 * DAY),
        # Nothing to change.
        _backlink("http://blog.example.org/plain", "https://acme-tools.com/", "Home", T0, T0),
    ]).inserted_ids  # fmt: skip
    db.events.insert_many([
        {"_id": "new:1", "type": "new", "backlink_id": ids[1], "source_url": SRC,
         "target_url": "https://user:pw@acme-tools.com/y", "source_domain": "example.org",
         "target_domain": "acme-tools.com", "time": T0},
        {"_id": "new:2", "type": "new", "backlink_id": ids[4], "source_url": "http://blog.example.org/plain",
         "target_url": "https://acme-tools.com/", "source_domain": "example.org",
         "target_domain": "acme-tools.com", "time": T0},
    ])  # fmt: skip
    db.pages.insert_many([
        {"url": SRC, "host": "blog.example.org", "domain": "example.org", "first_fetched_at": T0, "status": 200},
        {"url": NEW_SRC, "host": "blog.example.org", "domain": "example.org", "first_fetched_at": T0 + DAY,
         "status": 200},
    ])  # fmt: skip
    return db, ids


def test_an_old_store_is_rewritten_and_merged_once(old_store):
    db, ids = old_store
    counts = store.ensure_url_form(db)
    assert counts["backlinks_merged"] == 2 and counts["pages_merged"] == 1
    docs = {(d["source_url"], d["target_url"], d["anchor"]): d for d in db.backlinks.find()}
    assert set(docs) == {
        (NEW_SRC, "https://acme-tools.com/y", "Acme"),
        (NEW_SRC, "https://acme-tools.com/z", "Z"),
        ("http://blog.example.org/plain", "https://acme-tools.com/", "Home"),
    }
    y = docs[(NEW_SRC, "https://acme-tools.com/y", "Acme")]
    assert (y["first_seen"], y["last_seen"], y.get("lost_at")) == (T0, T0 + 9 * DAY, None)  # live: one was
    assert y["target_host"] == "acme-tools.com"
    z = docs[(NEW_SRC, "https://acme-tools.com/z", "Z")]
    assert (z["first_seen"], z["last_seen"], z["lost_at"]) == (T0 + DAY, T0 + 4 * DAY, T0 + 5 * DAY)  # all lost
    # Events keep their ids and follow their backlink.
    event = db.events.find_one({"_id": "new:1"})
    assert (event["source_url"], event["target_url"]) == (NEW_SRC, "https://acme-tools.com/y")
    assert event["backlink_id"] == y["_id"]
    assert [p["url"] for p in db.pages.find()] == [NEW_SRC]
    assert db.pages.find_one()["first_fetched_at"] == T0
    assert db[INFO].find_one({"_id": URL_FORM})["state"] == "done"
    assert store.ensure_url_form(db) is None  # once


def test_an_empty_store_is_marked_current_without_work(db):
    assert store.ensure_url_form(db) == {}
    assert store.url_form_is_current(db)


def test_the_command_migrates_and_then_has_nothing_to_do(old_store):
    db, _ = old_store
    assert "Migrated" in cli(db, "migrate").stdout
    assert db.backlinks.count_documents({}) == 3
    assert "nothing to do" in cli(db, "migrate").stdout


def test_a_crawl_on_an_old_store_migrates_it_first(mongo_uri, db, web):
    # The old layer kept dot segments of absolute hrefs: the same backlink, months earlier.
    db.backlinks.insert_one(
        _backlink(f"{sites.S}/links.html", "https://www.acme-tools.com/./a", "Plain & simple", T0, T0,
                  source_host="www.seed-site.com", source_domain="seed-site.com")
    )  # fmt: skip
    crawl = run_crawl(mongo_uri, db.name, web, "-a", f"seeds={sites.SEEDS[0]}", "-a", f"targets={sites.TARGET}")
    assert crawl.stderr.count("Rewrote the store's URLs") == 1
    [doc] = db.backlinks.find({"source_url": f"{sites.S}/links.html", "anchor": "Plain & simple"})
    assert doc["target_url"] == "https://www.acme-tools.com/a" and doc["first_seen"] == T0
    assert doc.get("lost_at") is None
    again = run_crawl(mongo_uri, db.name, web, "-a", f"seeds={sites.SEEDS[0]}", "-a", f"targets={sites.TARGET}")
    assert "Rewrote the store's URLs" not in again.stderr
