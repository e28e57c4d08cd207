"""``backlinks score``: authority, relevance and toxicity, in one read of the store.

One pass over ``backlinks`` (external links only) gives the domain graph that
``rank`` ranks, and, for the backlinks into the scored targets, what relevance and
the toxicity rules need; one pass over ``pages`` gives every page's terms (the
document frequencies are over all of them), words and external links. Then:

* authority: ``rank``'s PageRank, saved into ``domains`` as ``rank`` saves it;
* ``relevance`` and ``relevance_basis`` on each backlink into a target
  (``backlinkspider.relevance``), written only where they changed;
* ``referring_domains``: one document per (target domain, referring domain),
  with ``toxicity`` and ``toxic_reasons`` (``backlinkspider.toxicity``), replaced
  for the scored targets.

Everything between the reads and the writes is numpy and scipy on integer ids:
strings are interned once, as they are read.
"""

from __future__ import annotations

import os
import time
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import islice

import numpy as np
from pymongo import UpdateOne
from pymongo.database import Database
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from backlinkspider import relevance as rel
from backlinkspider.anchors import Categorizer, default_brand
from backlinkspider.rank import DAMPING, Ranking, graph_arrays
from backlinkspider.store.freshness import mark_changed
from backlinkspider.store.queries import EXTERNAL
from backlinkspider.store.ranking import rank_graph
from backlinkspider.store.schema import (
    BACKLINKS,
    PAGES,
    REFERRING_DOMAINS,
    STORE_INFO,
    TARGETS,
    index_referring_domains,
)
from backlinkspider.toxicity import NETWORK_SIZE, Facts, reasons, spam_terms_in, toxicity

#: ``store_info`` document that says when the store was last scored
SCORED = "scored"
#: a link counts for a network's density when domains are linked either way; a group is
#: dense when at least this share of its possible links exist
NETWORK_DENSITY = 0.5
#: each member of a network links with at least this many others of it
NETWORK_DEGREE = 3
#: groups larger than this are the web's own fabric, not a network someone built: not examined
NETWORK_MAX = 5000
_BOILERPLATE = frozenset({"nav", "header", "footer", "aside"})
_FIELDS = {
    "source_url": 1, "target_url": 1, "source_domain": 1, "target_domain": 1, "link_types": 1, "lost_at": 1,
    "first_seen": 1, "last_seen": 1, "placement": 1, "hidden": 1, "sitewide": 1, "anchor": 1, "kind": 1,
    "source_title": 1, "relevance": 1, "relevance_basis": 1,
}  # fmt: skip
_PAGE_FIELDS = {"_id": 0, "url": 1, "domain": 1, "terms": 1, "words": 1, "external_links": 1, "error": 1, "status": 1}


@dataclass
class ScoreRun:
    """What ``score`` did, and how long each step took (seconds)."""

    targets: int  # target domains scored
    backlinks: int  # backlinks into them
    pages: int  # pages read (the IDF's documents)
    referring_domains: int  # documents written
    relevance_known: int  # backlinks with a relevance
    updated: int  # backlinks whose relevance or basis changed
    ranking: Ranking
    authority: np.ndarray
    toxic: int  # referring domains with toxicity >= 60
    timings: dict[str, float] = field(default_factory=dict)


class _Ids(dict):
    """Strings to dense integer ids, in order of first sight."""

    def id(self, name: str) -> int:
        found = self.get(name)
        if found is None:
            found = self[name] = len(self)
        return found

    def names(self) -> list[str]:
        return list(self)


