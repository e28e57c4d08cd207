"""A small backlink store whose every figure is known: the reports' test bed.

Documents have the shape ``pipelines/mongo.py`` writes. Backlinks into
acme-tools.com (``N`` = number in the comments, used by the tests):

    N  referring page                     target            anchor        types           kind      first  lost
    1  http://blog.example.org/a         /                 acme tools    follow          text      40 d
    2  http://blog.example.org/a         /spades           best spade    follow          text       3 d
    3  http://www.example.org/b          /                 acme tools    nofollow        text      10 d   (lost 9 d, recovered 8 d)
    4  http://forum.diy-talk.net/t1      /                 acme tools    nofollow ugc    text      20 d
    5  http://forum.diy-talk.net/t2      /old              ""            follow          image     60 d   broken (404)
    6  http://janedoe.blogspot.com/p     /spades           spades        sponsored       text       5 d
    7  http://links.example.com/r        /spades           spade deal    follow          redirect   2 d
    8  http://spam.example.net/x         /                 cheap tools   follow          text      90 d   lost 2 d, link_removed
    9  http://gone.example.com/p         /gone             acme          follow          text     100 d   lost 15 d, page_not_found; broken
   12  http://www.diy-talk.net/t3        /old              old tools     follow          text      25 d   broken (404)

plus one internal link of acme-tools.com (not a backlink) and one into other.com.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from backlinkspider import store
from backlinkspider.urls import host_of, registered_domain

ACME = "acme-tools.com"
DAY = timedelta(days=1)

#  N: (source_url, target path or URL, anchor, link_types, kind, first seen days ago, extra)
BACKLINKS = {
    1: ("http://blog.example.org/a", "/", "acme tools", ["follow"], "text", 40, {}),
    2: ("http://blog.example.org/a", "/spades", "best spade", ["follow"], "text", 3, {}),
    3: ("http://www.example.org/b", "/", "acme tools", ["nofollow"], "text", 10, {}),
    4: ("http://forum.diy-talk.net/t1", "/", "acme tools", ["nofollow", "ugc"], "text", 20, {}),
    5: ("http://forum.diy-talk.net/t2", "/old", "", ["follow"], "image", 60, {"target_status": 404, "broken": True}),
    6: ("http://janedoe.blogspot.com/p", "/spades", "spades", ["sponsored"], "text", 5, {}),
    7: (
        "http://links.example.com/r",
        "/spades",
        "spade deal",
        ["follow"],
        "redirect",
        2,
        {"redirect_url": "http://sho.rt/x"},
    ),
    8: (
        "http://spam.example.net/x",
        "/",
        "cheap tools",
        ["follow"],
        "text",
        90,
        {"lost_days": 2, "lost_reason": "link_removed"},
    ),
    9: (
        "http://gone.example.com/p",
        "/gone",
        "acme",
        ["follow"],
        "text",
        100,
        {"lost_days": 15, "lost_reason": "page_not_found", "target_status": 404, "broken": True},
    ),
    10: ("https://acme-tools.com/blog", "/", "home", ["follow"], "text", 30, {}),  # internal
    11: ("http://blog.example.org/a", "https://other.com/", "other", ["follow"], "text", 30, {}),
    12: (
        "http://www.diy-talk.net/t3",
        "/old",
        "old tools",
        ["follow"],
        "text",
        25,
        {"target_status": 404, "broken": True},
    ),
}
# Authority as ``backlinks rank`` would store it; example.com is unrated.
AUTHORITY = {ACME: 55.0, "example.org": 40.5, "diy-talk.net": 12.0, "janedoe.blogspot.com": 3.1, "example.net": 0.0}


def backlink(n: int, now: datetime) -> dict:
    source, target, anchor, types, kind, first, extra = BACKLINKS[n]
    extra = dict(extra)
    target = target if "://" in target else f"https://{ACME}{target}"
    lost_days = extra.pop("lost_days", None)
    doc = {
        "source_url": source,
        "target_url": target,
        "anchor": anchor,
        "source_host": host_of(source),
        "source_domain": registered_domain(host_of(source)),
        "target_host": host_of(target),
        "target_domain": registered_domain(host_of(target)),
        "rel": [t for t in types if t != "follow"],
        "link_types": types,
        "kind": kind,
        "page_nofollow": False,
        "page_noindex": False,
        "first_seen": now - first * DAY,
        # Distinct, so the export's order (last seen first) is known: N ascending.
        "last_seen": now - DAY - n * timedelta(minutes=1),
        "failed_visits": 0,
        **extra,
    }
    doc["internal"] = doc["source_domain"] == doc["target_domain"]
    if lost_days is not None:
        doc["lost_at"] = now - lost_days * DAY
        doc["last_seen"] = doc["lost_at"] - DAY - n * timedelta(minutes=1)
    if "target_status" not in doc:
        doc["target_status"] = 200
    doc.setdefault("broken", False)
    return doc


def event(kind: str, n: int, days: float, now: datetime, **extra) -> dict:
    doc = backlink(n, now)
    return {
        "_id": f"{kind}:{n}:{days}",
        "type": kind,
        "time": now - days * DAY,
        **{k: doc[k] for k in ("source_url", "target_url", "anchor", "source_domain", "target_domain", "link_types")},
        **extra,
    }


def events(now: datetime) -> list[dict]:
    """One ``new`` per backlink at its first sighting, and the later changes."""
    found = [event("new", n, BACKLINKS[n][5], now) for n in BACKLINKS]
    return found + [
        event("lost", 8, 2, now, reason="link_removed"),
        event("lost", 9, 15, now, reason="page_not_found"),
        event("lost", 3, 9, now, reason="link_removed"),
        event("recovered", 3, 8, now, reason="link_removed"),
        event("link_type_changed", 4, 1, now, old_link_types=["nofollow"]),
        event("lost", 10, 1, now, reason="link_removed"),  # internal: not a backlink's
    ]


def fill(db, now: datetime) -> None:
    store.ensure_indexes(db)
    db[store.BACKLINKS].insert_many([backlink(n, now) for n in BACKLINKS])
    db[store.EVENTS].insert_many(events(now))
    db[store.DOMAINS].insert_many(
        [{"domain": d, "authority": a, "referring_domains": 0, "computed_at": now} for d, a in AUTHORITY.items()]
    )
