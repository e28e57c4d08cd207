"""What a visit changed: new, lost, recovered and retyped backlinks, as writes and events.

A page's visit is compared with what the store held for it before (read once a
batch by ``pipelines/mongo.py``). Only the stored backlinks this crawl could
store again are compared: those into its targets (or, without targets, the
external ones), so a crawl for one target never "loses" another's backlinks.

Lost reasons, from the visit's outcome:

* ``link_removed``: the page was fetched and parsed, the link is gone.
* ``page_not_found``: the page answered 404 or 410.
* ``page_redirected``: the page's URL now redirects elsewhere.
* ``page_error``: 5xx, no answer, or a body that is not HTML, on
  ``LOST_AFTER_FAILED_VISITS`` visits in a row (``failed_visits`` counts them
  on each backlink); fewer failures leave the backlinks alone.
* ``page_noindex``: the page turned noindex (robots meta or ``X-Robots-Tag``).
  Backlinks first seen on a page that was already noindex are recorded as
  before (``page_noindex: true``) and compared like any other.

A link that is on the page again loses ``lost_at`` and ``lost_reason``, except a
link lost to ``page_noindex`` while the page stays noindex. A link whose
``link_types`` changed keeps its document.

Every change is an event. Event ``_id``s are derived from the backlink and the
state the change left, so a batch written twice, or a page crawled twice by
two workers, records each change once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from bson import ObjectId
from pymongo import UpdateOne

from backlinkspider.scope import stores

PRIOR_FIELDS = (
    "source_url",
    "target_url",
    "anchor",
    "source_domain",
    "target_domain",
    "link_types",
    "lost_at",
    "lost_reason",
    "last_seen",
    "page_noindex",
    "failed_visits",
)


@dataclass
class Plan:
    """The backlinks writes of a batch and the events they make."""

    ops: list[UpdateOne] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    # op index -> (page, link): a ``new`` event if that upsert inserts a document
    upserts: dict[int, tuple] = field(default_factory=dict)
    # op index -> the document that upsert would create: sent as an insert first (pipelines/mongo.py)
    inserts: dict[int, dict] = field(default_factory=dict)

    def new_events(self, inserted: dict[int, object]) -> list[dict]:
        """``new`` events for the upserts that inserted (op index -> ``_id``)."""
        events = []
        for index, backlink_id in inserted.items():
            page, link = self.upserts[index]
            events.append(
                event(
                    "new",
                    page.fetched_at,
                    backlink_id,
                    page.url,
                    link.url,
                    link.anchor,
                    page.domain,
                    link.domain,
                    link_types=link.link_types,
                )
            )
        return events


def event(
    kind: str,
    time: datetime,
    backlink_id,
    source_url: str,
    target_url: str,
    anchor: str,
    source_domain: str,
    target_domain: str,
    episode: str = "",
    **extra,
) -> dict:
    """An ``events`` document; ``episode`` names the state change, for an idempotent ``_id``."""
    digest = hashlib.sha1("\x00".join((kind, source_url, target_url, anchor, episode)).encode()).hexdigest()
    return {
        "_id": f"{kind}:{digest}",
        "type": kind,
        "time": time,
        "backlink_id": backlink_id,
        "source_url": source_url,
        "target_url": target_url,
        "anchor": anchor,
        "source_domain": source_domain,
        "target_domain": target_domain,
        **extra,
    }


def created(filter: dict, update: dict) -> dict:
    """The document an upsert of ``update`` on the equality ``filter`` creates when none
    matches, with its ``_id`` made here: what the pipeline inserts when it knows the
    document is new (an insert is a third of an upsert's work on the server)."""
    doc = {"_id": ObjectId(), **filter}
    for operator in ("$set", "$setOnInsert", "$min", "$max"):
        doc.update(update.get(operator, {}))
    return doc


def link_write(page, link) -> tuple[dict, dict]:
    """The filter and update of the upsert of a backlink seen on ``page``: it is live,
    whatever it was before."""
    fields = {
        "source_host": page.host,
        "source_domain": page.domain,
        "target_host": link.host,
        "target_domain": link.domain,
        "rel": list(link.rel),
        "link_types": link.link_types,
        "page_nofollow": page.page_nofollow,
        "page_noindex": page.page_noindex,
        "kind": link.kind,
        "internal": link.internal,
        "failed_visits": 0,
        "placement": link.placement,
        "hidden": link.hidden,
        "context": {"before": link.context_before, "after": link.context_after},
        # The referring page's facts, kept with each backlink so exports and reports
        # read them without a join (``pages`` holds them too).
        "source_title": page.title,
        "source_language": page.language,
        "source_external_links": page.external_links,
    }
    if link.redirect_url:
        fields["redirect_url"] = link.redirect_url
    if link.sitewide is not None:
        fields["sitewide"] = link.sitewide
    return (
        {"source_url": page.url, "target_url": link.url, "anchor": link.anchor},
        {
            "$set": fields,
            "$unset": {"lost_at": "", "lost_reason": ""},
            # $min/$max rather than $setOnInsert/$set: a retried or late batch
            # can never move first_seen later or last_seen back.
            "$min": {"first_seen": page.fetched_at},
            "$max": {"last_seen": page.fetched_at},
            # Not sitewide until the crawl's tally or its end pass says so (pipelines/sitewide.py).
            **({"$setOnInsert": {"sitewide": False}} if link.sitewide is None else {}),
        },
    )


# Errors that mean the page was not visited at all: they say nothing about its links.
NOT_VISITED = frozenset({"private_network", "robots_unavailable"})


def outcome(page) -> str:
    """``ok``, ``not_found``, ``redirected``, ``error`` or ``not_visited``: what a visit
    says about the page's links."""
    if page.error in NOT_VISITED:
        return "not_visited"
    if page.status in (404, 410):
        return "not_found"
    if 300 <= page.status < 400:  # a redirect off the site, not followed
        return "redirected"
    if 200 <= page.status < 300 and not page.error:
        return "ok"
    return "error"


def plan(pages, prior: dict[str, dict[tuple[str, str], dict]], lost_after: int) -> Plan:
    """The writes and events of a batch of ``(page, targets)`` visits.

    ``prior``: source URL -> (target URL, anchor) -> the stored document's
    ``PRIOR_FIELDS`` and ``_id``, for the pages (and redirect sources) that
    may have stored backlinks.
    """
    result = Plan()
    for page, targets in pages:
        stored = {
            key: doc
            for key, doc in prior.get(page.url, {}).items()
            if stores(doc["target_domain"], doc["source_domain"], targets)
        }
        for source in page.redirected_from:
            for doc in prior.get(source, {}).values():
                if stores(doc["target_domain"], doc["source_domain"], targets):
                    _lose(result, doc, page.fetched_at, "page_redirected")
        state = outcome(page)
        if state == "not_visited":  # the guard refused it: its links are as they were
            continue
        if state in ("not_found", "redirected"):
            reason = "page_not_found" if state == "not_found" else "page_redirected"
            for doc in stored.values():
                _lose(result, doc, page.fetched_at, reason)
        elif state == "error":
            for doc in stored.values():
                if doc.get("lost_at") is not None:
                    continue
                failed = doc.get("failed_visits", 0) + 1
                if failed >= lost_after:
                    _lose(result, doc, page.fetched_at, "page_error", failed_visits=failed)
                else:
                    result.ops.append(UpdateOne({"_id": doc["_id"]}, {"$set": {"failed_visits": failed}}))
        else:
            _visit(result, page, stored)
    return result


def _visit(result: Plan, page, stored: dict) -> None:
    present = set()
    for link in page.links:
        key = (link.url, link.anchor)
        present.add(key)
        doc = stored.get(key)
        if doc is not None and page.page_noindex:
            if doc.get("lost_reason") == "page_noindex":
                continue  # lost to noindex; back only when the page is indexable again
            if doc.get("lost_at") is None and not doc.get("page_noindex"):
                _lose(result, doc, page.fetched_at, "page_noindex")  # the page turned noindex
                continue
        write = link_write(page, link)
        if doc is None:  # not stored before, as far as the batch's read knows
            result.upserts[len(result.ops)] = (page, link)
            result.inserts[len(result.ops)] = created(*write)
        elif doc.get("lost_at") is not None:
            result.events.append(
                _event(
                    doc,
                    "recovered",
                    page.fetched_at,
                    _stamp(doc["lost_at"]),
                    reason=doc.get("lost_reason"),
                    link_types=link.link_types,
                )
            )
        elif doc.get("link_types") != link.link_types:
            result.events.append(
                _event(
                    doc,
                    "link_type_changed",
                    page.fetched_at,
                    f"{_stamp(doc.get('last_seen'))} {doc.get('link_types')} {link.link_types}",
                    old_link_types=doc.get("link_types"),
                    link_types=link.link_types,
                )
            )
        result.ops.append(UpdateOne(*write, upsert=True))
    for key, doc in stored.items():
        if key not in present:
            _lose(result, doc, page.fetched_at, "link_removed")


def _lose(result: Plan, doc: dict, time: datetime, reason: str, **fields) -> None:
    """Mark a live backlink lost, unless a later visit has seen it since."""
    if doc.get("lost_at") is not None:
        return  # lost already: the first reason stays
    result.ops.append(
        UpdateOne(
            {"_id": doc["_id"], "lost_at": None, "last_seen": {"$lt": time}},
            {"$set": {"lost_at": time, "lost_reason": reason, **fields}},
        )
    )
    result.events.append(_event(doc, "lost", time, _stamp(doc.get("last_seen")), reason=reason))


def _event(doc: dict, kind: str, time: datetime, episode: str, **extra) -> dict:
    return event(
        kind,
        time,
        doc["_id"],
        doc["source_url"],
        doc["target_url"],
        doc["anchor"],
        doc["source_domain"],
        doc["target_domain"],
        episode,
        **extra,
    )


def _stamp(value) -> str:
    return value.isoformat(timespec="milliseconds") if isinstance(value, datetime) else str(value)
