"""The store's answers: each function runs pipelines of ``queries`` on a database.

This is the Python API that ``backlinks report``, ``export``, ``disavow``,
``check-targets`` and the crawl's own report call; each takes a pymongo
``Database`` (``store.open_database(settings)``, or any client's).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta, timezone
from itertools import islice

from pymongo.database import Database

from backlinkspider.anchors import CATEGORIES
from backlinkspider.store.audit import referring_domain_scores
from backlinkspider.store.freshness import EPOCH
from backlinkspider.store.queries import (
    EXTERNAL,
    anchors_pipeline,
    authority_pipeline,
    backlinks_pipeline,
    daily_changes_pipeline,
    distinct_pipeline,
    link_graph_pipeline,
    profile_pipeline,
    referring_domain_dates_pipeline,
    referring_domains_pipeline,
    top_target_domains_pipeline,
)
from backlinkspider.store.schema import (
    BACKLINKS,
    DOMAINS,
    EVENT_TYPES,
    EVENTS,
    KINDS,
    LINK_TYPES,
    PAGES,
    PLACEMENTS,
    SITES,
)
from backlinkspider.store.targets import categorizer


def _distinct(db: Database, field: str, targets: Iterable[str]) -> list[str]:
    """The distinct values of ``field`` over the backlinks (into ``targets``, if given), sorted."""
    rows = db[BACKLINKS].aggregate(distinct_pipeline(field, targets), allowDiskUse=True)
    return sorted(row["_id"] for row in rows)


def referring_pages(db: Database, targets: Iterable[str] = ()) -> list[str]:
    """Every referring page in the store (of backlinks into ``targets``, if given).

    Lost backlinks' pages too: a recrawl must see a link come back.
    """
    return _distinct(db, "source_url", targets)


def target_urls(db: Database, targets: Iterable[str] = ()) -> list[str]:
    """The distinct target URLs of the stored backlinks (into ``targets``, if given)."""
    return _distinct(db, "target_url", targets)


def top_target_domains(db: Database, since: datetime, top: int = 10) -> list[tuple[str, int]]:
    """The external domains most linked to by backlinks seen since ``since``."""
    rows = db[BACKLINKS].aggregate(top_target_domains_pipeline(since, top))
    return [(row["_id"], row["n"]) for row in rows]


def backlinks_count(db: Database) -> int:
    """Backlinks in the store, from the collection's metadata (no scan)."""
    return db[BACKLINKS].estimated_document_count()


def has_authority(db: Database) -> bool:
    """Whether ``backlinks rank`` has rated any domain yet."""
    return db[DOMAINS].find_one({}, {"_id": 1}) is not None


def crawl_summary(db: Database, since: datetime) -> dict[str, int]:
    """What a crawl that started at ``since`` did, as the store tells it.

    ``pages`` fetched and ``failed`` (stored with an error: no links taken);
    backlinks ``seen``, ``new`` and ``lost`` since then.
    """
    after = {"$gte": since}
    return {
        "pages": db[PAGES].count_documents({"fetched_at": after}),
        "failed": db[PAGES].count_documents({"fetched_at": after, "error": {"$ne": ""}}),
        "seen": db[BACKLINKS].count_documents({"last_seen": after}),
        "new": db[BACKLINKS].count_documents({"first_seen": after}),
        "lost": db[BACKLINKS].count_documents({"lost_at": after}),
    }


def stored_backlinks(db: Database, sources: Iterable[str], fields: Iterable[str]) -> dict[str, dict]:
    """Source URL -> (target URL, anchor) -> ``fields`` of each stored backlink of ``sources``.

    What a batch of visits is compared with (``pipelines/changes.py``): one
    round trip for the whole batch, not one per 101 documents (the default first batch).
    """
    found: dict[str, dict] = {}
    cursor = db[BACKLINKS].find({"source_url": {"$in": sorted(sources)}}, dict.fromkeys(fields, 1), batch_size=20_000)
    for doc in cursor:
        found.setdefault(doc["source_url"], {})[(doc["target_url"], doc["anchor"])] = doc
    return found


def profile(db: Database, domain: str, top: int = 10, now: datetime | None = None) -> dict:
    """The backlink profile of ``domain``, read from its backlinks now: what ``backlinks
    report --json`` prints (``store.summaries.profile`` answers the same from a summary)."""
    now = now or datetime.now(timezone.utc)
    return profile_from(db, domain, profile_facts(db, domain, top, now), top, now)


