"""Domain authority: PageRank by hand and against networkx, and ``backlinks rank`` on a store."""

from __future__ import annotations

import math
import random
import re
from datetime import datetime, timezone

import networkx as nx
import numpy as np
import pytest

from backlinkspider import store
from backlinkspider.rank import pagerank
from tests.support import known_store
from tests.support.cli import cli
from tests.support.known_store import ACME


def test_pagerank_of_a_graph_computed_by_hand():
    # c -> a (weight 3), c -> b (1), a -> b, b -> a; nothing links to c. With d = 0.85, n = 3:
    #   x_c = 0.15 / 3 = 0.05
    #   x_a = 0.05 + 0.85 (x_b + 3/4 x_c),  x_b = 0.05 + 0.85 (x_a + 1/4 x_c)
    #   => x_a = 0.13340625 / 0.2775,  x_b = 0.060625 + 0.85 x_a
    x_a = 0.13340625 / 0.2775
    x_b = 0.060625 + 0.85 * x_a
    ranking = pagerank(["a", "b", "c"], np.array([2, 2, 0, 1]), np.array([0, 1, 1, 0]), np.array([3.0, 1.0, 1.0, 1.0]))
    assert ranking.pagerank == pytest.approx([x_a, x_b, 0.05], abs=1e-12)
    assert ranking.floor == pytest.approx(0.05)
    assert list(ranking.referring) == [2, 2, 0]
    # The log scale: the strongest is 100, a domain nobody links to 0.
    assert list(ranking.authority()) == [100.0, round(100 * math.log(x_b / 0.05) / math.log(x_a / 0.05), 1), 0.0]
    assert ranking.authority()[1] == 98.9


def test_pagerank_matches_networkx_on_a_random_weighted_graph():
    rng = random.Random(5)
    graph = nx.gnm_random_graph(2000, 12000, directed=True, seed=7)
    for u, v in graph.edges:
        graph[u][v]["weight"] = rng.randint(1, 20)
    graph.add_nodes_from(range(2000, 2100))  # isolated: dangling and unlinked
    graph.add_edge(2100, 0, weight=0)  # a nofollow-only pair: a node, no rank passed
    edges = list(graph.edges(data="weight"))
    nodes = list(graph.nodes)
    ranking = pagerank(
        [str(n) for n in nodes],
        np.array([u for u, _, _ in edges]),
        np.array([v for _, v, _ in edges]),
        np.array([w for _, _, w in edges], dtype=float),
    )
    expected = nx.pagerank(graph, alpha=0.85, weight="weight", tol=1e-13, max_iter=1000)
    assert np.abs(ranking.pagerank - np.array([expected[n] for n in nodes])).max() < 1e-6
    assert ranking.pagerank.sum() == pytest.approx(1.0)
    assert list(ranking.referring) == [
        sum(1 for u in graph.predecessors(n) if graph[u][n]["weight"] > 0) for n in nodes
    ]


def test_pagerank_of_nothing_and_of_a_graph_without_weight():
    assert len(pagerank([], np.zeros(0, int), np.zeros(0, int), np.zeros(0)).authority()) == 0
    flat = pagerank(["a", "b"], np.array([0]), np.array([1]), np.array([0.0]))
    assert list(flat.authority()) == [0.0, 0.0] and flat.pagerank == pytest.approx([0.5, 0.5])


# The live, followed, external links of tests/support/known_store.py, domain to domain, weighted by
# distinct linking pages: 3 (nofollow), 4 (ugc), 6 (sponsored) pass nothing, 8 and 9 are lost,
# 10 is internal.
KNOWN_GRAPH = {
    ("example.org", ACME): 1,
    ("example.org", "other.com"): 1,
    ("diy-talk.net", ACME): 2,
    ("example.com", ACME): 1,
}
KNOWN_NODES = {ACME, "other.com", "example.org", "diy-talk.net", "example.com"}


def test_rank_command_stores_authority_of_the_stores_graph(db):
    known_store.fill(db, datetime.now(timezone.utc))
    done = cli(db, "rank")
    assert re.search(r"Ranked 5 domains over 4 followed domain-to-domain edges", done.stdout), done.stdout
    assert re.search(rf"100\.0  {re.escape(ACME)}  \(3 referring domains\)", done.stdout)
    docs = {d["domain"]: d for d in db[store.DOMAINS].find({}, {"_id": 0})}
    # Not example.net (its only link is lost) nor janedoe.blogspot.com (sponsored only): no
    # followed link either way. The domains the known store had rated were replaced.
    assert set(docs) == KNOWN_NODES
    graph = nx.DiGraph()
    graph.add_nodes_from(KNOWN_NODES)
    graph.add_weighted_edges_from((s, t, w) for (s, t), w in KNOWN_GRAPH.items())
    expected = nx.pagerank(graph, alpha=0.85, tol=1e-13, max_iter=1000)
    for domain, doc in docs.items():
        assert doc["pagerank"] == pytest.approx(expected[domain], abs=1e-9), domain
        assert set(doc) == {"domain", "authority", "referring_domains", "pagerank", "computed_at"}
    assert {d: docs[d]["referring_domains"] for d in docs} == {
        ACME: 3,
        "other.com": 1,
        "example.org": 0,
        "diy-talk.net": 0,
        "example.com": 0,
    }
    assert docs[ACME]["authority"] == 100.0 and docs["example.org"]["authority"] == 0.0
    assert 0 < docs["other.com"]["authority"] < 100
    assert [i["key"] for i in db[store.DOMAINS].list_indexes()] == [{"_id": 1}, {"domain": 1}]

    # Stable: the same graph gives the same authority; only computed_at moves.
    cli(db, "rank")
    again = {d["domain"]: d for d in db[store.DOMAINS].find({}, {"_id": 0})}
    assert {d: again[d]["authority"] for d in again} == {d: docs[d]["authority"] for d in docs}
    assert all(again[d]["computed_at"] > docs[d]["computed_at"] for d in docs)
    # The report shows it.
    assert store.profile(db, ACME)["authority"] == 100.0
