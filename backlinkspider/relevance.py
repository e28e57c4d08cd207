"""Topical relevance: how close a referring page or site is to a target page and site.

Pages are compared by their stored ``terms`` (``backlinkspider.terms``), as
TF-IDF vectors: sublinear term frequency (``1 + ln tf``) times smoothed inverse
document frequency over every stored page (``ln((1 + N) / (1 + df)) + 1``,
scikit-learn's default), cut to its ``PAGE_VECTOR_TERMS`` heaviest terms and
scaled to unit length, so a dot product is a cosine. A *site* vector is the
normalized sum of its pages' vectors, cut to its ``SITE_TERMS`` heaviest terms:
the topic of the site as a whole, which a single page of it is rarely enough to
show (two pages of one manual can share few terms, yet both are plainly about the
manual's subject).

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
SITE_TERMS = 500
#: rows multiplied at a time: bounds the memory of the intermediate products
CHUNK = 50_000


#: terms a page's vector keeps, its heaviest by TF-IDF: they carry nearly all of a
#: cosine, and they bound the memory of a million pages (bench/store.py)
PAGE_VECTOR_TERMS = 100
#: pages read into one block of raw counts: a block is turned into vectors, and freed, at once
BLOCK = 65_536


class Corpus:
    """Term counts of many pages, compactly (int32 term ids, uint8 counts), in blocks of
    ``BLOCK`` pages, with document frequencies kept as they come."""

    def __init__(self) -> None:
        self.vocabulary: dict[str, int] = {}
        self._blocks: list[tuple[array, array, array]] = []  # (indptr, ids, counts) of each block
        self._rows = 0
        self._df = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return self._rows

    def add(self, terms: Mapping[str, int] | None) -> int:
        """Append a page's ``{term: count}``; return its row."""
        if self._rows % BLOCK == 0:
            self._close_block()
            self._blocks.append((array("q", [0]), array("i"), array("B")))
        indptr, ids, counts = self._blocks[-1]
        if terms:
            vocabulary = self.vocabulary
            get = vocabulary.get
            found_ids = []
            for term in terms:
                found = get(term)
                if found is None:
                    found = vocabulary[term] = len(vocabulary)
                found_ids.append(found)
            ids.extend(found_ids)
            counts.extend(min(int(n), 255) for n in terms.values())
        indptr.append(len(ids))
        self._rows += 1
        return self._rows - 1

    def _close_block(self) -> None:
        """Count the last block's terms into the document frequencies."""
        if not self._blocks:
            return
        ids = self._blocks[-1][1]
        if len(ids):
            found = np.bincount(np.frombuffer(ids, dtype=np.int32), minlength=len(self.vocabulary))
            df = np.zeros(len(self.vocabulary), dtype=np.int64)
            df[: len(self._df)] = self._df
            df[: len(found)] += found
            self._df = df

    def tfidf(self, keep: int = PAGE_VECTOR_TERMS) -> sparse.csr_matrix:
        """Unit-length TF-IDF rows (float32), each cut to its ``keep`` heaviest terms; rows of
        pages without terms are empty. Consumes the raw counts, block by block."""
        self._close_block()
        n, width = self._rows, len(self.vocabulary)
        weight_of = idf(np.concatenate([self._df, np.zeros(width - len(self._df), dtype=np.int64)]), n)
        data, indices, lengths = [], [], []
        while self._blocks:
            indptr, ids, counts = self._blocks.pop(0)
            block_ids = np.frombuffer(ids, dtype=np.int32) if len(ids) else np.zeros(0, dtype=np.int32)
            block_counts = np.frombuffer(counts, dtype=np.uint8) if len(counts) else np.zeros(0, dtype=np.uint8)
            weights = (1 + np.log(block_counts.astype(np.float32))) * weight_of[block_ids]
            block = _top_terms(
                sparse.csr_matrix((weights, block_ids, np.frombuffer(indptr, dtype=np.int64)),
                                  shape=(len(indptr) - 1, width)),
                keep,
            )  # fmt: skip
            data.append(block.data.astype(np.float32))
            indices.append(block.indices.astype(np.int32))
            lengths.append(np.diff(block.indptr))
        if not data:
            return sparse.csr_matrix((n, width), dtype=np.float32)
        indptr_all = np.concatenate([[0], np.cumsum(np.concatenate(lengths))])
        matrix = sparse.csr_matrix((np.concatenate(data), np.concatenate(indices), indptr_all), shape=(n, width))
        return normalize(matrix)


def idf(df: np.ndarray, n: int) -> np.ndarray:
    """Smoothed inverse document frequency of terms found in ``df`` of ``n`` documents."""
    return (np.log((1 + n) / (1 + df.astype(np.float64))) + 1).astype(np.float32)


def normalize(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """Rows scaled to unit length (empty rows stay empty), in place: no copy of a large matrix."""
    matrix = matrix.tocsr()
    matrix.data = matrix.data.astype(np.float32, copy=False)
    indptr = matrix.indptr
    for first in range(0, matrix.shape[0], BLOCK):  # a block of rows at a time: bounded scratch memory
        last = min(first + BLOCK, matrix.shape[0])
        start, end = indptr[first], indptr[last]
        if start == end:
            continue
        lengths = np.diff(indptr[first : last + 1])
        rows = np.repeat(np.arange(last - first, dtype=np.int32), lengths)
        values = matrix.data[start:end]
        norms = np.sqrt(np.bincount(rows, weights=values.astype(np.float64) ** 2, minlength=last - first))
        scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0).astype(np.float32)
        values *= scale[rows]
    return matrix


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
    """Each row cut to its ``keep`` largest entries (vectorized: one sort of the whole matrix)."""
    lengths = np.diff(matrix.indptr)
    if not len(lengths) or lengths.max() <= keep:
        return matrix
    rows = np.repeat(np.arange(len(lengths)), lengths)
    order = np.lexsort((-matrix.data, rows))  # by row, heaviest first
    rank = np.arange(len(order)) - matrix.indptr[rows[order]]
    chosen = np.sort(order[rank < keep])  # back in row order
    kept = np.bincount(rows[chosen], minlength=len(lengths))
    return sparse.csr_matrix(
        (matrix.data[chosen], matrix.indices[chosen], np.concatenate([[0], np.cumsum(kept)])), shape=matrix.shape
    )


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
