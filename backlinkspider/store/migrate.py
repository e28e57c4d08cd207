"""Stores written before URLs followed the WHATWG URL Standard, rewritten once.

The first URL layer stored the form urljoin and w3lib gave: user-info kept,
dot segments of absolute hrefs kept, percent-encoded IDN hosts left encoded, and
``[ ] | { } ^ `` in queries (``[ ] | ^`` in paths) re-encoded. A crawl with the
WHATWG form would store those links again as new documents and mark the old
ones lost. :func:`migrate` rewrites every stored URL (``backlinks``, ``pages``,
``events``, and the hosts and domains derived from them) to the new form and
merges the documents that now share a key: the earliest ``first_seen``, the
latest ``last_seen``, lost only if all were lost; events keep their ids and
point at the merged backlink.

Undoing w3lib's re-encoding is a judgement: ``%5B`` in an old URL may have been
written so by the page, but pages write ``[`` far more often, and that is the
reading taken. A URL the new parser rejects (``http://Du%20bist%20halle``) is
left as it was: the next visit of its page finds no such link and marks it lost.

The first crawl on a store without the ``store_info`` mark runs it (one worker
of a cluster; the others wait), ``backlinks migrate`` on demand.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from itertools import islice

from pymongo import DeleteOne, UpdateOne
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from backlinkspider.store.freshness import mark_changed
from backlinkspider.store.schema import BACKLINKS, EVENTS, PAGES, STORE_INFO
from backlinkspider.urls import canonicalize_with_host, registered_domain

logger = logging.getLogger(__name__)

INFO = STORE_INFO
URL_FORM = "url_form"  # its _id there: which URL form the store holds
FORM = "whatwg"
_BATCH = 1000

# What w3lib percent-encoded that the WHATWG Standard leaves as written.
_PATH_ESCAPES = re.compile(r"%(5[BbDdEe]|7[Cc])")
_QUERY_ESCAPES = re.compile(r"%(5[BbDdEe]|7[BbCcDd]|60)")


def new_form(url: str) -> tuple[str, str] | None:
    """``(URL, host)`` of a URL stored in the old form, in the new form; None if none."""
    path_end = min((i for i in (url.find("?"), url.find("#")) if i >= 0), default=len(url))
    head, query = url[:path_end], url[path_end:]
    head = _PATH_ESCAPES.sub(lambda m: bytes.fromhex(m.group(1)).decode(), head)
    query = _QUERY_ESCAPES.sub(lambda m: bytes.fromhex(m.group(1)).decode(), query)
    return canonicalize_with_host(head + query)


class _Converter:
    """Old URL -> new form, memoised (a site's URLs repeat across documents)."""

    def __init__(self) -> None:
        self.known: dict[str, tuple[str, str] | None] = {}
        self.unparsable = 0

    def __call__(self, url: str) -> tuple[str, str] | None:
        """The new ``(URL, host)``, or None when it stays as it is."""
        if url not in self.known:
            found = new_form(url)
            if found is None:
                self.unparsable += 1
            self.known[url] = found if found is not None and found[0] != url else None
        return self.known[url]


def is_current(db: Database) -> bool:
    """Whether the store holds the current URL form (or nothing yet)."""
    mark = db[INFO].find_one({"_id": URL_FORM})
    return mark is not None and mark.get("form") == FORM and mark.get("state") == "done"


def ensure_current(db: Database, wait: float = 3600) -> dict | None:
    """Migrate the store once, before a crawl writes to it; the counts, or None if nothing was due.

    An empty store is marked current at once. In a cluster one worker migrates
    (it inserts the mark first), the others wait for it to be done.
    """
    if is_current(db):
        return None
    empty = db[BACKLINKS].find_one({}, {"_id": 1}) is None and db[PAGES].find_one({}, {"_id": 1}) is None
    try:
        db[INFO].insert_one({"_id": URL_FORM, "form": FORM, "state": "migrating", "started_at": _now()})
        ours = True
    except DuplicateKeyError:
        ours = False
    if not ours:
        mark = db[INFO].find_one({"_id": URL_FORM}) or {}
        if mark.get("form") != FORM:  # an older mark: ours to replace
            db[INFO].delete_one({"_id": URL_FORM, "form": mark.get("form")})
            return ensure_current(db, wait)
        deadline = time.monotonic() + wait
        while not is_current(db):  # another worker migrates
            if time.monotonic() > deadline:
                raise TimeoutError("another process has been migrating the store's URLs for too long")
            time.sleep(1.0)
        return None
    counts = {} if empty else migrate(db)
    _mark_done(db)
    return counts


def migrate(db: Database) -> dict[str, int]:
    """Rewrite every stored URL to the current form, merging what now shares a key. Idempotent
    on a store written in the current form only where no URL holds ``%5B``-style escapes:
    run it on old stores (``ensure_current`` does, once)."""
    convert = _Converter()
    counts = {"backlinks_rewritten": 0, "backlinks_merged": 0, "pages_rewritten": 0, "pages_merged": 0}
    merged_into: dict = {}  # old backlink _id -> the _id it was merged into
    _migrate_backlinks(db, convert, counts, merged_into)
    counts["events_rewritten"] = _migrate_events(db, convert, merged_into)
    _migrate_pages(db, convert, counts)
    counts["unparsable_urls"] = convert.unparsable
    return counts


def mark_current(db: Database) -> None:
    """Record that the store holds the current URL form (``backlinks migrate`` after migrating)."""
    _mark_done(db)


def _mark_done(db: Database) -> None:
    mark_changed(db, None)  # every summary read the old URLs
    db[INFO].update_one({"_id": URL_FORM}, {"$set": {"form": FORM, "state": "done", "done_at": _now()}},
                        upsert=True)  # fmt: skip


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _chunks(cursor: Iterable[dict], size: int = _BATCH) -> Iterator[list[dict]]:
    while chunk := list(islice(cursor, size)):
        yield chunk


def _migrate_backlinks(db: Database, convert: _Converter, counts: dict, merged_into: dict) -> None:
    fields = {"source_url": 1, "target_url": 1, "anchor": 1, "redirect_url": 1, "first_seen": 1, "last_seen": 1,
              "lost_at": 1, "lost_reason": 1}  # fmt: skip
    changed = []
    for chunk in _chunks(db[BACKLINKS].find({}, fields, batch_size=_BATCH)):
        for doc in chunk:
            source, target = convert(doc["source_url"]), convert(doc["target_url"])
            redirect = convert(doc["redirect_url"]) if doc.get("redirect_url") else None
            if source or target or redirect:
                changed.append((doc, source, target, redirect))
    for doc, source, target, redirect in changed:
        update: dict = {}
        if source:
            update.update(source_url=source[0], source_host=source[1], source_domain=registered_domain(source[1]))
        if target:
            update.update(target_url=target[0], target_host=target[1], target_domain=registered_domain(target[1]))
        if redirect:
            update["redirect_url"] = redirect[0]
        key = {"source_url": update.get("source_url", doc["source_url"]),
               "target_url": update.get("target_url", doc["target_url"]), "anchor": doc["anchor"]}  # fmt: skip
        other = db[BACKLINKS].find_one({**key, "_id": {"$ne": doc["_id"]}})
        if other is None:
            db[BACKLINKS].update_one({"_id": doc["_id"]}, {"$set": update})
            counts["backlinks_rewritten"] += 1
            continue
        db[BACKLINKS].update_one({"_id": other["_id"]}, _merge(other, doc))
        db[BACKLINKS].delete_one({"_id": doc["_id"]})
        merged_into[doc["_id"]] = other["_id"]
        counts["backlinks_merged"] += 1


def _merge(kept: dict, gone: dict) -> dict:
    """The update that folds ``gone`` into ``kept``: earliest first_seen, latest last_seen,
    lost only if both were."""
    update: dict = {"$min": {"first_seen": gone["first_seen"]}, "$max": {"last_seen": gone["last_seen"]}}
    if kept.get("lost_at") is not None and gone.get("lost_at") is None:
        update["$unset"] = {"lost_at": "", "lost_reason": ""}
    elif kept.get("lost_at") is not None and gone.get("lost_at") is not None:
        update["$max"]["lost_at"] = gone["lost_at"]
    return update


def _migrate_events(db: Database, convert: _Converter, merged_into: dict) -> int:
    fields = {"source_url": 1, "target_url": 1, "backlink_id": 1}
    rewritten = 0
    for chunk in _chunks(db[EVENTS].find({}, fields, batch_size=_BATCH)):
        ops = []
        for event in chunk:
            update: dict = {}
            for field in ("source", "target"):
                found = convert(event[f"{field}_url"])
                if found:
                    update.update({f"{field}_url": found[0], f"{field}_domain": registered_domain(found[1])})
            if event.get("backlink_id") in merged_into:
                update["backlink_id"] = merged_into[event["backlink_id"]]
            if update:
                ops.append(UpdateOne({"_id": event["_id"]}, {"$set": update}))
        if ops:
            rewritten += db[EVENTS].bulk_write(ops, ordered=False).modified_count
    return rewritten


def _migrate_pages(db: Database, convert: _Converter, counts: dict) -> None:
    fields = {"url": 1, "redirected_from": 1, "first_fetched_at": 1}
    changed = []
    for chunk in _chunks(db[PAGES].find({}, fields, batch_size=_BATCH)):
        for doc in chunk:
            found = convert(doc["url"])
            sources = [convert(u) for u in doc.get("redirected_from") or ()]
            if found or any(sources):
                changed.append((doc, found, sources))
    for doc, found, sources in changed:
        update: dict = {}
        if any(sources):
            update["redirected_from"] = [s[0] if s else u for s, u in zip(sources, doc["redirected_from"], strict=True)]
        if found:
            other = db[PAGES].find_one({"url": found[0]})
            if other is not None:  # a later crawl stored it in the new form already: that one stays
                ops: list = [DeleteOne({"_id": doc["_id"]})]
                if doc.get("first_fetched_at") is not None:
                    merge = {"$min": {"first_fetched_at": doc["first_fetched_at"]}}
                    ops.insert(0, UpdateOne({"_id": other["_id"]}, merge))
                db[PAGES].bulk_write(ops)
                counts["pages_merged"] += 1
                continue
            update.update(url=found[0], host=found[1], domain=registered_domain(found[1]))
        db[PAGES].update_one({"_id": doc["_id"]}, {"$set": update})
        counts["pages_rewritten"] += 1
