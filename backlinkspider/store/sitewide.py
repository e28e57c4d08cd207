"""Sitewide backlinks: a referring domain that links to a target from most of its pages.

A link in a footer or blogroll repeated on 4,000 pages is one editorial
decision, not 4,000; Ahrefs and Majestic count such links apart. A backlink is
``sitewide: true`` when its referring domain links to the same target domain
from at least ``SITEWIDE_SHARE`` of that domain's crawled HTML pages (``pages``
with a 2xx status and no error), and from at least ``SITEWIDE_MIN_PAGES`` of them.

The flag is set by a pass at the end of each crawl (a recrawl is a crawl too),
over the referring domains the crawl stored pages of, not by the pipeline page
by page: the share needs the domain's page count, which is known only once its
pages are crawled, and a running share would flip while pages arrive. The pass
reads each domain's backlinks through the ``source_domain`` index and its pages
through ``(domain, status)``; it writes only documents whose flag changes.
"""

from __future__ import annotations

from collections.abc import Iterable

from pymongo.database import Database

from backlinkspider.store.queries import EXTERNAL, LIVE
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
    """Per target domain, the live referring pages of ``domain`` that link to it."""
    return [
        {"$match": {"source_domain": domain}},
        {"$match": {**EXTERNAL, **LIVE}},
        {"$group": {"_id": {"t": "$target_domain", "p": "$source_url"}}},
        {"$group": {"_id": "$_id.t", "pages": {"$sum": 1}}},
    ]


def sitewide_targets(db: Database, domain: str, share: float, min_pages: int) -> tuple[int, set[str]]:
    """``(crawled HTML pages of domain, target domains it links to sitewide)``."""
    pages = next(db[PAGES].aggregate(crawled_pages_pipeline(domain)), {"n": 0})["n"]
    if not pages:
        return 0, set()
    need = max(min_pages, share * pages)
    wide = {row["_id"] for row in db[BACKLINKS].aggregate(linking_pages_pipeline(domain)) if row["pages"] >= need}
    return pages, wide


def mark_sitewide(db: Database, domains: Iterable[str], share: float, min_pages: int) -> dict[str, int]:
    """Set ``sitewide`` on every backlink of each referring domain in ``domains``.

    Returns how many referring domains link sitewide to some target, and how
    many backlinks changed flag.
    """
    linking, changed = 0, 0
    for domain in sorted(set(domains)):
        _, wide = sitewide_targets(db, domain, share, min_pages)
        linking += bool(wide)
        if wide:
            changed += (
                db[BACKLINKS]
                .update_many(
                    {"source_domain": domain, "target_domain": {"$in": sorted(wide)}, "sitewide": {"$ne": True}},
                    {"$set": {"sitewide": True}},
                )
                .modified_count
            )
        changed += (
            db[BACKLINKS]
            .update_many(
                {"source_domain": domain, "target_domain": {"$nin": sorted(wide)}, "sitewide": {"$ne": False}},
                {"$set": {"sitewide": False}},
            )
            .modified_count
        )
    return {"domains_sitewide": linking, "backlinks_changed": changed}
