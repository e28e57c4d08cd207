"""pipelines/changes.py without a database: which stored backlinks a visit may lose, and event ids."""

from datetime import datetime, timedelta, timezone

from backlinkspider.items import Link, PageItem
from pipelines.changes import plan

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
T1 = T0 + timedelta(days=7)
PAGE = "http://blog.example.org/post"


def _doc(target, anchor, domain, **fields):
    return {
        "_id": f"id-{target}-{anchor}",
        "source_url": PAGE,
        "target_url": target,
        "anchor": anchor,
        "source_domain": "example.org",
        "target_domain": domain,
        "link_types": ["follow"],
        "last_seen": T0,
        **fields,
    }


def _page(*links, **fields):
    page = PageItem(url=PAGE, status=200, fetched_at=T1, host="blog.example.org", domain="example.org", **fields)
    for url, anchor, domain in links:
        page.links.append(
            Link(url=url, anchor=anchor, rel=(), kind="text", host=domain, domain=domain, link_types=["follow"])
        )
    return page


def _prior(*docs):
    return {PAGE: {(d["target_url"], d["anchor"]): d for d in docs}}


def test_a_crawl_for_one_target_never_loses_anothers_backlinks():
    prior = _prior(_doc("http://acme.com/", "Acme", "acme.com"), _doc("http://other.net/", "Other", "other.net"))
    result = plan([(_page(), frozenset({"acme.com"}))], prior, lost_after=3)
    assert [(e["type"], e["target_url"], e["reason"]) for e in result.events] == [
        ("lost", "http://acme.com/", "link_removed")
    ]


def test_without_targets_internal_backlinks_are_left_alone():
    prior = _prior(_doc("http://www.example.org/", "Home", "example.org"))
    assert plan([(_page(), frozenset())], prior, lost_after=3).events == []


def test_event_ids_depend_on_the_change_not_on_the_visit():
    prior = _prior(_doc("http://acme.com/", "Acme", "acme.com"))
    a = plan([(_page(), frozenset({"acme.com"}))], prior, lost_after=3).events
    later = _page()
    later.fetched_at = T1 + timedelta(hours=1)  # a second worker, a retried batch
    b = plan([(later, frozenset({"acme.com"}))], prior, lost_after=3).events
    assert [e["_id"] for e in a] == [e["_id"] for e in b]


def test_a_page_noindex_from_the_start_keeps_its_links_live():
    prior = _prior(_doc("http://acme.com/", "Acme", "acme.com", page_noindex=True))
    page = _page(("http://acme.com/", "Acme", "acme.com"), page_noindex=True)
    result = plan([(page, frozenset({"acme.com"}))], prior, lost_after=3)
    assert result.events == [] and len(result.ops) == 1  # seen again, not lost
    turned = _prior(_doc("http://acme.com/", "Acme", "acme.com", page_noindex=False))
    result = plan([(page, frozenset({"acme.com"}))], turned, lost_after=3)
    assert [(e["type"], e["reason"]) for e in result.events] == [("lost", "page_noindex")]


def test_failed_visits_count_up_to_the_limit():
    prior = _prior(_doc("http://acme.com/", "Acme", "acme.com", failed_visits=1))
    page = PageItem(url=PAGE, status=0, fetched_at=T1, error="timeout")
    assert plan([(page, frozenset())], prior, lost_after=3).events == []
    assert [e["reason"] for e in plan([(page, frozenset())], prior, lost_after=2).events] == ["page_error"]


def test_a_target_is_broken_on_4xx_5xx_and_no_answer_but_not_when_robots_forbids_the_check():
    from backlinkspider.items import TargetItem

    def broken(**fields):
        return TargetItem(url="http://acme.com/", checked_at=T1, **fields).broken

    assert not broken(status=200) and not broken(status=301)
    assert broken(status=404) and broken(status=410) and broken(status=503)
    assert broken(error="dns") and broken(error="timeout") and broken(error="connection_refused")
    assert not broken(error="robots_disallowed")
