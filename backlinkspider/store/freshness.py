"""When a summary (``store/summaries.py``) is stale: every writer of backlinks says so here.

Kept apart from the summaries themselves so that writers (the crawl pipeline, the
sitewide pass, ``backlinks target``, ``score``) mark without importing the reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

from pymongo.database import Database

from backlinkspider.store.schema import SUMMARIES

FORMAT = 1  # a summary of another format is computed again
TARGETS_ID = "~targets"  # the targets table's header; "~" is not allowed in a domain name
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def is_fresh(doc: dict | None) -> bool:
    """Whether a summary (or the targets table's header) says what the store says now:
    nothing marked it changed after the moment it was computed from."""
    return (
        doc is not None
        and doc.get("format") == FORMAT
        and doc.get("changed_at", EPOCH) <= doc.get("computed_from", EPOCH)
    )


def mark_changed(db: Database, domains: Iterable[str] | None) -> None:
    """Record that backlinks into ``domains`` changed, and so the targets table; None: every
    domain's authority or scores (``rank``, ``score``), not the table. Their summaries are
    stale from now, by the server's clock. Writes only those that were fresh, so a crawl
    writes each summary once, not once per batch."""
    fresh = {"$expr": {"$lte": ["$changed_at", "$computed_from"]}}
    if domains is None:  # every domain's summary (its rows' chunks have no ``computed_from``)
        which: dict = {"computed_from": {"$exists": True}, "_id": {"$ne": TARGETS_ID}}
    else:
        names = sorted(set(domains))
        if not names:
            return
        which = {"_id": {"$in": [*names, TARGETS_ID]}}
    db[SUMMARIES].update_many({**which, **fresh}, {"$currentDate": {"changed_at": True}})
