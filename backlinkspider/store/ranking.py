"""``backlinks rank``'s input and output: the link graph read from the store, and
the ranking written back into ``domains``. The math is ``backlinkspider.rank``'s.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import islice

import numpy as np
from pymongo.database import Database

from backlinkspider.rank import DAMPING, Ranking, graph_arrays, pagerank
from backlinkspider.store.freshness import mark_changed
from backlinkspider.store.reads import link_graph
from backlinkspider.store.schema import DOMAINS, index_domains


@dataclass
class RankRun:
    """What ``rank`` did, and how long each step took (seconds)."""

    ranking: Ranking
    authority: np.ndarray  # ranking.authority(), as stored
    read: float
    rank: float
    store: float


def rank(db: Database, damping: float = DAMPING, now: datetime | None = None) -> RankRun:
    """Rank the store's link graph and replace ``domains`` with the result.

    The graph comes one row per (referring domain, target domain, page): the
    sparse matrix adds the rows up into page-counted weights.
    """
    started = time.perf_counter()
    nodes, src, dst = graph_arrays(link_graph(db))
    read = time.perf_counter()
    ranking, authority, stored = rank_graph(db, nodes, src, dst, damping, now)
    return RankRun(ranking, authority, read - started, stored - read, time.perf_counter() - stored)


def rank_graph(
    db: Database, nodes: list[str], src: np.ndarray, dst: np.ndarray, damping: float, now: datetime | None
) -> tuple[Ranking, np.ndarray, float]:
    """PageRank of a graph (``graph_arrays``), saved into ``domains``; with the
    ``perf_counter()`` at which ranking ended and storing began."""
    ranking = pagerank(nodes, src, dst, np.ones(len(src)), damping)
    authority = ranking.authority()
    ranked = time.perf_counter()
    computed_at = now or datetime.now(timezone.utc)
    save_authority(
        db,
        (
            {
                "domain": name,
                "authority": float(authority[i]),
                "referring_domains": int(ranking.referring[i]),
                "pagerank": float(ranking.pagerank[i]),
                "computed_at": computed_at,
            }
            for i, name in enumerate(nodes)
        ),
    )
    return ranking, authority, ranked


def save_authority(db: Database, rows: Iterable[dict], batch: int = 10000) -> int:
    """Replace ``domains`` with ``rows`` (``domain``, ``authority``, ``referring_domains``, …).

    Written to a scratch collection, indexed, then renamed over ``domains`` in one
    step: readers see the old ranking or the new one, never half of each, and
    domains that left the graph leave ``domains``.
    """
    scratch = db[f"{DOMAINS}_new_{os.getpid()}"]
    scratch.drop()
    written, rows = 0, iter(rows)
    while chunk := list(islice(rows, batch)):
        scratch.insert_many(chunk, ordered=False)
        written += len(chunk)
    if not written:
        db[DOMAINS].delete_many({})
    else:
        index_domains(scratch)
        scratch.rename(DOMAINS, dropTarget=True)
    mark_changed(db, None)  # summaries hold their referring domains' authority
    return written