def score(
    db: Database, targets: Iterable[str] | None = None, damping: float = DAMPING, now: datetime | None = None
) -> ScoreRun:
    """Score the backlinks into ``targets`` (default: the stored targets, else every target domain)."""
    now = now or datetime.now(timezone.utc)
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    chosen = sorted(set(targets)) if targets else sorted(d["_id"] for d in db[TARGETS].find({}, {"_id": 1}))
    domains, urls = _Ids(), _Ids()
    links = _read_backlinks(db, frozenset(chosen) or None, domains, urls)
    timings["read backlinks"] = time.perf_counter() - clock

    clock = time.perf_counter()
    nodes, src, dst = _graph(links, domains)
    ranking, authority, _ = rank_graph(db, nodes, src, dst, damping, now)
    authority_of = np.full(len(domains), np.nan)
    for i, name in enumerate(nodes):
        authority_of[domains[name]] = authority[i]
    timings["authority"] = time.perf_counter() - clock

    clock = time.perf_counter()
    pages = _read_pages(db, domains, urls)
    timings["read pages"] = time.perf_counter() - clock

    clock = time.perf_counter()
    vectors = pages.corpus.tfidf()
    sites = rel.group_vectors(vectors, pages.domain, len(domains))
    row_of_url = np.full(len(urls), -1, dtype=np.int64)
    row_of_url[pages.url] = np.arange(len(pages.url))
    t = links.target_rows
    source_rows, target_rows = row_of_url[links.source_page[t]], row_of_url[links.target_page[t]]
    page_cos = rel.pair_cosines(vectors, source_rows, vectors, target_rows)
    site_cos = rel.pair_cosines(vectors, source_rows, sites, links.target[t])
    relevance = rel.score(page_cos, site_cos)
    basis = np.where(np.isnan(relevance), 0, np.where(np.isnan(page_cos), 1, 2))  # none, domain, page
    timings["relevance"] = time.perf_counter() - clock

    clock = time.perf_counter()
    docs, toxic = _referring_domains(db, links, pages, sites, authority_of, relevance, domains, now)
    timings["toxicity"] = time.perf_counter() - clock

    clock = time.perf_counter()
    updated = _write_relevance(db, links, relevance, basis)
    written = _write_referring_domains(db, docs, chosen)
    mark_changed(db, None)  # summaries hold relevance histograms, authority and toxicity
    db[STORE_INFO].replace_one(
        {"_id": SCORED}, {"_id": SCORED, "scored_at": now, "targets": chosen or None}, upsert=True
    )
    timings["store"] = time.perf_counter() - clock
    return ScoreRun(
        targets=len(chosen) if chosen else len(np.unique(links.target[t])),
        backlinks=len(t),
        pages=len(pages.url),
        referring_domains=written,
        relevance_known=int((~np.isnan(relevance)).sum()),
        updated=updated,
        ranking=ranking,
        authority=authority,
        toxic=toxic,
        timings=timings,
    )


def scored_at(db: Database) -> datetime | None:
    """When ``backlinks score`` last ran on this store (None: never)."""
    found = db[STORE_INFO].find_one({"_id": SCORED})
    return found.get("scored_at") if found else None


# --- reading ----------------------------------------------------------------------------


@dataclass
class _Links:
    """Every external backlink, as columns of ids; the scored ones' details besides."""

    source: np.ndarray  # domain id
    target: np.ndarray  # domain id
    source_page: np.ndarray  # url id
    target_page: np.ndarray  # url id
    live: np.ndarray  # bool
    follow: np.ndarray  # bool
    target_rows: np.ndarray  # rows into a scored target
    # Of the scored rows only, aligned with target_rows:
    ids: list = field(default_factory=list)  # _id
    first_seen: np.ndarray = field(default_factory=lambda: np.zeros(0))  # POSIX seconds (NaN: unknown)
    last_seen: np.ndarray = field(default_factory=lambda: np.zeros(0))
    content: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # placement content
    boilerplate: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # sitewide in nav/header/footer/aside
    hidden: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    exact: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    spam: dict[int, tuple[str, ...]] = field(default_factory=dict)  # scored row -> spam terms
    old_relevance: np.ndarray = field(default_factory=lambda: np.zeros(0))  # NaN: none stored
    old_basis: list = field(default_factory=list)


