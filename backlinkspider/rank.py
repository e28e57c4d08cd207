"""Domain authority from our own link graph: weighted PageRank, scaled 0–100.

The graph is the domain-level graph of live, followed, external links: one edge
per (referring domain, target domain) pair, weighted by the number of distinct
pages of the referring domain that link. PageRank runs as sparse matrix-vector
products (scipy), so a graph of millions of edges takes seconds and a few
hundred megabytes; the semantics are networkx's ``pagerank`` (weighted edges,
uniform teleport, a dangling node's rank spread uniformly), which the tests
compare against.

Raw PageRank is a probability: tiny, and unreadable across graph sizes. Like
Ahrefs' DR, ``authority`` is on a log scale from 0 to 100: 0 is the rank of a
domain no one links to (the teleport floor), 100 the strongest domain of the
graph, and each step between is a constant factor of PageRank.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import sparse

DAMPING = 0.85


@dataclass
class Ranking:
    """PageRank of each node of a graph, with the floor a node without in-links gets."""

    nodes: list[str]
    pagerank: np.ndarray  # sums to 1
    floor: float  # the PageRank of a node no edge points to
    referring: np.ndarray  # distinct nodes with a weighted edge into each node
    iterations: int
    edges: int  # distinct (source, target) pairs of positive weight

    def authority(self) -> np.ndarray:
        """0–100: ``100 * ln(pr / floor) / ln(max pr / floor)``, rounded to 0.1."""
        top = float(self.pagerank.max()) if len(self.pagerank) else 0.0
        if top <= self.floor * (1 + 1e-9):  # no edges: nobody stands out
            return np.zeros(len(self.pagerank))
        ratio = np.maximum(self.pagerank / self.floor, 1.0)
        return np.round(np.clip(100 * np.log(ratio) / math.log(top / self.floor), 0, 100), 1)


def pagerank(
    nodes: list[str],
    src: np.ndarray,
    dst: np.ndarray,
    weight: np.ndarray,
    damping: float = DAMPING,
    tol: float = 1e-12,
    max_iter: int = 1000,
) -> Ranking:
    """Weighted PageRank of the graph ``src[i] -> dst[i]`` (node indices) with ``weight[i]``.

    Parallel edges add up; edges of weight 0 only bring their nodes in. Iterates
    ``x = d * (x P + dangling(x) / n) + (1 - d) / n`` until the L1 change is below
    ``tol`` (networkx stops at ``n * 1e-6``; we go further, it costs milliseconds).
    """
    n = len(nodes)
    if n == 0:
        return Ranking(nodes, np.zeros(0), 0.0, np.zeros(0, dtype=np.int64), 0, 0)
    w = sparse.csr_matrix(
        (np.asarray(weight, dtype=np.float64), (np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64))),
        shape=(n, n),
    )
    w.sum_duplicates()  # parallel edges add up
    w.eliminate_zeros()
    out = np.asarray(w.sum(axis=1)).ravel()
    dangling = out == 0
    scale = np.divide(1.0, out, out=np.zeros(n), where=~dangling)
    transition = sparse.diags(scale) @ w  # row-stochastic but for dangling rows
    transition_t = transition.T.tocsr()  # x @ P as a CSR mat-vec
    x = np.full(n, 1.0 / n)
    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 (the count is read after the loop)
        previous = x
        x = damping * (transition_t @ previous + previous[dangling].sum() / n) + (1 - damping) / n
        if np.abs(x - previous).sum() < tol:
            break
    floor = (damping * x[dangling].sum() + 1 - damping) / n
    referring = np.bincount(w.indices, minlength=n)  # non-zero entries per column
    return Ranking(nodes, x, floor, referring, iterations, int(w.nnz))


def graph_arrays(edges: Iterable[tuple[str, str]]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Nodes and index arrays of ``(source, target)`` name pairs, for ``pagerank``.

    A pair may come many times (its weight is its count). Nodes are sorted by
    name, so the same graph gives the same numbers in whatever order it is read.
    """
    index: dict[str, int] = {}
    src, dst = array("q"), array("q")
    for source, target in edges:
        src.append(index.setdefault(source, len(index)))
        dst.append(index.setdefault(target, len(index)))
    names = list(index)
    order = sorted(range(len(names)), key=names.__getitem__)
    relabel = np.empty(len(names), dtype=np.int64)
    relabel[order] = np.arange(len(names))
    nodes = [names[i] for i in order]
    return nodes, relabel[np.frombuffer(src, dtype=np.int64)], relabel[np.frombuffer(dst, dtype=np.int64)]
