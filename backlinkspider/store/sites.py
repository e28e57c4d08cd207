"""The ``sites`` collection: the sites an expanding crawl (``-a expand=N``) met and crawled.

Written with the pages (``pipelines/mongo.py``, from ``PageItem.site_updates``); read by
``backlinks status`` (sites queued and done) and by the report (how many of a target's
referring domains the crawl found by expanding rather than from the seeds).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from pymongo import UpdateOne
from pymongo.database import Database

from backlinkspider.discovery import QUEUED
from backlinkspider.items import SiteUpdate
from backlinkspider.store.schema import PAGES, SITE_STATES, SITES

TARGET_PAGES = 2000  # a target's pages read for the discovery profile, at most


def site_ops(updates: Iterable[SiteUpdate]) -> list[UpdateOne]:
    """The idempotent writes of ``updates``, one per site (a bulk write is unordered, so a
    batch's updates of one site are merged first, in the order they were made)."""
    merged: dict[str, SiteUpdate] = {}
    for update in updates:
        into = merged.get(update.domain)
        if into is None:
            merged[update.domain] = replace(update)
            continue
        if update.state and not (update.state == QUEUED and into.state):  # queued comes first, or not at all
            into.state = update.state
        into.pages_crawled = max(into.pages_crawled, update.pages_crawled)
        if into.hop is None and update.hop is not None:
            into.hop, into.discovered_from, into.first_seen = update.hop, update.discovered_from, update.first_seen
        elif update.hop is not None and into.hop is not None:
            into.hop = min(into.hop, update.hop)
        if into.priority is None:
            into.priority = update.priority
    return [_site_op(update) for update in merged.values()]


def _site_op(update: SiteUpdate) -> UpdateOne:
    """First facts (hop, where from, the priority at discovery, ``queued``) once; a later
    state over them; the page count as the largest seen."""
    change: dict = {"$max": {"pages_crawled": update.pages_crawled}}
    first: dict = {}
    if update.state == QUEUED:
        first["state"] = QUEUED  # never over a state a site went on to
    elif update.state:
        change["$set"] = {"state": update.state}
    if update.hop is not None:  # the shortest way found, as the crawl found shorter ones
        first["discovered_from"] = update.discovered_from or None
        change["$min"] = {"hop": update.hop, "first_seen": update.first_seen}
    if update.priority is not None:
        first["priority"] = round(update.priority, 6)
    if first:
        change["$setOnInsert"] = first
    return UpdateOne({"domain": update.domain}, change, upsert=True)


def site_counts(db: Database) -> dict[str, int]:
    """Sites by state, every state named (0 when none)."""
    counts = dict.fromkeys(SITE_STATES, 0)
    for row in db[SITES].aggregate([{"$group": {"_id": "$state", "n": {"$sum": 1}}}]):
        counts[row["_id"] or "queued"] = row["n"]
    return counts


def target_page_terms(db: Database, targets: Iterable[str], limit: int = TARGET_PAGES) -> list[dict]:
    """The term counts of the targets' own stored pages: what a backlink's page reads like."""
    found = db[PAGES].find({"domain": {"$in": sorted(targets)}}, {"terms": 1, "_id": 0}).limit(limit)
    return [row["terms"] for row in found if row.get("terms")]
