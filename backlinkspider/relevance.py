"""Topical relevance: how close a referring page or site is to a target page and site.

Pages are compared by their stored ``terms`` (``backlinkspider.terms``), as
TF-IDF vectors: sublinear term frequency (``1 + ln tf``) times smoothed inverse
document frequency over every stored page (``ln((1 + N) / (1 + df)) + 1``,
scikit-learn's default), each vector scaled to unit length, so a dot product is
a cosine. A *site* vector is the normalized sum of its pages' vectors, cut to its
``SITE_TERMS`` heaviest terms: the topic of the site as a whole, which is what a
single page of it is rarely enough to show (two pages of one manual can share few
terms, yet both are plainly about the manual's subject).

``relevance`` turns the two cosines of a backlink (referring page to target
page, referring page to target site) into 0–100: see ``score``. All of it is
sparse matrix arithmetic (scipy), in chunks, never a Python loop per pair.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping

import numpy as np
from scipy import sparse

#: terms a site's vector keeps: enough for any site's topics, and a bounded cost per site
SITE_TERMS = 1000
#: rows multiplied at a time: bounds the memory of the intermediate products
CHUNK = 50_000


class Corpus:
    """Term counts of many pages, compactly: a growing CSR matrix of small counts."""

    def __init__(self) -> None:
        self.vocabulary: dict[str, int] = {}
        self.indptr = array("q", [0])
        self.ids = array("i")
        self.counts = array("H")

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def add(self, terms: Mapping[str, int] | None) -> int:
        """Append a page's ``{term: count}``; return its row."""
        if terms:
            vocabulary = self.vocabulary
            get = vocabulary.get
            ids = []
            for term in terms:
                found = get(term)
                if found is None:
                    found = vocabulary[term] = len(vocabulary)
                ids.append(found)
            self.ids.extend(ids)
            self.counts.extend(min(int(n), 65535) for n in terms.values())
        self.indptr.append(len(self.ids))
        return len(self.indptr) - 2

    def tfidf(self) -> sparse.csr_matrix:
        """Unit-length TF-IDF rows (float32); rows of pages without terms are empty."""
        n = len(self)
        ids = np.frombuffer(self.ids, dtype=np.int32) if len(self.ids) else np.zeros(0, dtype=np.int32)
        counts = np.frombuffer(self.counts, dtype=np.uint16) if len(self.counts) else np.zeros(0, dtype=np.uint16)
        indptr = np.frombuffer(self.indptr, dtype=np.int64)
        df = np.bincount(ids, minlength=len(self.vocabulary))
        weights = ((1 + np.log(counts.astype(np.float32))) * idf(df, n)[ids]).astype(np.float32)
        matrix = sparse.csr_matrix((weights, ids, indptr), shape=(n, len(self.vocabulary)))
        return normalize(matrix)


def idf(df: np.ndarray, n: int) -> np.ndarray:
    """Smoothed inverse document frequency of terms found in ``df`` of ``n`` documents."""
    return (np.log((1 + n) / (1 + df.astype(np.float64))) + 1).astype(np.float32)


def normalize(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """Rows scaled to unit length (empty rows stay empty)."""
    matrix = matrix.tocsr()
    squares = matrix.multiply(matrix).sum(axis=1)
    norms = np.sqrt(np.asarray(squares, dtype=np.float64).ravel())
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sparse.csr_matrix(sparse.diags(scale.astype(np.float32)) @ matrix)


def group_vectors(
    pages: sparse.csr_matrix, group: np.ndarray, groups: int, keep: int = SITE_TERMS
) -> sparse.csr_matrix:
    """One unit-length vector per group: the normalized sum of its rows of ``pages``,
    cut to its ``keep`` heaviest terms. ``group[i]`` is page ``i``'s group, -1 for none."""
    member = group >= 0
    rows = np.flatnonzero(member)
    membership = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (group[rows], rows)), shape=(groups, pages.shape[0])
    )
    parts = []
    for start in range(0, groups, CHUNK // 10 or 1):
        summed = sparse.csr_matrix(membership[start : start + CHUNK // 10] @ pages)
        parts.append(_top_terms(normalize(summed), keep))
    if not parts:
        return sparse.csr_matrix((0, pages.shape[1]), dtype=np.float32)
    return normalize(sparse.vstack(parts, format="csr"))


def _top_terms(matrix: sparse.csr_matrix, keep: int) -> sparse.csr_matrix:
    """Each row cut to its ``keep`` largest entries."""
    lengths = np.diff(matrix.indptr)
    if not len(lengths) or lengths.max() <= keep:
        return matrix
    data, indices, indptr = [], [], [0]
    for row in range(matrix.shape[0]):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        values, columns = matrix.data[start:end], matrix.indices[start:end]
        if end - start > keep:
            chosen = np.argpartition(values, -keep)[-keep:]
            values, columns = values[chosen], columns[chosen]
        data.append(values)
        indices.append(columns)
        indptr.append(indptr[-1] + len(values))
    return sparse.csr_matrix((np.concatenate(data), np.concatenate(indices), np.asarray(indptr)), shape=matrix.shape)


def pair_cosines(a: sparse.csr_matrix, ia: np.ndarray, b: sparse.csr_matrix, ib: np.ndarray) -> np.ndarray:
    """``cos(a[ia[k]], b[ib[k]])`` for each k (unit rows: a dot product); NaN where an index is
    -1 or either row is empty (nothing known to compare)."""
    out = np.full(len(ia), np.nan)
    known = (ia >= 0) & (ib >= 0)
    if not known.any():
        return out
    known &= _nonempty(a)[np.where(ia >= 0, ia, 0)] & _nonempty(b)[np.where(ib >= 0, ib, 0)]
    where = np.flatnonzero(known)
    for start in range(0, len(where), CHUNK):
        chunk = where[start : start + CHUNK]
        products = a[ia[chunk]].multiply(b[ib[chunk]])
        out[chunk] = np.asarray(products.sum(axis=1), dtype=np.float64).ravel()
    return np.clip(out, 0.0, 1.0, where=~np.isnan(out), out=out)


def _nonempty(matrix: sparse.csr_matrix) -> np.ndarray:
    return np.diff(matrix.indptr) > 0


#: the weight of page-to-page similarity in a backlink's relevance (the rest: page to site)
PAGE_WEIGHT = 0.25


def score(page_cosine: np.ndarray, site_cosine: np.ndarray) -> np.ndarray:
    """Relevance 0–100 from a backlink's two cosines (NaN: unknown).

    ``100 * sqrt(c)``, where ``c`` is ``PAGE_WEIGHT * page + (1 - PAGE_WEIGHT) * site``
    when the target page's text is known and the site cosine alone when it is not.
    The square root spreads the low cosines TF-IDF gives even to pages on one topic
    (README, "Relevance", has the figures that chose it).
    """
    combined = np.where(np.isnan(page_cosine), site_cosine, PAGE_WEIGHT * page_cosine + (1 - PAGE_WEIGHT) * site_cosine)
    return np.round(100 * np.sqrt(np.clip(combined, 0.0, 1.0)), 1)