def _read_backlinks(db: Database, targets: frozenset[str] | None, domains: _Ids, urls: _Ids) -> _Links:
    source, target, source_page, target_page = array("i"), array("i"), array("q"), array("q")
    live, follow, scored = array("b"), array("b"), array("q")
    ids: list = []
    first, last, old_relevance = array("d"), array("d"), array("d")
    content, boilerplate, hidden, exact = array("b"), array("b"), array("b"), array("b")
    spam: dict[int, tuple[str, ...]] = {}
    old_basis: list = []
    categorizers = _categorizers(db)
    nan = float("nan")
    for row, doc in enumerate(db[BACKLINKS].find(EXTERNAL, _FIELDS, batch_size=10000)):
        target_domain = doc.get("target_domain") or ""
        source.append(domains.id(doc.get("source_domain") or ""))
        target.append(domains.id(target_domain))
        source_page.append(urls.id(doc.get("source_url") or ""))
        target_page.append(urls.id(doc.get("target_url") or ""))
        is_live = doc.get("lost_at") is None
        live.append(is_live)
        follow.append("follow" in (doc.get("link_types") or ()))
        if targets is not None and target_domain not in targets:
            continue
        scored.append(row)
        ids.append(doc["_id"])
        first.append(_seconds(doc.get("first_seen")))
        last.append(_seconds(doc.get("last_seen")))
        placement = doc.get("placement")
        content.append(placement == "content")
        boilerplate.append(is_live and doc.get("sitewide") is True and placement in _BOILERPLATE)
        hidden.append(is_live and doc.get("hidden") is True)
        anchor = doc.get("anchor") or ""
        categorizer = categorizers.get(target_domain)
        exact.append(
            is_live
            and categorizer is not None
            and categorizer.category(anchor, doc.get("kind") or "text") == "exact_match"
        )
        found = spam_terms_in(anchor) + spam_terms_in(doc.get("source_title") or "")
        if found:
            spam[len(ids) - 1] = found
        stored = doc.get("relevance")
        old_relevance.append(nan if stored is None else float(stored))
        old_basis.append(doc.get("relevance_basis", _NEVER))  # never scored: written, even as null
    return _Links(
        source=_np(source, np.int32),
        target=_np(target, np.int32),
        source_page=_np(source_page, np.int64),
        target_page=_np(target_page, np.int64),
        live=_np(live, np.int8).astype(bool),
        follow=_np(follow, np.int8).astype(bool),
        target_rows=_np(scored, np.int64),
        ids=ids,
        first_seen=_np(first, np.float64),
        last_seen=_np(last, np.float64),
        content=_np(content, np.int8).astype(bool),
        boilerplate=_np(boilerplate, np.int8).astype(bool),
        hidden=_np(hidden, np.int8).astype(bool),
        exact=_np(exact, np.int8).astype(bool),
        spam=spam,
        old_relevance=_np(old_relevance, np.float64),
        old_basis=old_basis,
    )


def _np(values: array, dtype: type) -> np.ndarray:
    return np.frombuffer(values, dtype=dtype).copy() if len(values) else np.zeros(0, dtype=dtype)


def _seconds(when: datetime | None) -> float:
    if when is None:
        return float("nan")
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def _categorizers(db: Database) -> dict[str, Categorizer]:
    """Targets with keywords (only they can have exact-match anchors), read once."""
    found = {}
    for doc in db[TARGETS].find({"keywords.0": {"$exists": True}}):
        found[doc["_id"]] = Categorizer(doc.get("brand") or default_brand(doc["_id"]), doc.get("keywords") or [])
    return found


def _graph(links: _Links, domains: _Ids) -> tuple[list[str], np.ndarray, np.ndarray]:
    """``rank``'s graph: a row per (referring domain, target domain, referring page), live and followed."""
    chosen = links.live & links.follow
    triples = np.unique(
        np.stack([links.source[chosen], links.target[chosen], links.source_page[chosen]], axis=1), axis=0
    )
    names = domains.names()
    return graph_arrays((names[s], names[t]) for s, t, _ in triples.tolist())


@dataclass
class _Pages:
    corpus: rel.Corpus
    url: np.ndarray  # url id per row
    domain: np.ndarray  # domain id per row
    words: np.ndarray
    external_links: np.ndarray


def _read_pages(db: Database, domains: _Ids, urls: _Ids) -> _Pages:
    """Every fetched HTML page: its terms, words and external links (error pages have none)."""
    corpus = rel.Corpus()
    url, domain, words, external = array("q"), array("i"), array("i"), array("i")
    for doc in db[PAGES].find({}, _PAGE_FIELDS, batch_size=2000):
        if doc.get("error") or not 200 <= (doc.get("status") or 0) < 300:
            continue
        corpus.add(doc.get("terms"))
        url.append(urls.id(doc["url"]))
        domain.append(domains.id(doc.get("domain") or ""))
        words.append(int(doc.get("words") or 0))
        external.append(int(doc.get("external_links") or doc.get("links_external") or 0))
    return _Pages(corpus, _np(url, np.int64), _np(domain, np.int32), _np(words, np.int32), _np(external, np.int32))


# --- referring domains ------------------------------------------------------------------


