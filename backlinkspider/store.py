"""The MongoDB side of backlinkspider: client, collections, indexes, and the Python API.

Plain pymongo only, so the same code runs against MongoDB 7/8 in production and
the embedded SecantusDB server on a laptop. Everything that knows a collection
or field name lives here or in ``pipelines/mongo.py``.

The API (what ``backlinks report``, ``export``, ``disavow`` and ``rank`` call)::

    from backlinkspider import store
    db = pymongo.MongoClient(uri, tz_aware=True).backlinks
    store.profile(db, "acme-tools.com")        # the report, as a dict
    store.history(db, "acme-tools.com")        # daily series for charts
    store.backlink_rows(db, "acme-tools.com", live=True, link_types=["follow"])
    store.referring_domain_authority(db, "acme-tools.com")
    store.rank(db)                             # backlinks rank: authority into ``domains``

Every query is an aggregation pipeline built by a ``*_pipeline`` function, so it
can be printed (``backlinks report --pipelines``) and run as is in mongosh.
Each starts with a ``$match`` on ``target_domain`` that an index answers (the
tests check ``explain()``), except ``link_graph_pipeline``, which reads the
whole graph by design.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from itertools import islice
from datetime import date, datetime, timedelta, timezone

from pymongo import ASCENDING, DESCENDING, MongoClient
from pymongo.database import Database

from backlinkspider import __version__
from backlinkspider.embedded import ensure_server

BACKLINKS = "backlinks"
PAGES = "pages"
EVENTS = "events"
DOMAINS = "domains"
EVENT_TYPES = ("new", "lost", "recovered", "link_type_changed")
LOST_REASONS = ("link_removed", "page_not_found", "page_redirected", "page_error", "page_noindex")
BACKLINK_KEY = ("source_url", "target_url", "anchor")
LINK_TYPES = ("follow", "nofollow", "sponsored", "ugc")
KINDS = ("text", "image", "redirect")


def mongo_uri(settings) -> str:
    """``MONGO_URI``, or the URI of the embedded server when it is empty."""
    return settings.get("MONGO_URI") or ensure_server(settings.get("EMBEDDED_MONGO_DIR"))


def connect(settings) -> MongoClient:
    """A client for the configured store; datetimes come back UTC-aware."""
    return MongoClient(
        mongo_uri(settings), tz_aware=True, appname=f"backlinkspider/{__version__}"
    )


def ensure_indexes(db: Database) -> None:
    """Create the indexes the writes and the reports rely on (idempotent)."""
    db[BACKLINKS].create_index(
        [(f, ASCENDING) for f in BACKLINK_KEY], unique=True, name="backlink_key"
    )
    db[BACKLINKS].create_index([("target_domain", ASCENDING), ("last_seen", DESCENDING)])
    db[BACKLINKS].create_index([("source_domain", ASCENDING)])
    # Target checks: the distinct target URLs of a domain, and their backlinks.
    db[BACKLINKS].create_index([("target_domain", ASCENDING), ("target_url", ASCENDING)])
    db[PAGES].create_index([("url", ASCENDING)], unique=True, name="page_url")
    # "New and lost backlinks of a domain in the last N days": one range scan.
    db[EVENTS].create_index([("target_domain", ASCENDING), ("time", DESCENDING)])
    _index_domains(db[DOMAINS])


def _index_domains(collection) -> None:
    """Authority of a referring domain, looked up by name ($lookup in the reports)."""
    collection.create_index([("domain", ASCENDING)], unique=True, name="domain")


def _target_match(targets) -> dict:
    return {"target_domain": {"$in": sorted(targets)}} if targets else {}


def _distinct(db: Database, field: str, targets) -> list[str]:
    """The distinct values of ``field`` over the backlinks (into ``targets``, if given), sorted."""
    rows = db[BACKLINKS].aggregate(
        [{"$match": _target_match(targets)}, {"$group": {"_id": f"${field}"}}], allowDiskUse=True)
    return sorted(row["_id"] for row in rows)


def referring_pages(db: Database, targets=()) -> list[str]:
    """Every referring page in the store (of backlinks into ``targets``, if given).

    Lost backlinks' pages too: a recrawl must see a link come back.
    """
    return _distinct(db, "source_url", targets)


def target_urls(db: Database, targets=()) -> list[str]:
    """The distinct target URLs of the stored backlinks (into ``targets``, if given)."""
    return _distinct(db, "target_url", targets)


def top_target_domains(db: Database, since: datetime, top: int = 10) -> list[tuple[str, int]]:
    """The external domains most linked to by backlinks seen since ``since``."""
    match = {"$match": {"last_seen": {"$gte": since}, "internal": False}}
    return _top(db[BACKLINKS], match, "$target_domain", top)


def _top(coll, match: dict, field: str, top: int) -> list[tuple[str, int]]:
    rows = coll.aggregate([
        match,
        {"$group": {"_id": field, "n": {"$sum": 1}}},
        {"$sort": {"n": -1, "_id": 1}},
        {"$limit": top},
    ])
    return [(row["_id"], row["n"]) for row in rows]


# --- The backlink profile of a domain (``backlinks report``) -------------------------

# A backlink is live until a visit finds it gone and sets ``lost_at``.
LIVE = {"lost_at": None}  # a query: matches a missing field too
# A site's links to itself are stored (``internal: true``) but are not backlinks.
EXTERNAL = {"internal": False}
# Events carry no ``internal`` flag; their two domains tell.
_EXTERNAL_EVENTS = {"$match": {"$expr": {"$ne": ["$source_domain", "$target_domain"]}}}


def _into(domain: str, **more) -> list[dict]:
    """``$match`` on ``target_domain``, then one on anything else.

    Two stages, not one: MongoDB merges adjacent ``$match`` stages and answers
    ``target_domain`` from its index either way, while a simpler planner (the
    embedded SecantusDB) uses an index only for a filter on indexed fields alone.
    """
    return [{"$match": {"target_domain": domain}}] + ([{"$match": more}] if more else [])


_IS_LIVE = {"$eq": [{"$ifNull": ["$lost_at", None]}, None]}
_ONE_IF_LIVE = {"$cond": [_IS_LIVE, 1, 0]}
_ONE_IF_POSITIVE = {"$cond": [{"$gt": ["$live", 0]}, 1, 0]}


def _has(value, array: str) -> dict:
    return {"$cond": [{"$in": [value, {"$ifNull": [array, []]}]}, 1, 0]}


def _lookup_authority(field: str) -> list[dict]:
    """Stages that add ``authority`` (``domains``, from ``backlinks rank``) for ``field``."""
    return [
        {"$lookup": {"from": DOMAINS, "localField": field, "foreignField": "domain", "as": "_rank"}},
        # ``domain`` is unique: one match or none (kept, without authority).
        {"$unwind": {"path": "$_rank", "preserveNullAndEmptyArrays": True}},
        {"$set": {"authority": "$_rank.authority"}},
        {"$unset": "_rank"},
    ]


def _top_by_referring_domains(field: str, top: int, match: dict, *carried: str) -> list[dict]:
    """The ``top`` values of ``field`` among ``match``ed backlinks, most referring domains
    first, then most backlinks; each with the largest of its ``carried`` fields."""
    maxes = {f: {"$max": f"${f}"} for f in carried}
    return [
        {"$match": match},
        # Backlinks per (value, referring domain), then referring domains per value.
        {"$group": {"_id": {"key": f"${field}", "domain": "$source_domain"}, "backlinks": {"$sum": 1}, **maxes}},
        {"$group": {"_id": "$_id.key", "referring_domains": {"$sum": 1},
                    "backlinks": {"$sum": "$backlinks"}, **maxes}},
        {"$sort": {"referring_domains": -1, "backlinks": -1, "_id": 1}},
        {"$limit": top},
        {"$project": {"_id": 0, field: "$_id", "referring_domains": 1, "backlinks": 1,
                      **dict.fromkeys(carried, 1)}},
    ]


def profile_sections(top: int = 10) -> dict[str, list[dict]]:
    """The sections of a backlink profile: stages run on one domain's external ``backlinks``.

    ``profile_pipeline`` runs them all in one pass (``$facet``); each is also a
    pipeline of its own after ``{$match: {target_domain: …}}``. Every figure but
    the ``totals`` counts live backlinks (no ``lost_at``).
    """
    return {
        # backlinks, referring pages, referring domains: total, live (a page or domain
        # is live while one of its backlinks is).
        "totals": [
            {"$group": {"_id": {"domain": "$source_domain", "page": "$source_url"},
                        "backlinks": {"$sum": 1}, "live": {"$sum": _ONE_IF_LIVE}}},
            {"$group": {"_id": "$_id.domain", "backlinks": {"$sum": "$backlinks"},
                        "live_backlinks": {"$sum": "$live"}, "pages": {"$sum": 1},
                        "live_pages": {"$sum": _ONE_IF_POSITIVE}}},
            {"$group": {"_id": None, "backlinks": {"$sum": "$backlinks"},
                        "live_backlinks": {"$sum": "$live_backlinks"},
                        "referring_pages": {"$sum": "$pages"},
                        "live_referring_pages": {"$sum": "$live_pages"},
                        "referring_domains": {"$sum": 1},
                        "live_referring_domains": {"$sum": {"$cond": [{"$gt": ["$live_backlinks", 0]}, 1, 0]}}}},
            {"$unset": "_id"},
        ],
        # Live backlinks per combination of link types, kind and broken target: a few
        # rows, which ``profile`` adds up by link type (a link can be nofollow and ugc),
        # by kind and for broken. Grouping on the fields is cheaper than a $cond each.
        "split": [
            {"$match": LIVE},
            {"$group": {"_id": {"link_types": "$link_types", "kind": "$kind", "broken": "$broken"},
                        "backlinks": {"$sum": 1}}},
        ],
        # Most live backlinks first; their authority from ``domains``.
        "top_referring_domains": [
            {"$match": LIVE},
            {"$group": {"_id": "$source_domain", "backlinks": {"$sum": 1},
                        "follow": {"$sum": _has("follow", "$link_types")},
                        "first_seen": {"$min": "$first_seen"}}},
            {"$sort": {"backlinks": -1, "_id": 1}},
            {"$limit": top},
            *_lookup_authority("_id"),
            {"$project": {"_id": 0, "domain": "$_id", "authority": 1, "backlinks": 1,
                          "follow": 1, "first_seen": 1}},
        ],
        # Most referring domains first, then most backlinks.
        "top_anchors": _top_by_referring_domains("anchor", top, LIVE),
        "top_target_pages": _top_by_referring_domains("target_url", top, LIVE, "target_status"),
        # Live backlinks whose target URL a check found broken, by target URL.
        "broken_targets": _top_by_referring_domains("target_url", top, {**LIVE, "broken": True},
                                                    "target_status", "target_error"),
    }


def profile_pipeline(domain: str, top: int = 10) -> list[dict]:
    """Every section of ``profile_sections`` over ``domain``'s backlinks in one pass."""
    return [*_into(domain, **EXTERNAL), {"$facet": profile_sections(top)}]