def profile_facts(db: Database, domain: str, top: int, now: datetime) -> dict:
    """What a profile takes from ``domain``'s backlinks and events (the slow part): the
    ``profile_pipeline`` facets (top ``top``), anchor categories, referring domains found by
    expanding, and the times of the changes of the 30 days before ``now``.

    Authority and scores are not in it: ``profile_from`` looks them up, so ``rank`` and
    ``score`` leave a summary of these facts valid.
    """
    facets = next(db[BACKLINKS].aggregate(profile_pipeline(domain, top), allowDiskUse=True))
    for row in facets["top_referring_domains"]:
        row.pop("authority", None)
    return {
        "facets": facets,
        "anchor_categories": anchor_categories(db, domain),
        "discovered_referring_domains": discovered_referring_domains(db, domain),
        "changes": change_times(db, domain, now - timedelta(days=30)),
    }


def change_times(db: Database, domain: str, since: datetime) -> dict:
    """When ``domain``'s backlinks changed since ``since``: ``{"source", "times": {type: [ms]}}``,
    each list sorted (milliseconds since the epoch, as MongoDB stores dates).

    From ``events`` when the domain has any (monitoring records them); a store written
    before that knows only first seen (``new``) and ``lost_at`` (``lost``).
    """
    times: dict[str, list[int]] = {t: [] for t in EVENT_TYPES}
    if db[EVENTS].find_one({"target_domain": domain}, {"_id": 1}) is not None:
        source = EVENTS
        query = {"target_domain": domain, "time": {"$gte": since}}
        for doc in db[EVENTS].find(query, {"_id": 0, "type": 1, "time": 1, "source_domain": 1}, batch_size=10_000):
            if doc.get("source_domain") != domain and doc.get("type") in times:
                times[doc["type"]].append(to_ms(doc["time"]))
    else:
        source = BACKLINKS
        for kind, field in (("new", "first_seen"), ("lost", "lost_at")):
            dated: dict = {"target_domain": domain, **EXTERNAL, field: {"$gte": since}}
            times[kind] = [to_ms(d[field]) for d in db[BACKLINKS].find(dated, {"_id": 0, field: 1}, batch_size=10_000)]
    return {"source": source, "times": {t: sorted(v) for t, v in times.items()}}


def to_ms(moment: datetime) -> int:
    """``moment`` as MongoDB stores a date: whole milliseconds since the epoch (floored)."""
    return (moment - EPOCH) // timedelta(milliseconds=1)


def profile_from(db: Database, domain: str, facts: dict, top: int, now: datetime) -> dict:
    """The profile of ``domain`` from its ``profile_facts`` (gathered with a ``top`` at least
    this one): the facts counted up, cut to ``top``, and authority and scores as they are now."""
    facets = facts["facets"]
    totals = (facets["totals"] or [{}])[0]
    types, kinds, broken = dict.fromkeys(LINK_TYPES, 0), dict.fromkeys(KINDS, 0), 0
    placements, hidden, sitewide = dict.fromkeys((*PLACEMENTS, "unknown"), 0), 0, 0
    for row in facets["split"]:
        split, n = row["_id"], row["backlinks"]
        for t in split.get("link_types") or ():
            if t in types:
                types[t] += n
        if split.get("kind") in kinds:
            kinds[split["kind"]] += n
        broken += n if split.get("broken") is True else 0
        # Stored before placements were recorded: unknown until the next recrawl.
        placements[split.get("placement") if split.get("placement") in placements else "unknown"] += n
        hidden += n if split.get("hidden") is True else 0
        sitewide += n if split.get("sitewide") is True else 0
    ranked: dict = next(db[DOMAINS].aggregate(authority_pipeline(domain)), {})

    def live_lost(total: str, live: str) -> dict:
        t, n = totals.get(total, 0), totals.get(live, 0)
        return {"total": t, "live": n, "lost": t - n}

    changes = facts["changes"]
    counted = {
        f"last_{days}_days": {
            t: len(times) - bisect_left(times, to_ms(now - timedelta(days=days)))
            for t, times in changes["times"].items()
        }
        for days in (7, 30)
    }
    return {
        "domain": domain,
        "generated_at": now,
        "authority": ranked.get("authority"),
        "backlinks": live_lost("backlinks", "live_backlinks"),
        "referring_domains": live_lost("referring_domains", "live_referring_domains"),
        "referring_pages": live_lost("referring_pages", "live_referring_pages"),
        "discovered_referring_domains": facts["discovered_referring_domains"],
        "link_types": types,
        "kinds": kinds,
        "placements": placements,
        "hidden": hidden,
        "sitewide": {
            "backlinks": sitewide,
            "referring_domains": (facets["sitewide_domains"] or [{"n": 0}])[0]["n"],
        },
        "anchor_categories": facts["anchor_categories"],
        "languages": [
            {"language": row["_id"], "referring_pages": row["referring_pages"]} for row in facets["languages"]
        ],
        "top_referring_domains": _with_scores(db, domain, facets["top_referring_domains"][:top]),
        "top_anchors": facets["top_anchors"][:top],
        "top_target_pages": [{"target_status": None, **row} for row in facets["top_target_pages"][:top]],
        "new_and_lost": {"source": changes["source"], **counted},
        "broken": {
            "backlinks": broken,
            "target_pages": [
                {**row, "target_status": row.get("target_status"), "target_error": row.get("target_error") or ""}
                for row in facets["broken_targets"][:top]
            ],
        },
    }