def _referring_domains(
    db: Database,
    links: _Links,
    pages: _Pages,
    sites: sparse.csr_matrix,
    authority_of: np.ndarray,
    relevance: np.ndarray,
    domains: _Ids,
    now: datetime,
) -> tuple[list[dict], int]:
    """One document per (target domain, referring domain) of the scored backlinks."""
    t = links.target_rows
    n = len(domains)
    key = links.target[t].astype(np.int64) * n + links.source[t]
    pairs, inverse = np.unique(key, return_inverse=True)
    target_of, source_of = pairs // n, pairs % n
    count = len(pairs)
    live, follow = links.live[t], links.follow[t]

    def total(flags: np.ndarray) -> np.ndarray:
        return np.bincount(inverse, weights=flags.astype(np.float64), minlength=count).astype(np.int64)

    backlinks = np.bincount(inverse, minlength=count)
    live_n, followed = total(live), total(live & follow)
    boilerplate, hidden, exact = total(links.boilerplate), total(links.hidden), total(links.exact)
    first = np.full(count, np.inf)
    np.fmin.at(first, inverse, links.first_seen)
    last = np.full(count, -np.inf)
    np.fmax.at(last, inverse, links.last_seen)
    spam: dict[int, set[str]] = {}
    for row, terms in links.spam.items():
        spam.setdefault(int(inverse[row]), set()).update(terms)

    domain_relevance = rel.score(np.full(count, np.nan), rel.pair_cosines(sites, source_of, sites, target_of))
    page_counts, median_links, median_words = _per_domain(pages, n)
    network = _networks(links, target_of, source_of, n)
    reciprocal = _reciprocal(links, target_of, source_of, n)
    relevant = np.nan_to_num(relevance, nan=-1.0)
    best_relevance = np.full(count, -1.0)
    np.maximum.at(best_relevance, inverse, np.where(live & follow & links.content, relevant, -1.0))

    names = domains.names()
    docs, toxic = [], 0
    for i in range(count):
        s = int(source_of[i])
        facts = Facts(
            authority=_maybe(authority_of[s]),
            followed=int(followed[i]),
            live=int(live_n[i]),
            pages=int(page_counts[s]),
            median_external_links=_maybe(median_links[s]),
            median_words=_maybe(median_words[s]),
            sitewide_boilerplate=int(boilerplate[i]),
            hidden=int(hidden[i]),
            exact_match=int(exact[i]),
            spam_terms=sorted(spam.get(i, ())),
            relevance=_maybe(domain_relevance[i]),
            network=int(network[i]),
            reciprocal=int(reciprocal[i]),
        )
        found = reasons(facts)
        score = toxicity(found)
        toxic += score >= 60
        docs.append(
            {
                "target_domain": names[int(target_of[i])],
                "source_domain": names[s],
                "backlinks": int(backlinks[i]),
                "live": facts.live,
                "followed": facts.followed,
                "first_seen": _when(first[i]),
                "last_seen": _when(last[i]),
                "authority": facts.authority,
                "relevance": facts.relevance,
                # its most relevant live, followed content backlink: what `disavow --toxic` spares
                "content_relevance": _maybe(best_relevance[i]) if best_relevance[i] >= 0 else None,
                "toxicity": score,
                "toxic_reasons": found,
                "scored_at": now,
            }
        )
    return docs, toxic


def _maybe(value: float) -> float | None:
    return None if np.isnan(value) else round(float(value), 1)


def _when(seconds: float) -> datetime | None:
    return datetime.fromtimestamp(seconds, timezone.utc) if np.isfinite(seconds) else None


