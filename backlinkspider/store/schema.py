"""What the store holds: collection names, field vocabularies, and the indexes.

Every module that reads or writes MongoDB names collections through these
constants, so a rename is one line and ``grep`` finds every use.
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
ROBOTS_ERRORS = "robots_errors"  # hosts whose robots.txt keeps failing (store/robots.py)
EVENT_TYPES = ("new", "lost", "recovered", "link_type_changed")
LOST_REASONS = ("link_removed", "page_not_found", "page_redirected", "page_error", "page_noindex")
BACKLINK_KEY = ("source_url", "target_url", "anchor")
LINK_TYPES = ("follow", "nofollow", "sponsored", "ugc")
KINDS = ("text", "image", "redirect")


def ensure_indexes(db: Database) -> None:
    """Create the indexes the writes and the reports rely on (idempotent)."""
    db[BACKLINKS].create_index([(f, ASCENDING) for f in BACKLINK_KEY], unique=True, name="backlink_key")
    db[BACKLINKS].create_index([("target_domain", ASCENDING), ("last_seen", DESCENDING)])
    db[BACKLINKS].create_index([("source_domain", ASCENDING)])
    # Target checks: the distinct target URLs of a domain, and their backlinks.
    db[BACKLINKS].create_index([("target_domain", ASCENDING), ("target_url", ASCENDING)])
    db[PAGES].create_index([("url", ASCENDING)], unique=True, name="page_url")
    # "New and lost backlinks of a domain in the last N days": one range scan.
    db[EVENTS].create_index([("target_domain", ASCENDING), ("time", DESCENDING)])
    index_domains(db[DOMAINS])


def index_domains(collection: Collection) -> None:
    """Authority of a referring domain, looked up by name ($lookup in the reports)."""
    collection.create_index([("domain", ASCENDING)], unique=True, name="domain")