def _with_scores(db: Database, domain: str, rows: list[dict]) -> list[dict]:
    """Top referring domains with ``authority`` (None until ``backlinks rank``), ``relevance`` and
    ``toxicity`` (None until ``backlinks score``), as they are now."""
    scores = referring_domain_scores(db, domain, (r["domain"] for r in rows))
    rated = authority(db, (r["domain"] for r in rows))
    return [
        {
            "authority": rated.get(row["domain"]),
            **row,
            "relevance": scores.get(row["domain"], {}).get("relevance"),
            "toxicity": scores.get(row["domain"], {}).get("toxicity"),
        }
        for row in rows
    ]


def anchor_categories(db: Database, domain: str) -> dict[str, dict[str, int]]:
    """Live backlinks and referring domains of ``domain`` per anchor category
    (``backlinkspider.anchors``), with the target's brand and keywords as they are now."""
    categorize = categorizer(db, domain).category
    backlinks = dict.fromkeys(CATEGORIES, 0)
    domains: dict[str, set[str]] = {c: set() for c in CATEGORIES}
    for row in db[BACKLINKS].aggregate(anchors_pipeline(domain), allowDiskUse=True, batchSize=10_000):
        category = categorize(row["_id"].get("anchor") or "", row["_id"].get("kind") or "text")
        backlinks[category] += row["n"]
        domains[category].add(row["_id"].get("domain"))
    return {c: {"backlinks": backlinks[c], "referring_domains": len(domains[c])} for c in CATEGORIES}


def history(db: Database, domain: str, today: date | None = None) -> dict[str, list[dict]]:
    """Daily series of ``domain``: live referring domains at the end of each day, and events.

    A referring domain counts from its first backlink's ``first_seen`` until it
    has no live backlink left (the latest ``lost_at``).
    """
    return history_from(history_facts(db, domain), today)


def history_facts(db: Database, domain: str) -> dict:
    """What ``history`` reads from the store: the change in live referring domains per day
    (``[[day, delta], …]``, days as ISO strings) and the events per day."""
    delta: dict[date, int] = {}
    for row in db[BACKLINKS].aggregate(referring_domain_dates_pipeline(domain), allowDiskUse=True):
        first = row["first_seen"].date()
        delta[first] = delta.get(first, 0) + 1
        if row["live"] == 0 and row.get("lost_at"):
            lost = row["lost_at"].date()
            delta[lost] = delta.get(lost, 0) - 1
    days: dict[date, dict] = {}
    for row in db[EVENTS].aggregate(daily_changes_pipeline(domain)):
        day = row["_id"]["day"].date()
        days.setdefault(day, {"day": day.isoformat(), **{t: 0 for t in EVENT_TYPES}})[row["_id"]["type"]] = row["n"]
    return {
        "referring_delta": [[d.isoformat(), n] for d, n in sorted(delta.items())],
        "events": [days[d] for d in sorted(days)],
    }