def first_and_lost_pipeline(domain: str, now: datetime | None = None) -> list[dict]:
    """New and lost of the last 7 and 30 days from the backlinks' own dates.

    What ``profile`` falls back on for a domain without ``events`` (a store
    written before monitoring recorded them).
    """
    now = now or datetime.now(timezone.utc)
    return [
        *_into(domain, **EXTERNAL),
        {"$group": {"_id": None, **{
            f"{kind}_{days}": {"$sum": {"$cond": [
                {"$gte": [{"$ifNull": [field, None]}, now - timedelta(days=days)]}, 1, 0]}}
            for kind, field in (("new", "$first_seen"), ("lost", "$lost_at")) for days in (7, 30)}}},
    ]


def changes_pipeline(domain: str, now: datetime | None = None) -> list[dict]:
    """``events`` into ``domain`` of the last 30 days, counted by type, for 30 and 7 days."""
    now = now or datetime.now(timezone.utc)
    week = now - timedelta(days=7)
    return [
        {"$match": {"target_domain": domain, "time": {"$gte": now - timedelta(days=30)}}},
        _EXTERNAL_EVENTS,
        {"$group": {"_id": "$type", "last_30_days": {"$sum": 1},
                    "last_7_days": {"$sum": {"$cond": [{"$gte": ["$time", week]}, 1, 0]}}}},
    ]


