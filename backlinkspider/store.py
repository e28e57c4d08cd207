"""The MongoDB side of backlinkspider: client, collections, indexes, queries.

Plain pymongo only, so the same code runs against MongoDB 7/8 in production and
the embedded SecantusDB server on a laptop. Everything that knows a collection
or field name lives here or in ``pipelines/mongo.py``.
"""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, DESCENDING, MongoClient
from pymongo.database import Database

from backlinkspider import __version__
from backlinkspider.embedded import ensure_server

BACKLINKS = "backlinks"
PAGES = "pages"
EVENTS = "events"
EVENT_TYPES = ("new", "lost", "recovered", "link_type_changed")
LOST_REASONS = ("link_removed", "page_not_found", "page_redirected", "page_error", "page_noindex")
BACKLINK_KEY = ("source_url", "target_url", "anchor")
LINK_TYPES = ("follow", "nofollow", "sponsored", "ugc")


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


def _target_match(targets) -> dict:
    return {"target_domain": {"$in": sorted(targets)}} if targets else {}


def referring_pages(db: Database, targets=()) -> list[str]:
    """Every referring page in the store (of backlinks into ``targets``, if given).

    Lost backlinks' pages too: a recrawl must see a link come back.
    """
    rows = db[BACKLINKS].aggregate(
        [{"$match": _target_match(targets)}, {"$group": {"_id": "$source_url"}}], allowDiskUse=True)
    return sorted(row["_id"] for row in rows)


def target_urls(db: Database, targets=()) -> list[str]:
    """The distinct target URLs of the stored backlinks (into ``targets``, if given)."""
    rows = db[BACKLINKS].aggregate(
        [{"$match": _target_match(targets)}, {"$group": {"_id": "$target_url"}}], allowDiskUse=True)
    return sorted(row["_id"] for row in rows)


def changes(db: Database, domain: str, since: datetime) -> dict[str, int]:
    """Events into ``domain`` since ``since``, counted by type (the New/Lost report)."""
    counts = {t: 0 for t in EVENT_TYPES}
    for row in db[EVENTS].aggregate([
        {"$match": {"target_domain": domain, "time": {"$gte": since}}},
        {"$group": {"_id": "$type", "n": {"$sum": 1}}},
    ]):
        counts[row["_id"]] = row["n"]
    return counts


def domain_summary(db: Database, domain: str, top: int = 10) -> dict:
    """Backlinks into ``domain``: totals, link-type split, top referring domains and anchors."""
    coll = db[BACKLINKS]
    match = {"$match": {"target_domain": domain}}
    totals = next(iter(coll.aggregate([
        match,
        {"$group": {"_id": None, "backlinks": {"$sum": 1},
                    "domains": {"$addToSet": "$source_domain"},
                    "pages": {"$addToSet": "$source_url"}}},
        {"$project": {"_id": 0, "backlinks": 1,
                      "referring_domains": {"$size": "$domains"},
                      "referring_pages": {"$size": "$pages"}}},
    ])), {"backlinks": 0, "referring_domains": 0, "referring_pages": 0})
    totals["lost"] = coll.count_documents({"target_domain": domain, "lost_at": {"$ne": None}})
    totals["broken"] = coll.count_documents({"target_domain": domain, "broken": True})
    types = {t: 0 for t in LINK_TYPES}
    for row in coll.aggregate([match, {"$unwind": "$link_types"},
                               {"$group": {"_id": "$link_types", "n": {"$sum": 1}}}]):
        types[row["_id"]] = row["n"]
    return {
        "domain": domain,
        **totals,
        "link_types": types,
        "top_referring_domains": _top(coll, match, "$source_domain", top),
        "top_anchors": _top(coll, match, "$anchor", top),
    }


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
