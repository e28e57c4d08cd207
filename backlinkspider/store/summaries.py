"""Per-target summaries: what a report or a dashboard click reads instead of a domain's backlinks.

A profile groups every backlink of a domain: for the largest domain of ``bench/store.py``
(88,094 backlinks) that is a minute on the embedded server, and seconds on MongoDB. A
summary keeps what that pass found, one document per target domain in ``summaries``:

* ``profile``: ``reads.profile_facts`` with the top ``SUMMARY_TOP`` of each list (a report
  with ``--top`` up to that cuts them; a larger one reads the backlinks);
* ``history``: ``reads.history_facts`` (the chart's daily series);
* ``histograms``: how many backlinks were last seen and first seen per hour, per relevance
  point, and how many events per hour: what the dashboard's tables cut their index windows
  by (``web/windows.py``), so a page reads about its own rows, not the domain's;
* ``referring``: every referring domain with authority, backlinks, live and toxicity, highest
  authority first, in chunk documents of ``CHUNK`` rows (``<domain>~referring/000000``, …),
  and the authority histogram the overview draws.

Authority and scores of the top referring domains are looked up when a profile is read;
the referring domain rows hold them as ``rank`` and ``score`` left them (both mark every
summary changed, and their commands ``refresh``). A summary is *fresh* while its
``changed_at`` is not after its ``computed_from`` (``store/freshness.py``): every write to
a domain's backlinks marks it (the crawl pipeline for each batch, with the domains the batch
wrote; the sitewide pass; ``backlinks target``; URL migration), with the server's clock, so
workers' clocks do not matter. ``backlinks report`` computes a stale or missing summary again
and saves it; the end of a crawl recomputes the ones it made stale (``refresh``). Scripts
that write backlinks themselves call ``freshness.mark_changed``.

The targets table (``backlinks serve``'s first page) is kept the same way under
``TARGETS_ID``, in chunks, most live backlinks first; authority is looked up for the rows shown.
"""

from __future__ import annotations

import logging
import time
from array import array
from collections.abc import Callable, Iterable
from datetime import date, datetime, timezone

from pymongo.database import Database

from backlinkspider.store.columns import FLOAT, INT, OID, STR, names, pack_rows, unpack_rows
from backlinkspider.store.freshness import EPOCH, FORMAT, TARGETS_ID, is_fresh
from backlinkspider.store.queries import EXTERNAL, targets_pipeline
from backlinkspider.store.reads import (
    best_per_domain,
    history_facts,
    history_from,
    profile_facts,
    profile_from,
    referring_domain_authority,
)
from backlinkspider.store.schema import BACKLINKS, EVENTS, REFERRING_DOMAINS, SUMMARIES

logger = logging.getLogger(__name__)

SUMMARY_TOP = 100  # rows kept of each top list: reports and pages with ``top`` up to this read the summary
DISAVOW_FIRST = 500  # referring domains the disavow form lists before a search
CHUNK = 10_000  # rows per document of a long list (the targets table, a domain's referring domains)


def server_time(db: Database) -> datetime:
    """The server's clock: what ``$currentDate`` stamps ``changed_at`` with."""
    moment = db.client.admin.command("hello").get("localTime") or datetime.now(timezone.utc)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _save(db: Database, key: str, fields: dict) -> None:
    # ``$max`` keeps a ``changed_at`` stamped while this summary was computed: it stays stale.
    db[SUMMARIES].update_one({"_id": key}, {"$set": fields, "$max": {"changed_at": EPOCH}}, upsert=True)


def pack(numbers: Iterable[int]) -> bytes:
    """Whole numbers as one BSON binary (int64s): a server and a client read 10,000 of them
    as one value, not as 10,000 array elements with their keys."""
    return array("q", numbers).tobytes()


def unpack(packed: bytes) -> array:
    found = array("q")
    found.frombytes(packed)
    return found


def histogram(doc: dict, name: str) -> list[tuple[int, int]]:
    """A summary's histogram ``name`` as ``(bucket, count)`` pairs, ascending."""
    flat = unpack(doc["histograms"][name])
    return list(zip(flat[0::2], flat[1::2], strict=True))