def authority_pipeline(domain: str) -> list[dict]:
    """The ``domains`` document of ``domain`` (from ``backlinks rank``)."""
    return [{"$match": {"domain": domain}}, {"$project": {"_id": 0}}]


def profile(db: Database, domain: str, top: int = 10, now: datetime | None = None) -> dict:
    """The backlink profile of ``domain``: what ``backlinks report --json`` prints."""
    now = now or datetime.now(timezone.utc)
    facets = next(db[BACKLINKS].aggregate(profile_pipeline(domain, top), allowDiskUse=True))
    totals = (facets["totals"] or [{}])[0]
    types, kinds, broken = dict.fromkeys(LINK_TYPES, 0), dict.fromkeys(KINDS, 0), 0
    for row in facets["split"]:
        for t in row["_id"].get("link_types") or ():
            if t in types:
                types[t] += row["backlinks"]
        if row["_id"].get("kind") in kinds:
            kinds[row["_id"]["kind"]] += row["backlinks"]
        broken += row["backlinks"] if row["_id"].get("broken") is True else 0
    ranked = next(db[DOMAINS].aggregate(authority_pipeline(domain)), {})

    def live_lost(total: str, live: str) -> dict:
        t, n = totals.get(total, 0), totals.get(live, 0)
        return {"total": t, "live": n, "lost": t - n}

    # Changes come from ``events`` when the domain has any (monitoring records
    # them); a store written before that knows only first_seen and lost_at.
    changes = {t: {d: 0 for d in ("last_7_days", "last_30_days")} for t in EVENT_TYPES}
    if db[EVENTS].find_one({"target_domain": domain}, {"_id": 1}) is not None:
        source = EVENTS
        for row in db[EVENTS].aggregate(changes_pipeline(domain, now)):
            changes[row["_id"]] = {d: row[d] for d in ("last_7_days", "last_30_days")}
    else:
        source = BACKLINKS
        dates = next(db[BACKLINKS].aggregate(first_and_lost_pipeline(domain, now)), {})
        for kind in ("new", "lost"):
            changes[kind] = {f"last_{d}_days": dates.get(f"{kind}_{d}", 0) for d in (7, 30)}
    return {
        "domain": domain,
        "generated_at": now,
        "authority": ranked.get("authority"),
        "backlinks": live_lost("backlinks", "live_backlinks"),
        "referring_domains": live_lost("referring_domains", "live_referring_domains"),
        "referring_pages": live_lost("referring_pages", "live_referring_pages"),
        "link_types": types,
        "kinds": kinds,
        "top_referring_domains": [{"authority": None, **row} for row in facets["top_referring_domains"]],
        "top_anchors": facets["top_anchors"],
        "top_target_pages": [{"target_status": None, **row} for row in facets["top_target_pages"]],
        "new_and_lost": {
            "source": source,
            **{period: {t: changes[t][period] for t in EVENT_TYPES}
               for period in ("last_7_days", "last_30_days")},
        },
        "broken": {
            "backlinks": broken,
            "target_pages": [{**row, "target_status": row.get("target_status"),
                              "target_error": row.get("target_error") or ""}
                             for row in facets["broken_targets"]],
        },
    }


