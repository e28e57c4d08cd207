"""How long each host's robots.txt has been failing, across crawls.

RFC 9309 (2.3.1.4) lets a crawler treat a robots.txt that has been unreachable
for a reasonably long period (30 days, for example) as absent. A crawl only
sees its own few tries, so the start of a host's run of errors is kept here:
one document per origin in ``robots_errors`` (``_id`` the origin, ``since`` the
first error of the current run, ``last``, ``error``, ``failures``). A robots.txt
fetched again (2xx, or a 4xx: no rules) ends the run and deletes the document.
The collection holds failing hosts only, so it stays small.
"""

from __future__ import annotations

from datetime import datetime

from pymongo import ReturnDocument
from pymongo.database import Database

from backlinkspider.store.schema import ROBOTS_ERRORS


def failing_robots(db: Database) -> dict[str, datetime]:
    """Every origin whose robots.txt is failing, with the start of its run of errors."""
    return {d["_id"]: d["since"] for d in db[ROBOTS_ERRORS].find({}, {"since": 1})}


def record_robots_error(db: Database, origin: str, error: str, now: datetime) -> datetime:
    """Count one failed fetch of ``origin``'s robots.txt; the start of its run of errors."""
    record = db[ROBOTS_ERRORS].find_one_and_update(
        {"_id": origin},
        {"$setOnInsert": {"since": now}, "$set": {"last": now, "error": error[:200]}, "$inc": {"failures": 1}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    assert record is not None  # upserted
    return record["since"]


def clear_robots_error(db: Database, origin: str) -> None:
    """``origin``'s robots.txt was fetched: its run of errors is over."""
    db[ROBOTS_ERRORS].delete_one({"_id": origin})