def history_from(facts: dict, today: date | None = None) -> dict[str, list[dict]]:
    """``history`` from its ``history_facts``, the referring domains carried on to ``today``."""
    delta = {date.fromisoformat(d): n for d, n in facts["referring_delta"]}
    referring = []
    if delta:
        day, last, count = min(delta), max(max(delta), today or datetime.now(timezone.utc).date()), 0
        while day <= last:
            count += delta.get(day, 0)
            referring.append({"day": day, "referring_domains": count})
            day += timedelta(days=1)
    events = [{**row, "day": date.fromisoformat(row["day"])} for row in facts["events"]]
    return {"referring_domains": referring, "events": events}


# --- One row per backlink (``backlinks export``) -------------------------------------

EXPORT_COLUMNS = (
    "referring_page",
    "referring_domain",
    "domain_authority",
    "target_url",
    "anchor",
    "link_type",
    "kind",
    "first_seen",
    "last_seen",
    "lost_at",
    "lost_reason",
    "target_status",
    "placement",
    "hidden",
    "sitewide",
    "anchor_category",
    "context_before",
    "context_after",
    "referring_page_title",
    "referring_page_language",
    "referring_page_external_links",
    "relevance",
    "relevance_basis",
    "referring_domain_toxicity",
    "toxic_reasons",
)


def backlink_rows(
    db: Database,
    domain: str,
    live: bool | None = None,
    link_types: Iterable[str] = (),
    batch: int = 1000,
    placements: Iterable[str] = (),
    follow_only: bool = False,
    no_hidden: bool = False,
    one_per_domain: bool = False,
    min_relevance: float | None = None,
    max_toxicity: float | None = None,
) -> Iterator[dict]:
    """``EXPORT_COLUMNS`` of each backlink into ``domain`` that passes the filters
    (``backlinks_pipeline``), most recently seen first.

    Streams, with authorities looked up ``batch`` rows at a time. ``one_per_domain``:
    only the best backlink of each referring domain (``best_per_domain``), highest
    authority first; that holds one backlink per referring domain in memory.
    ``min_relevance``: only backlinks scored at least that relevant; ``max_toxicity``:
    only those whose referring domain was scored at most that toxic (``backlinks score``).
    """
    pipeline = backlinks_pipeline(domain, live, link_types, placements, follow_only, no_hidden, min_relevance)
    cursor = db[BACKLINKS].aggregate(pipeline, allowDiskUse=True, batchSize=batch)
    scored = _Scored(db, domain, max_toxicity)
    categorize = categorizer(db, domain).category
    known: dict[str, float | None] = {}
    if one_per_domain:
        best = best_per_domain(d for d in cursor if scored.keeps_domain(d["source_domain"]))
        known.update(authority(db, best))
        ranked = sorted(best.values(), key=lambda d: (-(known.get(d["source_domain"]) or 0.0), d["source_domain"]))
        yield from _rows(db, ranked, known, categorize, scored)
        return
    while chunk := list(islice(cursor, batch)):
        yield from _rows(db, chunk, known, categorize, scored)


class _Scored:
    """Referring domains' toxicity for an export, looked up a batch at a time and remembered."""

    def __init__(self, db: Database, domain: str, max_toxicity: float | None):
        self.db, self.domain, self.max_toxicity = db, domain, max_toxicity
        self.known: dict[str, dict] = {}

    def load(self, sources: Iterable[str]) -> None:
        missing = set(sources) - self.known.keys()
        if missing:
            found = referring_domain_scores(self.db, self.domain, missing)
            self.known.update({s: found.get(s, {}) for s in missing})

    def keeps_domain(self, source: str) -> bool:
        if self.max_toxicity is None:
            return True
        self.load([source])
        toxicity = self.known[source].get("toxicity")
        return toxicity is not None and toxicity <= self.max_toxicity

    def of(self, source: str) -> dict:
        return self.known.get(source, {})


def _preference(doc: dict) -> tuple:
    """How good a backlink is within its referring domain, as Ahrefs' "one link per
    domain" picks: followed, then in the content, then visible, then oldest."""
    first = doc.get("first_seen")
    return (
        "follow" in (doc.get("link_types") or ()),
        doc.get("placement") == "content",
        doc.get("hidden") is not True,
        -first.timestamp() if first else float("-inf"),
    )