# --- Over time (``backlinks report --chart``) ----------------------------------------

def referring_domain_dates_pipeline(domain: str) -> list[dict]:
    """Each referring domain of ``domain``: first seen, and when it was lost (all lost) if so."""
    return [
        *_into(domain, **EXTERNAL),
        {"$group": {"_id": "$source_domain", "first_seen": {"$min": "$first_seen"},
                    "live": {"$sum": _ONE_IF_LIVE}, "lost_at": {"$max": "$lost_at"}}},
    ]


def daily_changes_pipeline(domain: str) -> list[dict]:
    """``events`` into ``domain`` counted by UTC day and type."""
    return [
        {"$match": {"target_domain": domain}},
        _EXTERNAL_EVENTS,
        {"$group": {"_id": {"day": {"$dateTrunc": {"date": "$time", "unit": "day"}}, "type": "$type"},
                    "n": {"$sum": 1}}},
        {"$sort": {"_id.day": 1, "_id.type": 1}},
    ]


def history(db: Database, domain: str, today: date | None = None) -> dict[str, list[dict]]:
    """Daily series of ``domain``: live referring domains at the end of each day, and events.

    A referring domain counts from its first backlink's ``first_seen`` until it
    has no live backlink left (the latest ``lost_at``).
    """
    delta: dict[date, int] = {}
    for row in db[BACKLINKS].aggregate(referring_domain_dates_pipeline(domain), allowDiskUse=True):
        first = row["first_seen"].date()
        delta[first] = delta.get(first, 0) + 1
        if row["live"] == 0 and row.get("lost_at"):
            lost = row["lost_at"].date()
            delta[lost] = delta.get(lost, 0) - 1
    referring = []
    if delta:
        day, last, count = min(delta), max(max(delta), today or datetime.now(timezone.utc).date()), 0
        while day <= last:
            count += delta.get(day, 0)
            referring.append({"day": day, "referring_domains": count})
            day += timedelta(days=1)
    days: dict[date, dict] = {}
    for row in db[EVENTS].aggregate(daily_changes_pipeline(domain)):
        day = row["_id"]["day"].date()
        days.setdefault(day, {"day": day, **{t: 0 for t in EVENT_TYPES}})[row["_id"]["type"]] = row["n"]
    return {"referring_domains": referring, "events": [days[d] for d in sorted(days)]}