def _per_domain(pages: _Pages, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Crawled pages, median external links and median words, per domain id (NaN: no pages)."""
    counts = np.bincount(pages.domain, minlength=n)
    links, words = np.full(n, np.nan), np.full(n, np.nan)
    order = np.argsort(pages.domain, kind="stable")
    bounds = np.flatnonzero(np.diff(pages.domain[order])) + 1
    for group in np.split(order, bounds):
        if len(group):
            d = pages.domain[group[0]]
            links[d] = np.median(pages.external_links[group])
            words[d] = np.median(pages.words[group])
    return counts, links, words


def _domain_graph(links: _Links, n: int) -> sparse.csr_matrix:
    """Domains linked either way by a live link: symmetric, 0/1."""
    live = links.live & (links.source != links.target)
    a = sparse.csr_matrix(
        (np.ones(int(live.sum()), dtype=np.int32), (links.source[live], links.target[live])), shape=(n, n)
    )
    a = ((a + a.T) > 0).astype(np.int32)
    return sparse.csr_matrix(a)


def _networks(links: _Links, target_of: np.ndarray, source_of: np.ndarray, n: int) -> np.ndarray:
    """For each (target, referring domain) pair, the size of the dense group of the
    target's referring domains it belongs to (0: none).

    A group: referring domains of one target, each linked (either way, live links)
    with at least ``NETWORK_DEGREE`` others of them, connected, of at least
    ``NETWORK_SIZE`` members, with at least ``NETWORK_DENSITY`` of its possible links
    present. Members are peeled, all targets at once, as sparse products: a domain
    with too few links inside the group leaves it, until none does.
    """
    out = np.zeros(len(target_of), dtype=np.int64)
    if not len(target_of):
        return out
    graph = _domain_graph(links, n)
    columns, column_of = np.unique(target_of, return_inverse=True)
    member = sparse.csr_matrix(
        (np.ones(len(source_of), dtype=np.int32), (source_of, column_of)), shape=(n, len(columns))
    )
    for _ in range(20):
        inside = sparse.csr_matrix(graph @ member).multiply(member)
        kept = sparse.csr_matrix(inside >= NETWORK_DEGREE).astype(np.int32)
        if kept.nnz == member.nnz:
            break
        member = kept
    member = member.tocsc()
    size_of: dict[tuple[int, int], int] = {}
    for column in range(len(columns)):
        rows = member.indices[member.indptr[column] : member.indptr[column + 1]]
        if not NETWORK_SIZE <= len(rows) <= NETWORK_MAX:
            continue
        sub = graph[rows][:, rows]
        parts, labels = connected_components(sub, directed=False)
        for part in range(parts):
            group = rows[labels == part]
            if len(group) < NETWORK_SIZE:
                continue
            edges = sub[labels == part][:, labels == part].nnz / 2
            if edges >= NETWORK_DENSITY * len(group) * (len(group) - 1) / 2:
                for d in group:
                    size_of[(int(columns[column]), int(d))] = len(group)
    for i, (t, s) in enumerate(zip(target_of.tolist(), source_of.tolist(), strict=True)):
        out[i] = size_of.get((t, s), 0)
    return out


def _reciprocal(links: _Links, target_of: np.ndarray, source_of: np.ndarray, n: int) -> np.ndarray:
    """For each (target, referring domain) pair, the target's pages that link to the referring domain (live)."""
    live = links.live
    triples = np.unique(
        np.stack([links.source[live].astype(np.int64), links.target[live], links.source_page[live]], axis=1), axis=0
    )
    keys, pages = np.unique(triples[:, 0] * n + triples[:, 1], return_counts=True)
    wanted = target_of * n + source_of  # the target as the source
    if not len(keys):
        return np.zeros(len(wanted), dtype=np.int64)
    where = np.clip(np.searchsorted(keys, wanted), 0, len(keys) - 1)
    return np.where(keys[where] == wanted, pages[where], 0)


# --- writing ----------------------------------------------------------------------------

_BASIS = (None, "domain", "page")
_NEVER = "never scored"


def _write_relevance(db: Database, links: _Links, relevance: np.ndarray, basis: np.ndarray, batch: int = 5000) -> int:
    """``relevance`` and ``relevance_basis`` on each scored backlink whose values changed."""
    ops = []
    for i in range(len(links.ids)):
        value = None if np.isnan(relevance[i]) else float(relevance[i])
        old = links.old_relevance[i]
        new_basis = _BASIS[basis[i]]
        if (value is None and np.isnan(old) or value == old) and links.old_basis[i] == new_basis:
            continue
        ops.append(UpdateOne({"_id": links.ids[i]}, {"$set": {"relevance": value, "relevance_basis": new_basis}}))
    for start in range(0, len(ops), batch):
        db[BACKLINKS].bulk_write(ops[start : start + batch], ordered=False)
    return len(ops)


def _write_referring_domains(db: Database, docs: list[dict], targets: list[str], batch: int = 10000) -> int:
    """Replace the scored targets' ``referring_domains``: every target's, in one rename,
    when all were scored; else the named targets' documents, deleted and inserted."""
    if targets:
        db[REFERRING_DOMAINS].delete_many({"target_domain": {"$in": targets}})
        collection = db[REFERRING_DOMAINS]
    else:
        collection = db[f"{REFERRING_DOMAINS}_new_{os.getpid()}"]
        collection.drop()
    rows = iter(docs)
    while chunk := list(islice(rows, batch)):
        collection.insert_many(chunk, ordered=False)
    index_referring_domains(collection)
    if not targets:
        if docs:
            collection.rename(REFERRING_DOMAINS, dropTarget=True)
        else:
            collection.drop()
            db[REFERRING_DOMAINS].delete_many({})
    return len(docs)