def best_per_domain(docs: Iterable[dict]) -> dict[str, dict]:
    """Referring domain -> its best backlink among ``docs`` (``_preference``).

    Authority, the next criterion, is the referring domain's, the same for all
    of its backlinks: it orders the domains (``backlink_rows``), not the choice.
    """
    best: dict[str, dict] = {}
    for doc in docs:
        held = best.get(doc["source_domain"])
        if held is None or _preference(doc) > _preference(held):
            best[doc["source_domain"]] = doc
    return best


def _rows(
    db: Database, docs: list[dict], known: dict, categorize: Callable[[str, str], str], scored: _Scored
) -> Iterator[dict]:
    scored.load(d["source_domain"] for d in docs)
    docs = [d for d in docs if scored.keeps_domain(d["source_domain"])]
    missing = {d["source_domain"] for d in docs} - known.keys()
    if missing:
        known.update(authority(db, missing))
    for d in docs:
        yield export_row(d, known.get(d["source_domain"]), scored.of(d["source_domain"]), categorize)


def export_row(d: dict, authority: float | None, domain_score: dict, categorize: Callable[[str, str], str]) -> dict:
    """``EXPORT_COLUMNS`` of one stored backlink, given its referring domain's ``authority`` and
    scores (``referring_domain_scores``): the export's row, and the dashboard's."""
    context = d.get("context") or {}
    return {
        "referring_page": d["source_url"],
        "referring_domain": d["source_domain"],
        "domain_authority": authority,
        "target_url": d["target_url"],
        "anchor": d.get("anchor", ""),
        "link_type": " ".join(d.get("link_types") or ()),
        "kind": d.get("kind", ""),
        "first_seen": d.get("first_seen"),
        "last_seen": d.get("last_seen"),
        "lost_at": d.get("lost_at"),
        "lost_reason": d.get("lost_reason") or "",
        "target_status": d.get("target_status"),
        "placement": d.get("placement") or "unknown",
        "hidden": d.get("hidden"),
        "sitewide": d.get("sitewide"),
        "anchor_category": categorize(d.get("anchor", ""), d.get("kind") or "text"),
        "context_before": context.get("before", ""),
        "context_after": context.get("after", ""),
        "referring_page_title": d.get("source_title"),
        "referring_page_language": d.get("source_language"),
        "referring_page_external_links": d.get("source_external_links"),
        "relevance": d.get("relevance"),
        "relevance_basis": d.get("relevance_basis"),
        "referring_domain_toxicity": domain_score.get("toxicity"),
        "toxic_reasons": " ".join(r["code"] for r in domain_score.get("toxic_reasons") or ()),
    }


def authority(db: Database, domains: Iterable[str]) -> dict[str, float | None]:
    """``authority`` of each of ``domains`` (None where ``backlinks rank`` has not rated it)."""
    names = sorted(set(domains))
    found = {
        d["domain"]: d.get("authority")
        for d in db[DOMAINS].find({"domain": {"$in": names}}, {"_id": 0, "domain": 1, "authority": 1})
    }
    return {name: found.get(name) for name in names}


def referring_domain_authority(db: Database, domain: str) -> list[dict]:
    """``domain``, ``authority`` (None if unrated), ``backlinks``, ``live`` per referring domain."""
    return [
        {"authority": None, **row}
        for row in db[BACKLINKS].aggregate(referring_domains_pipeline(domain), allowDiskUse=True)
    ]


def link_graph(db: Database) -> Iterator[tuple[str, str]]:
    """(referring domain, target domain) once for each referring page of each edge."""
    for row in db[BACKLINKS].aggregate(link_graph_pipeline(), allowDiskUse=True, batchSize=10000):
        yield row["_id"]["s"], row["_id"]["t"]


def discovered_referring_domains(db: Database, domain: str) -> int | None:
    """How many of ``domain``'s referring domains a crawl reached by expanding (``-a expand``)
    rather than from its seeds; None when no crawl of the store ever expanded."""
    found = [row["domain"] for row in db[SITES].find({"hop": {"$gte": 1}}, {"domain": 1, "_id": 0})]
    if not found:
        return None
    pipeline: list[dict] = [
        {"$match": {"target_domain": domain, "source_domain": {"$in": found}}},
        {"$group": {"_id": "$source_domain"}},
        {"$count": "n"},
    ]
    return next(db[BACKLINKS].aggregate(pipeline), {"n": 0})["n"]