# --- One row per backlink (``backlinks export``) -------------------------------------

EXPORT_COLUMNS = ("referring_page", "referring_domain", "domain_authority", "target_url", "anchor",
                  "link_type", "kind", "first_seen", "last_seen", "lost_at", "lost_reason",
                  "target_status")


def backlinks_pipeline(domain: str, live: bool | None = None, link_types: Iterable[str] = ()) -> list[dict]:
    """``domain``'s backlinks, live or lost only, of any of ``link_types``; last seen first."""
    more: dict = dict(EXTERNAL)
    if live is True:
        more.update(LIVE)
    elif live is False:
        more["lost_at"] = {"$ne": None}
    if link_types:
        more["link_types"] = {"$in": sorted(set(link_types))}
    # (target_domain, last_seen) is an index: MongoDB streams this order, no sort in memory.
    return [*_into(domain, **more), {"$sort": {"target_domain": 1, "last_seen": -1}}]


def backlink_rows(db: Database, domain: str, live: bool | None = None,
                  link_types: Iterable[str] = (), batch: int = 1000) -> Iterator[dict]:
    """``EXPORT_COLUMNS`` of each backlink into ``domain``, most recently seen first.

    Streams, with authorities looked up ``batch`` rows at a time.
    """
    cursor = db[BACKLINKS].aggregate(backlinks_pipeline(domain, live, link_types),
                                     allowDiskUse=True, batchSize=batch)
    known: dict[str, float | None] = {}
    while chunk := list(islice(cursor, batch)):
        yield from _rows(db, chunk, known)


def _rows(db: Database, docs: list[dict], known: dict) -> Iterator[dict]:
    missing = {d["source_domain"] for d in docs} - known.keys()
    if missing:
        known.update(authority(db, missing))
    for d in docs:
        yield {
            "referring_page": d["source_url"],
            "referring_domain": d["source_domain"],
            "domain_authority": known.get(d["source_domain"]),
            "target_url": d["target_url"],
            "anchor": d.get("anchor", ""),
            "link_type": " ".join(d.get("link_types") or ()),
            "kind": d.get("kind", ""),
            "first_seen": d.get("first_seen"),
            "last_seen": d.get("last_seen"),
            "lost_at": d.get("lost_at"),
            "lost_reason": d.get("lost_reason") or "",
            "target_status": d.get("target_status"),
        }


