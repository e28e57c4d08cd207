"""What the store holds: collection names, field vocabularies, and the indexes.

Every module that reads or writes MongoDB names collections through these
constants, so a rename is one line and ``grep`` finds every use.

Fields of ``backlinks`` about where a link sits (README, "What is stored", has the rest):

* ``placement``: one of ``PLACEMENTS`` (``backlinkspider.layout``); missing on
  documents stored before placements were (reports say ``unknown``).
* ``hidden``: a reader cannot see the link (``backlinkspider.layout``).
* ``context``: ``{"before": str, "after": str}``, the reader's text around the anchor
  (``backlinkspider.link_context``).
* ``sitewide``: set by the end-of-crawl pass (``store/sitewide.py``); missing until then.
* ``source_title``, ``source_language``, ``source_external_links``: the referring
  page's, copied from ``pages`` when the link was last seen, for exports without a join.

``pages`` adds ``language`` (ISO 639-1 or None), ``words`` and ``external_links``
(distinct external URLs; older documents had ``links_external``, a link count).
``targets``: ``{_id: domain, brand: [str], keywords: [str], updated_at}`` (``store/targets.py``).
``sites`` (``-a expand``): ``{domain, hop, discovered_from, first_seen, priority,
pages_crawled, state}``, state one of ``SITE_STATES`` (``store/sites.py``).
"""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING
from pymongo.collection import Collection
from pymongo.database import Database

BACKLINKS = "backlinks"
PAGES = "pages"
EVENTS = "events"
DOMAINS = "domains"
STORE_INFO = "store_info"  # one document per fact about the store itself
TARGETS = "targets"  # one document per target domain: brand names, keywords (store/targets.py)
REFERRING_DOMAINS = "referring_domains"  # one document per (target, referring domain): store/scoring.py
ROBOTS_ERRORS = "robots_errors"  # hosts whose robots.txt keeps failing (store/robots.py)
SITES = "sites"  # one document per site an expanding crawl met (store/sites.py)
SUMMARIES = "summaries"  # one document per target domain, and the targets table: store/summaries.py
SITE_STATES = ("queued", "crawling", "done", "refused", "robots_unavailable")  # backlinkspider.discovery
EVENT_TYPES = ("new", "lost", "recovered", "link_type_changed")
LOST_REASONS = ("link_removed", "page_not_found", "page_redirected", "page_error", "page_noindex")
BACKLINK_KEY = ("source_url", "target_url", "anchor")
LINK_TYPES = ("follow", "nofollow", "sponsored", "ugc")
KINDS = ("text", "image", "redirect")
PLACEMENTS = ("content", "nav", "header", "footer", "aside", "comment")  # backlinkspider.layout decides


def ensure_indexes(db: Database) -> None:
    """Create the indexes the writes and the reports rely on (idempotent)."""
    db[BACKLINKS].create_index([(f, ASCENDING) for f in BACKLINK_KEY], unique=True, name="backlink_key")
    db[BACKLINKS].create_index([("target_domain", ASCENDING), ("last_seen", DESCENDING)])
    # The dashboard's table sorted by first seen or relevance, a window of the index at a time (web/windows.py).
    db[BACKLINKS].create_index([("target_domain", ASCENDING), ("first_seen", DESCENDING)])
    db[BACKLINKS].create_index([("target_domain", ASCENDING), ("relevance", DESCENDING)])
    db[BACKLINKS].create_index([("source_domain", ASCENDING)])
    # Target checks: the distinct target URLs of a domain, and their backlinks.
    db[BACKLINKS].create_index([("target_domain", ASCENDING), ("target_url", ASCENDING)])
    db[PAGES].create_index([("url", ASCENDING)], unique=True, name="page_url")
    # Sitewide links (store/sitewide.py): a referring domain's crawled pages, counted.
    db[PAGES].create_index([("domain", ASCENDING), ("status", ASCENDING)])
    # "New and lost backlinks of a domain in the last N days": one range scan.
    db[EVENTS].create_index([("target_domain", ASCENDING), ("time", DESCENDING)])
    db[SITES].create_index([("domain", ASCENDING)], unique=True, name="site_domain")
    index_domains(db[DOMAINS])
    index_referring_domains(db[REFERRING_DOMAINS])


def index_domains(collection: Collection) -> None:
    """Authority of a referring domain, looked up by name ($lookup in the reports)."""
    collection.create_index([("domain", ASCENDING)], unique=True, name="domain")


def index_referring_domains(collection: Collection) -> None:
    """A pair once; a target's referring domains by toxicity and by relevance (audit, report, disavow)."""
    collection.create_index(
        [("target_domain", ASCENDING), ("source_domain", ASCENDING)], unique=True, name="referring_domain"
    )
    collection.create_index([("target_domain", ASCENDING), ("toxicity", DESCENDING)])
    collection.create_index([("target_domain", ASCENDING), ("relevance", DESCENDING)])
