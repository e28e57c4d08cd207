"""Sitewide backlinks: a referring domain that links to a target from most of its pages.

A link in a footer or blogroll repeated on 4,000 pages is one editorial
decision, not 4,000; Ahrefs and Majestic count such links apart. A backlink is
``sitewide: true`` when its referring domain links to the same target domain
from at least ``SITEWIDE_SHARE`` of that domain's crawled HTML pages (``pages``
with a 2xx status and no error), and from at least ``SITEWIDE_MIN_PAGES`` of them.

The flag is decided by a pass at the end of each crawl (a recrawl is a crawl
too), over the referring domains the crawl stored pages of, from the whole
store: the share needs the domain's page count, which is known for sure only
once its pages are crawled. The pipeline writes a running guess with each
backlink meanwhile (``pipelines/sitewide.py``), so the pass has few flags to
correct: it reads each domain's backlinks once, through the ``source_domain``
index, with how many are flagged each way, and its pages through ``(domain,
status)``; it writes only documents whose flag is wrong, one update per domain
and flag.
"""

from __future__ import annotations

from collections.abc import Iterable

from pymongo.database import Database

from backlinkspider.store.freshness import mark_changed
from backlinkspider.store.queries import EXTERNAL, ONE_IF_LIVE
from backlinkspider.store.schema import BACKLINKS, PAGES


def crawled_pages_pipeline(domain: str) -> list[dict]:
    """How many crawled HTML pages ``domain`` has: fetched, 2xx, links read from them (no error).

    Two ``$match`` stages, as in ``queries._into``: the first is answered by the
    ``(domain, status)`` index on any server, the second filters what it found.
    """
    return [
        {"$match": {"domain": domain, "status": {"$gte": 200, "$lt": 300}}},
        {"$match": {"error": ""}},
        {"$group": {"_id": None, "n": {"$sum": 1}}},
    ]


def linking_pages_pipeline(domain: str) -> list[dict]:
    """Per target domain of ``domain``'s external backlinks: the live referring pages
    that link to it (``pages``), and how many of its backlinks are flagged sitewide
    (``flagged``), flagged not (``unflagged``) or not at all (``backlinks`` minus both):
    what the pass needs to write only the flags that are wrong."""
    return [
        {"$match": {"source_domain": domain}},
        {"$match": EXTERNAL},
        {
            "$group": {
                "_id": {"t": "$target_domain", "p": "$source_url"},
                "live": {"$sum": ONE_IF_LIVE},
                "backlinks": {"$sum": 1},
                "flagged": {"$sum": {"$cond": [{"$eq": ["$sitewide", True]}, 1, 0]}},
                "unflagged": {"$sum": {"$cond": [{"$eq": ["$sitewide", False]}, 1, 0]}},
            }
        },
        {
            "$group": {
                "_id": "$_id.t",
                "pages": {"$sum": {"$cond": [{"$gt": ["$live", 0]}, 1, 0]}},
                "backlinks": {"$sum": "$backlinks"},
                "flagged": {"$sum": "$flagged"},
                "unflagged": {"$sum": "$unflagged"},
            }
        },
    ]


def mark_sitewide(db: Database, domains: Iterable[str], share: float, min_pages: int) -> dict[str, int]:
    """Set ``sitewide`` on every backlink of each referring domain in ``domains`` (and mark the
    summaries of the targets whose flags changed).

    Returns how many referring domains link sitewide to some target, and how
    many backlinks changed flag.
    """
    linking, changed, flagged = 0, 0, set()
    for domain in sorted(set(domains)):
        pages = next(db[PAGES].aggregate(crawled_pages_pipeline(domain)), {"n": 0})["n"]
        need = max(min_pages, share * pages) if pages else float("inf")
        wide = False
        wrong: dict[bool, list[str]] = {True: [], False: []}  # targets with a backlink to flag so
        for row in db[BACKLINKS].aggregate(linking_pages_pipeline(domain)):
            sitewide = row["pages"] >= need
            wide |= sitewide
            if row["flagged" if sitewide else "unflagged"] < row["backlinks"]:
                wrong[sitewide].append(row["_id"])
        linking += wide
        for value, targets in wrong.items():
            if targets:  # one write per domain and flag, not per target
                changed += _flag(db, {"source_domain": domain, "target_domain": {"$in": sorted(targets)}}, value)
                flagged.update(targets)
    mark_changed(db, flagged)
    return {"domains_sitewide": linking, "backlinks_changed": changed}


def _flag(db: Database, query: dict, value: bool) -> int:
    """Set ``sitewide`` to ``value`` on the backlinks ``query`` finds, writing only those that change."""
    return (
        db[BACKLINKS].update_many({**query, "sitewide": {"$ne": value}}, {"$set": {"sitewide": value}}).modified_count
    )