def authority(db: Database, domains: Iterable[str]) -> dict[str, float | None]:
    """``authority`` of each of ``domains`` (None where ``backlinks rank`` has not rated it)."""
    names = sorted(set(domains))
    found = {d["domain"]: d.get("authority")
             for d in db[DOMAINS].find({"domain": {"$in": names}}, {"_id": 0, "domain": 1, "authority": 1})}
    return {name: found.get(name) for name in names}


# --- Disavow candidates (``backlinks disavow``) --------------------------------------

def referring_domains_pipeline(domain: str) -> list[dict]:
    """Every external referring domain of ``domain`` (live or lost), with its authority."""
    return [
        *_into(domain, **EXTERNAL),
        {"$group": {"_id": "$source_domain", "backlinks": {"$sum": 1}, "live": {"$sum": _ONE_IF_LIVE}}},
        *_lookup_authority("_id"),
        {"$sort": {"_id": 1}},
        {"$project": {"_id": 0, "domain": "$_id", "authority": 1, "backlinks": 1, "live": 1}},
    ]


def referring_domain_authority(db: Database, domain: str) -> list[dict]:
    """``domain``, ``authority`` (None if unrated), ``backlinks``, ``live`` per referring domain."""
    return [{"authority": None, **row}
            for row in db[BACKLINKS].aggregate(referring_domains_pipeline(domain), allowDiskUse=True)]


# --- Domain authority (``backlinks rank``) -------------------------------------------

def link_graph_pipeline() -> list[dict]:
    """The domain-level graph of live, followed, external links, as one row per
    (referring domain, target domain, referring page): each row is one page's
    worth of an edge's weight, so an edge's weight is its number of rows.

    ``rank`` adds the rows up while building its sparse matrix, which costs
    less than a second ``$group`` on the server; for the edges themselves in
    mongosh, append ``{$group: {_id: {s: "$_id.s", t: "$_id.t"}, pages: {$sum: 1}}}``.
    Reads the whole collection: a graph has no index shortcut. Domains with no
    followed link either way are not in it (``rank`` leaves them unrated).
    """
    return [
        {"$match": {**EXTERNAL, **LIVE, "link_types": "follow"}},
        {"$group": {"_id": {"s": "$source_domain", "t": "$target_domain", "p": "$source_url"}}},
    ]


def link_graph(db: Database) -> Iterator[tuple[str, str]]:
    """(referring domain, target domain) once for each referring page of each edge."""
    for row in db[BACKLINKS].aggregate(link_graph_pipeline(), allowDiskUse=True, batchSize=10000):
        yield row["_id"]["s"], row["_id"]["t"]


def save_authority(db: Database, rows: Iterable[dict], batch: int = 10000) -> int:
    """Replace ``domains`` with ``rows`` (``domain``, ``authority``, ``referring_domains``, …).

    Written to a scratch collection, indexed, then renamed over ``domains`` in one
    step: readers see the old ranking or the new one, never half of each, and
    domains that left the graph leave ``domains``.
    """
    scratch = db[f"{DOMAINS}_new_{os.getpid()}"]
    scratch.drop()
    written, rows = 0, iter(rows)
    while chunk := list(islice(rows, batch)):
        scratch.insert_many(chunk, ordered=False)
        written += len(chunk)
    if not written:
        db[DOMAINS].delete_many({})
        return 0
    _index_domains(scratch)
    scratch.rename(DOMAINS, dropTarget=True)
    return written


def rank(db: Database, damping: float = 0.85):
    """``backlinks rank``: PageRank of ``link_graph`` into ``domains`` (see ``backlinkspider.rank``).

    Returns a ``RankRun``: the ranking, and the seconds spent reading, ranking, storing.
    """
    from backlinkspider.rank import rank_domains  # numpy and scipy: only when ranking

    return rank_domains(db, damping=damping)
