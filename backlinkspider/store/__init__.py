"""The MongoDB side of backlinkspider: where the store is, what it holds, and the Python API.

Plain pymongo only, so the same code runs against MongoDB 7/8 in production and
the embedded SecantusDB server on a laptop. Every collection and field name
the code uses is here (``schema``) or in ``pipelines/mongo.py``, the writer.

* ``connection``: the client and database from settings (``open_database``,
  ``database``), the embedded server when ``MONGO_URI`` is empty.
* ``schema``: collections, field vocabularies, indexes.
* ``queries``: every query as an aggregation pipeline (``*_pipeline``), so it
  can be printed (``backlinks report --pipelines``) and run as is in mongosh.
* ``reads``: the functions that run them, the API below.
* ``targets``: each target domain's brand names and keywords (anchor categories).
* ``sitewide``: the end-of-crawl pass that flags sitewide backlinks.
* ``robots``: when each failing robots.txt began to fail, for RFC 9309's 30-day rule.
* ``migrate``: stores written before URLs followed the WHATWG Standard, rewritten once.
* ``ranking``: ``backlinks rank``'s graph in and ranking out
  (the PageRank math is ``backlinkspider.rank``'s).

The API (what ``backlinks report``, ``export``, ``disavow`` and ``rank`` call)::

    from backlinkspider import store
    db = store.open_database(settings)         # or pymongo.MongoClient(uri, tz_aware=True).backlinks
    store.profile(db, "acme-tools.com")        # the report, as a dict
    store.history(db, "acme-tools.com")        # daily series for charts
    store.backlink_rows(db, "acme-tools.com", live=True, link_types=["follow"])
    store.referring_domain_authority(db, "acme-tools.com")
    store.rank(db)                             # backlinks rank: authority into ``domains``

``rank``, ``save_authority`` and ``RankRun`` load numpy and scipy on first use only.
"""

from __future__ import annotations

from typing import Any

from backlinkspider.store.connection import connect, database, mongo_uri, open_database
from backlinkspider.store.freshness import mark_changed
from backlinkspider.store.migrate import ensure_current as ensure_url_form
from backlinkspider.store.migrate import is_current as url_form_is_current
from backlinkspider.store.migrate import mark_current as mark_url_form_current
from backlinkspider.store.migrate import migrate as migrate_urls
from backlinkspider.store.queries import (
    EXTERNAL,
    LIVE,
    anchors_pipeline,
    authority_pipeline,
    backlinks_pipeline,
    changes_pipeline,
    daily_changes_pipeline,
    first_and_lost_pipeline,
    link_graph_pipeline,
    profile_pipeline,
    profile_sections,
    referring_domain_dates_pipeline,
    referring_domains_pipeline,
)
from backlinkspider.store.reads import (
    EXPORT_COLUMNS,
    authority,
    backlink_rows,
    backlinks_count,
    crawl_summary,
    has_authority,
    history,
    link_graph,
    profile,
    referring_domain_authority,
    referring_pages,
    stored_backlinks,
    target_urls,
    top_target_domains,
)
from backlinkspider.store.robots import clear_robots_error, failing_robots, record_robots_error
from backlinkspider.store.schema import (
    BACKLINK_KEY,
    BACKLINKS,
    DOMAINS,
    EVENT_TYPES,
    EVENTS,
    KINDS,
    LINK_TYPES,
    LOST_REASONS,
    PAGES,
    PLACEMENTS,
    REFERRING_DOMAINS,
    ROBOTS_ERRORS,
    SITE_STATES,
    SITES,
    STORE_INFO,
    SUMMARIES,
    TARGETS,
    ensure_indexes,
)
from backlinkspider.store.sites import site_counts, site_ops, target_page_terms
from backlinkspider.store.sitewide import crawled_pages_pipeline, linking_pages_pipeline, mark_sitewide
from backlinkspider.store.summaries import refresh as refresh_summaries
from backlinkspider.store.targets import categorizer, set_target, target, target_domains

_RANKING = frozenset({"rank", "save_authority", "RankRun"})


def __getattr__(name: str) -> Any:
    """``rank``, ``save_authority``, ``RankRun``: numpy and scipy only when ranking."""
    if name in _RANKING:
        from backlinkspider.store import ranking

        return getattr(ranking, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BACKLINKS",
    "BACKLINK_KEY",
    "DOMAINS",
    "EVENTS",
    "EVENT_TYPES",
    "EXPORT_COLUMNS",
    "EXTERNAL",
    "KINDS",
    "LINK_TYPES",
    "LIVE",
    "LOST_REASONS",
    "PAGES",
    "PLACEMENTS",
    "authority",
    "authority_pipeline",
    "backlink_rows",
    "backlinks_count",
    "backlinks_pipeline",
    "changes_pipeline",
    "connect",
    "crawl_summary",
    "daily_changes_pipeline",
    "database",
    "ensure_indexes",
    "first_and_lost_pipeline",
    "has_authority",
    "history",
    "link_graph",
    "link_graph_pipeline",
    "mongo_uri",
    "open_database",
    "profile",
    "profile_pipeline",
    "profile_sections",
    "referring_domain_authority",
    "referring_domain_dates_pipeline",
    "referring_domains_pipeline",
    "referring_pages",
    "stored_backlinks",
    "target_urls",
    "top_target_domains",
    "ensure_url_form",
    "url_form_is_current",
    "mark_url_form_current",
    "migrate_urls",
    "REFERRING_DOMAINS",
    "ROBOTS_ERRORS",
    "STORE_INFO",
    "clear_robots_error",
    "failing_robots",
    "record_robots_error",
    "TARGETS",
    "categorizer",
    "mark_sitewide",
    "crawled_pages_pipeline",
    "anchors_pipeline",
    "linking_pages_pipeline",
    "set_target",
    "target",
    "target_domains",
    "SITES",
    "SITE_STATES",
    "site_counts",
    "site_ops",
    "target_page_terms",
    "SUMMARIES",
    "mark_changed",
    "refresh_summaries",
    *sorted(_RANKING),
]
