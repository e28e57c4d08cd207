"""What the store knows about each target domain: its brand names and keywords.

``backlinks target DOMAIN --brand … --keywords …`` writes them; reports and
exports read them to sort anchors into categories (``backlinkspider.anchors``).
A target nobody described gets brand names read from its domain and no keywords.
"""

from __future__ import annotations

from datetime import datetime, timezone

from pymongo.database import Database

from backlinkspider.anchors import Categorizer, default_brand
from backlinkspider.store.freshness import mark_changed
from backlinkspider.store.schema import TARGETS


def target(db: Database, domain: str) -> dict:
    """``{domain, brand, keywords, updated_at}`` of ``domain``: as set, or the defaults."""
    return target_from(domain, db[TARGETS].find_one({"_id": domain}))


def target_from(domain: str, found: dict | None) -> dict:
    """``target`` from the stored document (None: never set), for readers with their own client."""
    found = found or {}
    return {
        "domain": domain,
        "brand": found.get("brand") or default_brand(domain),
        "keywords": found.get("keywords") or [],
        "updated_at": found.get("updated_at"),
    }


def set_target(db: Database, domain: str, brand: list[str] | None = None, keywords: list[str] | None = None) -> dict:
    """Set ``brand`` and/or ``keywords`` of ``domain`` (None leaves one as it is); the result."""
    fields: dict = {"updated_at": datetime.now(timezone.utc)}
    if brand is not None:
        fields["brand"] = brand
    if keywords is not None:
        fields["keywords"] = keywords
    db[TARGETS].update_one({"_id": domain}, {"$set": fields}, upsert=True)
    mark_changed(db, [domain])  # its anchor categories
    return target(db, domain)


def target_domains(db: Database) -> list[str]:
    """The domains set with ``backlinks target``, sorted."""
    return sorted(d["_id"] for d in db[TARGETS].find({}, {"_id": 1}))


def categorizer(db: Database, domain: str) -> Categorizer:
    """The anchor categorizer for ``domain``'s backlinks."""
    found = target(db, domain)
    return Categorizer(found["brand"], found["keywords"])