def facts(doc: dict) -> dict:
    """A summary's ``reads.profile_facts``, the change times unpacked."""
    held = doc["profile"]
    times = {t: unpack(v) for t, v in held["changes"]["times"].items()}
    return {**held, "changes": {**held["changes"], "times": times}}


def histograms(db: Database, domain: str) -> dict[str, bytes]:
    """Counts of ``domain``'s external backlinks by hour of ``last_seen`` and of ``first_seen``
    (ms since the epoch) and by whole ``relevance`` point, and of its events by hour of
    ``time``: each ``pack``ed as bucket, count, bucket, count, … ascending."""

    def by(expression: object) -> list[dict]:
        return [{"$group": {"_id": expression, "n": {"$sum": 1}}}, {"$sort": {"_id": 1}}]

    def hour(field: str) -> dict:
        return {"$toLong": {"$dateTrunc": {"date": field, "unit": "hour"}}}

    facets = {
        "last_seen": by(hour("$last_seen")),
        "first_seen": by(hour("$first_seen")),
        "relevance": [{"$match": {"relevance": {"$ne": None}}}, *by({"$floor": "$relevance"})],
    }
    pipeline: list[dict] = [{"$match": {"target_domain": domain}}, {"$match": EXTERNAL}, {"$facet": facets}]
    found = next(db[BACKLINKS].aggregate(pipeline, allowDiskUse=True))
    events: list[dict] = [
        {"$match": {"target_domain": domain}},
        {"$match": {"$expr": {"$ne": ["$source_domain", "$target_domain"]}}},
        *by(hour("$time")),
    ]
    found["events"] = list(db[EVENTS].aggregate(events, allowDiskUse=True))
    return {
        name: pack(v for row in rows if row["_id"] is not None for v in (int(row["_id"]), row["n"]))
        for name, rows in found.items()
    }


def referring_rows(db: Database, domain: str) -> list[dict]:
    """Every referring domain of ``domain``: ``domain``, ``authority``, ``backlinks``, ``live``,
    ``toxicity`` (None until ``rank`` / ``score``) and ``best``, the ``_id`` of its best backlink
    (``reads.best_per_domain``); highest authority first, then by name (``export --one-per-domain``'s order)."""
    rows = referring_domain_authority(db, domain)
    toxic = {
        d["source_domain"]: d["toxicity"]
        for d in db[REFERRING_DOMAINS].find(
            {"target_domain": domain, "toxicity": {"$ne": None}}, {"_id": 0, "source_domain": 1, "toxicity": 1}
        )
    }
    fields = dict.fromkeys(("source_domain", "link_types", "placement", "hidden", "first_seen"), 1)
    docs = db[BACKLINKS].find({"target_domain": domain, **EXTERNAL}, fields, batch_size=10_000)
    best = {name: doc["_id"] for name, doc in best_per_domain(docs).items()}
    for row in rows:
        row["toxicity"] = toxic.get(row["domain"])
        row["best"] = best.get(row["domain"])
    rows.sort(key=lambda r: (-(r["authority"] or 0), r["domain"]))
    return rows


def disavow_order(rows: list[dict]) -> list[dict]:
    """``rows`` as the disavow form lists them: most toxic first, then lowest authority."""
    return sorted(
        rows, key=lambda r: (-(r["toxicity"] if r["toxicity"] is not None else -1), r["authority"] or 0, r["domain"])
    )


