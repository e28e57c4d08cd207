"""TF-IDF, cosines and the relevance score (backlinkspider.relevance), against hand computation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from backlinkspider import relevance as rel

DOCS = [
    {"python": 3, "list": 1},
    {"python": 1, "sql": 2},
    {"sql": 1, "index": 1},
]


def _by_hand(doc: dict, df: dict, n: int) -> dict:
    weights = {t: (1 + math.log(c)) * (math.log((1 + n) / (1 + df[t])) + 1) for t, c in doc.items()}
    norm = math.sqrt(sum(w * w for w in weights.values()))
    return {t: w / norm for t, w in weights.items()}


def _cos(a: dict, b: dict) -> float:
    return sum(w * b.get(t, 0.0) for t, w in a.items())


def test_tfidf_cosines_match_a_hand_computation():
    corpus = rel.Corpus()
    for doc in DOCS:
        corpus.add(doc)
    corpus.add({})  # a page without text: a row, and a document of the IDF
    matrix = corpus.tfidf()
    df = {"python": 2, "list": 1, "sql": 2, "index": 1}
    hand = [_by_hand(d, df, 4) for d in DOCS]
    rows = np.array([0, 0, 1, 3])
    cols = np.array([1, 2, 2, 0])
    got = rel.pair_cosines(matrix, rows, matrix, cols)
    assert got[0] == pytest.approx(_cos(hand[0], hand[1]), abs=1e-6)
    assert got[1] == pytest.approx(0.0)  # nothing in common
    assert got[2] == pytest.approx(_cos(hand[1], hand[2]), abs=1e-6)
    assert np.isnan(got[3])  # the empty page: unknown, not zero
    assert 0 < got[0] < 1


def test_a_site_vector_is_the_normalized_sum_of_its_pages():
    corpus = rel.Corpus()
    for doc in DOCS:
        corpus.add(doc)
    pages = corpus.tfidf()
    sites = rel.group_vectors(pages, np.array([0, 0, 1]), 2)
    df = {"python": 2, "list": 1, "sql": 2, "index": 1}
    a, b = _by_hand(DOCS[0], df, 3), _by_hand(DOCS[1], df, 3)
    summed = {t: a.get(t, 0) + b.get(t, 0) for t in {*a, *b}}
    norm = math.sqrt(sum(v * v for v in summed.values()))
    site = {t: v / norm for t, v in summed.items()}
    got = rel.pair_cosines(pages, np.array([2]), sites, np.array([0]))
    assert got[0] == pytest.approx(_cos(_by_hand(DOCS[2], df, 3), site), abs=1e-6)


def test_a_site_keeps_its_heaviest_terms():
    corpus = rel.Corpus()
    corpus.add({f"t{n}": n + 1 for n in range(50)})
    sites = rel.group_vectors(corpus.tfidf(), np.array([0]), 1, keep=10)
    assert sites.nnz == 10
    assert sorted(sites.indices.tolist()) == list(range(40, 50))  # the most frequent terms


def test_minus_one_means_unknown():
    corpus = rel.Corpus()
    corpus.add(DOCS[0])
    got = rel.pair_cosines(corpus.tfidf(), np.array([0, -1]), corpus.tfidf(), np.array([-1, 0]))
    assert np.isnan(got).all()


def test_score_weighs_page_and_site_and_falls_back_to_the_site():
    got = rel.score(np.array([0.36, np.nan, np.nan]), np.array([0.04, 0.25, np.nan]))
    assert got[0] == pytest.approx(100 * math.sqrt(rel.PAGE_WEIGHT * 0.36 + (1 - rel.PAGE_WEIGHT) * 0.04), abs=0.05)
    assert got[1] == pytest.approx(50.0)
    assert np.isnan(got[2])
