"""The store's queries as aggregation pipelines: built here, run by ``reads``.

Every query is a list of stages built by a ``*_pipeline`` function, so it
can be printed (``backlinks report --pipelines``) and run as is in mongosh.
Each starts with a ``$match`` on ``target_domain`` that an index answers (the
tests check ``explain()``), except ``link_graph_pipeline``, which reads the
whole graph by design. Nothing here talks to a server.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from backlinkspider.store.schema import DOMAINS


def target_match(targets: Iterable[str]) -> dict:
    """Backlinks into any of ``targets``; every backlink when there are none."""
    return {"target_domain": {"$in": sorted(targets)}} if targets else {}


def distinct_pipeline(field: str, targets: Iterable[str] = ()) -> list[dict]:
    """The distinct values of ``field`` over the backlinks (into ``targets``, if given)."""
    return [{"$match": target_match(targets)}, {"$group": {"_id": f"${field}"}}]


def targets_pipeline(search: str = "", limit: int = 100) -> list[dict]:
    """The domains backlinks point into (``backlinks serve``'s first page): backlinks and
    referring domains, total and live, and authority; most live backlinks first.
    ``search``: only domains whose name contains it. ``limit`` 0: every domain, without
    authority (``store/summaries.py`` keeps that table and looks authority up for the rows shown)."""
    match: dict = dict(EXTERNAL)
    if search:
        match["target_domain"] = {"$regex": re.escape(search.lower())}
    return [
        {"$match": match},
        {
            "$group": {
                "_id": {"t": "$target_domain", "s": "$source_domain"},
                "backlinks": {"$sum": 1},
                "live": {"$sum": ONE_IF_LIVE},
            }
        },
        {
            "$group": {
                "_id": "$_id.t",
                "backlinks": {"$sum": "$backlinks"},
                "live_backlinks": {"$sum": "$live"},
                "referring_domains": {"$sum": 1},
                "live_referring_domains": {"$sum": _ONE_IF_POSITIVE},
            }
        },
        {"$sort": {"live_backlinks": -1, "_id": 1}},
        *([{"$limit": limit}, *_lookup_authority("_id")] if limit else []),
        {
            "$project": {
                "_id": 0,
                "domain": "$_id",
                **({"authority": 1} if limit else {}),
                "backlinks": 1,
                "live_backlinks": 1,
                "referring_domains": 1,
                "live_referring_domains": 1,
            }
        },  # fmt: skip
    ]


def top_target_domains_pipeline(since: datetime, top: int = 10) -> list[dict]:
    """The external domains most linked to by backlinks seen since ``since``."""
    return [
        {"$match": {"last_seen": {"$gte": since}, "internal": False}},
        {"$group": {"_id": "$target_domain", "n": {"$sum": 1}}},
        {"$sort": {"n": -1, "_id": 1}},
        {"$limit": top},
    ]


# --- The backlink profile of a domain (``backlinks report``) -------------------------

# A backlink is live until a visit finds it gone and sets ``lost_at``.
LIVE = {"lost_at": None}  # a query: matches a missing field too
# A site's links to itself are stored (``internal: true``) but are not backlinks.
EXTERNAL = {"internal": False}
# Events carry no ``internal`` flag; their two domains tell.
_EXTERNAL_EVENTS = {"$match": {"$expr": {"$ne": ["$source_domain", "$target_domain"]}}}


def _into(domain: str, **more: object) -> list[dict]:
    """``$match`` on ``target_domain``, then one on anything else.

    Two stages, not one: MongoDB merges adjacent ``$match`` stages and answers
    ``target_domain`` from its index either way, while a simpler planner (the
    embedded SecantusDB) uses an index only for a filter on indexed fields alone.
    """
    return [{"$match": {"target_domain": domain}}] + ([{"$match": more}] if more else [])


_IS_LIVE = {"$eq": [{"$ifNull": ["$lost_at", None]}, None]}
ONE_IF_LIVE = {"$cond": [_IS_LIVE, 1, 0]}
_ONE_IF_POSITIVE = {"$cond": [{"$gt": ["$live", 0]}, 1, 0]}


def _has(value: str, array: str) -> dict:
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
        {"$group": {"_id": "$_id.key", "referring_domains": {"$sum": 1}, "backlinks": {"$sum": "$backlinks"}, **maxes}},
        {"$sort": {"referring_domains": -1, "backlinks": -1, "_id": 1}},
        {"$limit": top},
        {"$project": {"_id": 0, field: "$_id", "referring_domains": 1, "backlinks": 1, **dict.fromkeys(carried, 1)}},
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
            {
                "$group": {
                    "_id": {"domain": "$source_domain", "page": "$source_url"},
                    "backlinks": {"$sum": 1},
                    "live": {"$sum": ONE_IF_LIVE},
                }
            },
            {
                "$group": {
                    "_id": "$_id.domain",
                    "backlinks": {"$sum": "$backlinks"},
                    "live_backlinks": {"$sum": "$live"},
                    "pages": {"$sum": 1},
                    "live_pages": {"$sum": _ONE_IF_POSITIVE},
                }
            },
            {
                "$group": {
                    "_id": None,
                    "backlinks": {"$sum": "$backlinks"},
                    "live_backlinks": {"$sum": "$live_backlinks"},
                    "referring_pages": {"$sum": "$pages"},
                    "live_referring_pages": {"$sum": "$live_pages"},
                    "referring_domains": {"$sum": 1},
                    "live_referring_domains": {"$sum": {"$cond": [{"$gt": ["$live_backlinks", 0]}, 1, 0]}},
                }
            },
            {"$unset": "_id"},
        ],
        # Live backlinks per combination of link types, kind, broken target, placement,
        # hidden and sitewide: a few rows, which ``profile`` adds up by each (a link can be
        # nofollow and ugc). Grouping on the fields is cheaper than a $cond each.
        "split": [
            {"$match": LIVE},
            {
                "$group": {
                    "_id": {
                        "link_types": "$link_types",
                        "kind": "$kind",
                        "broken": "$broken",
                        "placement": "$placement",
                        "hidden": "$hidden",
                        "sitewide": "$sitewide",
                    },
                    "backlinks": {"$sum": 1},
                }
            },
        ],
        # Referring domains with a live sitewide backlink (store/sitewide.py).
        "sitewide_domains": [
            {"$match": {**LIVE, "sitewide": True}},
            {"$group": {"_id": "$source_domain"}},
            {"$group": {"_id": None, "n": {"$sum": 1}}},
        ],
        # Live referring pages by their language (null: unknown, or stored before languages were).
        "languages": [
            {"$match": LIVE},
            {"$group": {"_id": {"language": "$source_language", "page": "$source_url"}}},
            {"$group": {"_id": "$_id.language", "referring_pages": {"$sum": 1}}},
            {"$sort": {"referring_pages": -1, "_id": 1}},
        ],
        # Most live backlinks first; their authority from ``domains``.
        "top_referring_domains": [
            {"$match": LIVE},
            {
                "$group": {
                    "_id": "$source_domain",
                    "backlinks": {"$sum": 1},
                    "follow": {"$sum": _has("follow", "$link_types")},
                    "first_seen": {"$min": "$first_seen"},
                }
            },
            {"$sort": {"backlinks": -1, "_id": 1}},
            {"$limit": top},
            *_lookup_authority("_id"),
            {"$project": {"_id": 0, "domain": "$_id", "authority": 1, "backlinks": 1, "follow": 1, "first_seen": 1}},
        ],
        # Most referring domains first, then most backlinks.
        "top_anchors": _top_by_referring_domains("anchor", top, LIVE),
        "top_target_pages": _top_by_referring_domains("target_url", top, LIVE, "target_status"),
        # Live backlinks whose target URL a check found broken, by target URL.
        "broken_targets": _top_by_referring_domains(
            "target_url", top, {**LIVE, "broken": True}, "target_status", "target_error"
        ),
    }


def profile_pipeline(domain: str, top: int = 10) -> list[dict]:
    """Every section of ``profile_sections`` over ``domain``'s backlinks in one pass."""
    return [*_into(domain, **EXTERNAL), {"$facet": profile_sections(top)}]


def anchors_pipeline(domain: str) -> list[dict]:
    """Live backlinks of ``domain`` per (anchor, kind, referring domain): what ``profile``
    sorts into anchor categories (``backlinkspider.anchors``), which depend on the
    target's brand and keywords and so are worked out in Python, at query time.
    Streamed: a ``$facet`` holds its output in one 16 MB document."""
    return [
        *_into(domain, **EXTERNAL, **LIVE),
        {"$group": {"_id": {"anchor": "$anchor", "kind": "$kind", "domain": "$source_domain"}, "n": {"$sum": 1}}},
    ]


def first_and_lost_pipeline(domain: str, now: datetime | None = None) -> list[dict]:
    """New and lost of the last 7 and 30 days from the backlinks' own dates.

    What ``profile`` falls back on for a domain without ``events`` (a store
    written before monitoring recorded them).
    """
    now = now or datetime.now(timezone.utc)
    return [
        *_into(domain, **EXTERNAL),
        {
            "$group": {
                "_id": None,
                **{
                    f"{kind}_{days}": {
                        "$sum": {"$cond": [{"$gte": [{"$ifNull": [field, None]}, now - timedelta(days=days)]}, 1, 0]}
                    }
                    for kind, field in (("new", "$first_seen"), ("lost", "$lost_at"))
                    for days in (7, 30)
                },
            }
        },
    ]


def changes_pipeline(domain: str, now: datetime | None = None) -> list[dict]:
    """``events`` into ``domain`` of the last 30 days, counted by type, for 30 and 7 days."""
    now = now or datetime.now(timezone.utc)
    week = now - timedelta(days=7)
    return [
        {"$match": {"target_domain": domain, "time": {"$gte": now - timedelta(days=30)}}},
        _EXTERNAL_EVENTS,
        {
            "$group": {
                "_id": "$type",
                "last_30_days": {"$sum": 1},
                "last_7_days": {"$sum": {"$cond": [{"$gte": ["$time", week]}, 1, 0]}},
            }
        },
    ]


def authority_pipeline(domain: str) -> list[dict]:
    """The ``domains`` document of ``domain`` (from ``backlinks rank``)."""
    return [{"$match": {"domain": domain}}, {"$project": {"_id": 0}}]


# --- Over time (``backlinks report --chart``) ----------------------------------------


def referring_domain_dates_pipeline(domain: str) -> list[dict]:
    """Each referring domain of ``domain``: first seen, and when it was lost (all lost) if so."""
    return [
        *_into(domain, **EXTERNAL),
        {
            "$group": {
                "_id": "$source_domain",
                "first_seen": {"$min": "$first_seen"},
                "live": {"$sum": ONE_IF_LIVE},
                "lost_at": {"$max": "$lost_at"},
            }
        },
    ]


def daily_changes_pipeline(domain: str) -> list[dict]:
    """``events`` into ``domain`` counted by UTC day and type."""
    return [
        {"$match": {"target_domain": domain}},
        _EXTERNAL_EVENTS,
        {
            "$group": {
                "_id": {"day": {"$dateTrunc": {"date": "$time", "unit": "day"}}, "type": "$type"},
                "n": {"$sum": 1},
            }
        },
        {"$sort": {"_id.day": 1, "_id.type": 1}},
    ]


# --- One row per backlink (``backlinks export``) -------------------------------------


def backlinks_pipeline(
    domain: str,
    live: bool | None = None,
    link_types: Iterable[str] = (),
    placements: Iterable[str] = (),
    follow_only: bool = False,
    no_hidden: bool = False,
    min_relevance: float | None = None,
) -> list[dict]:
    """``domain``'s backlinks, live or lost only, of any of ``link_types`` and ``placements``
    (``unknown``: stored before placements were), followed only, visible only, scored at least
    ``min_relevance`` relevant; last seen first."""
    more: dict = dict(EXTERNAL)
    if live is True:
        more.update(LIVE)
    elif live is False:
        more["lost_at"] = {"$ne": None}
    types: dict = {}
    if link_types:
        types["$in"] = sorted(set(link_types))
    if follow_only:
        types["$all"] = ["follow"]
    if types:
        more["link_types"] = types
    if placements:
        wanted = sorted(set(placements))
        more["placement"] = {"$in": [None if p == "unknown" else p for p in wanted]}
    if no_hidden:
        more["hidden"] = {"$ne": True}
    if min_relevance is not None:
        more["relevance"] = {"$gte": min_relevance}
    # (target_domain, last_seen) is an index: MongoDB streams this order, no sort in memory.
    return [*_into(domain, **more), {"$sort": {"target_domain": 1, "last_seen": -1}}]


# --- Disavow candidates (``backlinks disavow``) --------------------------------------


def referring_domains_pipeline(domain: str) -> list[dict]:
    """Every external referring domain of ``domain`` (live or lost), with its authority."""
    return [
        *_into(domain, **EXTERNAL),
        {"$group": {"_id": "$source_domain", "backlinks": {"$sum": 1}, "live": {"$sum": ONE_IF_LIVE}}},
        *_lookup_authority("_id"),
        {"$sort": {"_id": 1}},
        {"$project": {"_id": 0, "domain": "$_id", "authority": 1, "backlinks": 1, "live": 1}},
    ]


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
