"""The end-of-crawl pass that flags sitewide backlinks (``store/sitewide.py``), on a real store."""

from __future__ import annotations

from datetime import datetime, timezone

from backlinkspider import store

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


def _pages(db, domain: str, n: int, status: int = 200, error: str = "", start: int = 0) -> list[str]:
    urls = [f"http://www.{domain}/{i}" for i in range(start, start + n)]
    db[store.PAGES].insert_many([{"url": u, "domain": domain, "status": status, "error": error} for u in urls])
    return urls


def _links(db, sources: list[str], target: str, **extra) -> None:
    db[store.BACKLINKS].insert_many(
        [
            {
                "source_url": s,
                "source_domain": s.split("/")[2].removeprefix("www."),
                "target_url": f"http://{target}/",
                "target_domain": target,
                "anchor": "a",
                "internal": False,
                "first_seen": NOW,
                **extra,
            }
            for s in sources
        ]
    )


def _flags(db, source: str, target: str) -> set:
    return {d.get("sitewide") for d in db[store.BACKLINKS].find({"source_domain": source, "target_domain": target})}


def test_share_and_minimum_pages(db):
    store.ensure_indexes(db)
    pages = _pages(db, "blog.example", 20)
    _pages(db, "blog.example", 5, status=404, start=100)  # not crawled HTML: not counted
    _pages(db, "blog.example", 30, error="not_html", start=200)
    _links(db, pages[:10], "half.example")  # 10 of 20: at the 0.5 share, at the minimum
    _links(db, pages[:9], "most.example")  # 9: under both
    small = _pages(db, "tiny.example", 4)
    _links(db, small, "every.example")  # every page, but 4 < 10
    done = store.mark_sitewide(db, ["blog.example", "tiny.example"], share=0.5, min_pages=10)
    assert done == {"domains_sitewide": 1, "backlinks_changed": 10 + 9 + 4}
    assert _flags(db, "blog.example", "half.example") == {True}
    assert _flags(db, "blog.example", "most.example") == {False}
    assert _flags(db, "tiny.example", "every.example") == {False}
    # SITEWIDE_MIN_PAGES=3 makes the small site's link sitewide; nothing else moves.
    done = store.mark_sitewide(db, ["blog.example", "tiny.example"], share=0.5, min_pages=3)
    assert done == {"domains_sitewide": 2, "backlinks_changed": 4}
    assert _flags(db, "tiny.example", "every.example") == {True}


def test_lost_links_do_not_count_and_the_flag_goes_back(db):
    store.ensure_indexes(db)
    pages = _pages(db, "blog.example", 12)
    _links(db, pages, "shop.example")
    assert store.mark_sitewide(db, ["blog.example"], 0.5, 10)["domains_sitewide"] == 1
    # A recrawl finds the footer link gone from 8 pages: 4 live links are no longer sitewide.
    db[store.BACKLINKS].update_many({"source_url": {"$in": pages[:8]}}, {"$set": {"lost_at": NOW}})
    store.mark_sitewide(db, ["blog.example"], 0.5, 10)
    assert _flags(db, "blog.example", "shop.example") == {False}


def test_a_domain_with_no_crawled_pages_has_no_sitewide_links(db):
    store.ensure_indexes(db)
    _links(db, ["http://www.gone.example/1"], "shop.example")
    assert store.mark_sitewide(db, ["gone.example"], 0.5, 1) == {"domains_sitewide": 0, "backlinks_changed": 1}
    assert _flags(db, "gone.example", "shop.example") == {False}