def authority_buckets(rows: list[dict]) -> list[int]:
    """Referring domains per tenth of authority (0-10, …, 90-100), then the unrated."""
    counts = [0] * 11
    for row in rows:
        counts[10 if row.get("authority") is None else min(int(row["authority"] // 10), 9)] += 1
    return counts


def _rows_chunk(domain: str, number: int) -> str:
    return f"{domain}~referring/{number:06d}"  # "~": not a domain; zero-padded: sorts as numbers do


# The columns of the two long lists (store/columns.py).
REFERRING = {"domain": STR, "authority": FLOAT, "backlinks": INT, "live": INT, "toxicity": FLOAT, "best": OID}
TARGET_ROWS = {
    "domain": STR,
    "backlinks": INT,
    "live_backlinks": INT,
    "referring_domains": INT,
    "live_referring_domains": INT,
}


def _save_chunks(db: Database, key: Callable[[int], str], rows: list[dict], schema: dict[str, str]) -> int:
    """``rows`` by column in documents of ``CHUNK`` rows under ``key(0)``, ``key(1)``, …; the
    chunks of a longer list before are deleted. Returns how many."""
    chunks = [rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)]
    for number, chunk in enumerate(chunks):
        db[SUMMARIES].replace_one({"_id": key(number)}, {"columns": pack_rows(chunk, schema)}, upsert=True)
    end = key(0)[:-7] + "0"  # just past the last id of the series ("0" follows "/")
    db[SUMMARIES].delete_many({"_id": {"$gte": key(len(chunks)), "$lt": end}})
    return len(chunks)


def referring(db: Database, summary_doc: dict, start: int = 0, stop: int | None = None) -> list[dict]:
    """The referring domain rows of a summary (``referring_rows``), ``[start:stop]``, reading
    only the chunks that hold them."""
    held = summary_doc["referring"]
    stop = held["count"] if stop is None else min(stop, held["count"])
    if "rows" in held:  # built, not saved
        return held["rows"][start:stop]
    if start >= stop:
        return []
    first, last = start // CHUNK, (stop - 1) // CHUNK
    ids = [_rows_chunk(summary_doc["_id"], n) for n in range(first, last + 1)]
    found = {d["_id"]: d["columns"] for d in db[SUMMARIES].find({"_id": {"$in": ids}})}
    rows: list[dict] = []
    for n, key in zip(range(first, last + 1), ids, strict=True):
        if key in found:
            size = len(names(found[key], "domain"))
            rows += unpack_rows(found[key], REFERRING, range(max(start - n * CHUNK, 0), min(stop - n * CHUNK, size)))
    return rows


def referring_matching(db: Database, summary_doc: dict, search: str) -> list[dict]:
    """The referring domain rows of a summary whose name contains ``search``."""
    held = summary_doc["referring"]
    if "rows" in held:
        return [r for r in held["rows"] if search in r["domain"]]
    ids = [_rows_chunk(summary_doc["_id"], n) for n in range(held["chunks"])]
    found = {d["_id"]: d["columns"] for d in db[SUMMARIES].find({"_id": {"$in": ids}})}
    rows: list[dict] = []
    for key in ids:
        if key in found:
            hits = [i for i, name in enumerate(names(found[key], "domain")) if search in name]
            rows += unpack_rows(found[key], REFERRING, hits)
    return rows


def build(db: Database, domain: str) -> dict:
    """Read ``domain``'s backlinks and events into a summary (its referring domains' rows
    held in it); ``save`` stores it."""
    started = server_time(db)
    rows = referring_rows(db, domain)
    profile = profile_facts(db, domain, SUMMARY_TOP, started)
    profile["changes"]["times"] = {t: pack(v) for t, v in profile["changes"]["times"].items()}
    return {
        "_id": domain,
        "format": FORMAT,
        "top": SUMMARY_TOP,
        "computed_from": started,
        "profile": profile,
        "history": history_facts(db, domain),
        "histograms": histograms(db, domain),
        "referring": {
            "count": len(rows),
            "authority_buckets": authority_buckets(rows),
            "scored": any(r["toxicity"] is not None for r in rows),
            "disavow_first": disavow_order(rows)[:DISAVOW_FIRST],
            "rows": rows,
        },
    }


def save(db: Database, doc: dict) -> dict:
    """Store a built summary: the rows in chunks, the rest in one document."""
    domain = doc["_id"]
    held = dict(doc["referring"])
    held["chunks"] = _save_chunks(db, lambda n: _rows_chunk(domain, n), held.pop("rows"), REFERRING)
    fields = {k: v for k, v in doc.items() if k != "_id"} | {"referring": held}
    _save(db, domain, fields)
    return {"_id": domain, **fields}


def compute(db: Database, domain: str) -> dict:
    """``build`` and ``save`` ``domain``'s summary."""
    return save(db, build(db, domain))


def summary(db: Database, domain: str) -> dict:
    """``domain``'s summary: the stored one while fresh, else computed now (and saved)."""
    found = db[SUMMARIES].find_one({"_id": domain})
    return found if found is not None and is_fresh(found) else compute(db, domain)


def profile(db: Database, domain: str, top: int = 10, now: datetime | None = None) -> dict:
    """``reads.profile`` from ``domain``'s summary: the same dict, without reading its backlinks
    (but for a ``top`` over ``SUMMARY_TOP``)."""
    now = now or datetime.now(timezone.utc)
    if top > SUMMARY_TOP:
        return profile_from(db, domain, profile_facts(db, domain, top, now), top, now)
    # The change times cover the 30 days before ``computed_from``: a fresh summary has
    # every change of the 30 days before any later ``now``.
    return profile_from(db, domain, facts(summary(db, domain)), top, now)


def history(db: Database, domain: str, today: date | None = None) -> dict[str, list[dict]]:
    """``reads.history`` from ``domain``'s summary."""
    return history_from(summary(db, domain)["history"], today)


def build_targets(db: Database) -> dict:
    """The targets table: every backlink grouped by target domain (minutes on a large
    embedded store), most live backlinks first, held in the header; ``save_targets`` stores it."""
    started = server_time(db)
    rows = list(db[BACKLINKS].aggregate(targets_pipeline(limit=0), allowDiskUse=True))
    return {"_id": TARGETS_ID, "format": FORMAT, "computed_from": started, "targets": len(rows), "rows": rows}


def save_targets(db: Database, header: dict) -> dict:
    fields = {k: v for k, v in header.items() if k not in ("_id", "rows")}
    fields["chunks"] = _save_chunks(db, _chunk, header["rows"], TARGET_ROWS)
    _save(db, TARGETS_ID, fields)
    return {"_id": TARGETS_ID, **fields}


def _chunk(number: int) -> str:
    return f"{TARGETS_ID}/{number:06d}"  # zero-padded: the ids sort as the numbers do


def target_rows(db: Database, header: dict, search: str = "", limit: int = 100) -> list[dict]:
    """Rows of the targets table of ``header`` (most live backlinks first; ``search``: names
    containing it), reading no more chunks than it takes."""
    wanted = search.lower()
    if "rows" in header:
        return [r for r in header["rows"] if wanted in r["domain"]][:limit]
    rows: list[dict] = []
    for number in range(header["chunks"]):
        chunk = db[SUMMARIES].find_one({"_id": _chunk(number)})
        if chunk is None:
            continue
        hits = [i for i, name in enumerate(names(chunk["columns"], "domain")) if wanted in name]
        rows += unpack_rows(chunk["columns"], TARGET_ROWS, hits[: limit - len(rows)])
        if len(rows) >= limit:
            break
    return rows


def refresh(db: Database, domains: Iterable[str] | None = None, table: bool = True) -> dict[str, float]:
    """Compute again the stale summaries of ``domains`` (None: of every domain) that exist
    (nobody asked for the others yet), and with ``table`` the targets table when stale or
    missing: what the end of a crawl, ``rank`` and ``score`` call."""
    started = time.monotonic()
    which: dict = {"computed_from": {"$exists": True}, "_id": {"$ne": TARGETS_ID}}
    if domains is not None:
        which["_id"] = {"$in": sorted(set(domains))}
    fields = {"format": 1, "changed_at": 1, "computed_from": 1}
    stale = [doc["_id"] for doc in db[SUMMARIES].find(which, fields) if not is_fresh(doc)]
    for domain in stale:
        compute(db, domain)
    header = db[SUMMARIES].find_one({"_id": TARGETS_ID}, fields)
    table = table and not is_fresh(header)
    if table:
        save_targets(db, build_targets(db))
    return {"summaries": len(stale), "targets_table": int(table), "seconds": time.monotonic() - started}
