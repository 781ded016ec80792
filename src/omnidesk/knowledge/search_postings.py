"""Inverted index storage and BM25F scoring for knowledge search.

Every document occupies a *slot*: a row of the per-slot arrays (field lengths, alive).
A term's postings are two compact arrays, the slots that hold it (``array('i')``) and its
frequency in each field — title, example questions, body — (``array('H')``, three per
posting): ten bytes per posting, appended in O(1) when a document is added.

Scoring is BM25F (Robertson, Zaragoza & Taylor 2004, "simple BM25F"): per document the
field frequencies are length-normalised per field and combined with field weights into
one pseudo-frequency, which is saturated once::

    tf~(t, d) = sum_f  w_f * tf_f(t, d) / (1 - b_f + b_f * len_f(d) / avglen_f)
    score(d)  = sum_t  q_t * idf(t) * tf~ / (k1 + tf~)
    idf(t)    = ln(1 + (N - df + 0.5) / (df + 0.5))

``avglen_f`` is averaged over the documents whose field f is not empty: many articles have
no example questions, and counting them would make every question list look long.

The per-slot factors ``w_f / (1 - b_f + b_f * len_f / avglen_f)`` are recomputed (one
vectorised pass) after the index changed; a query touches only its terms' postings.

Removing a document kills its slot — its factors become 0, so its postings score 0 — and
keeps the postings (each document's term ids, four bytes a term, are kept to update the
document frequencies); when dead slots outnumber live ones, ``compact`` renumbers the
live slots and drops the dead ones from every posting list (vectorised per term).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FIELDS = ("title", "questions", "body")
_NF = len(FIELDS)
_TF_MAX = 0xFFFF
_MIN_COMPACT = 256

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class BM25FParams:
    """BM25F parameters: saturation ``k1``, and per field (title, questions, body) weights
    and length-normalisation strengths ``b``."""

    k1: float = 1.2
    weights: tuple[float, float, float] = (2.0, 1.5, 1.0)
    b: tuple[float, float, float] = (0.3, 0.5, 0.5)

    def __post_init__(self) -> None:
        if not self.k1 > 0:
            raise ValueError("k1 must be positive")
        if len(self.weights) != _NF or any(not w >= 0 for w in self.weights):
            raise ValueError("weights: three non-negative numbers (title, questions, body)")
        if len(self.b) != _NF or any(not 0 <= b <= 1 for b in self.b):
            raise ValueError("b: three numbers in [0, 1] (title, questions, body)")


@dataclass(frozen=True, slots=True)
class DocTerms:
    """A tokenised document: term → frequency per field, and the field lengths."""

    counts: Mapping[str, tuple[int, int, int]]
    lengths: tuple[int, int, int]


class _Posting:
    __slots__ = ("df", "slots", "tfs")

    def __init__(self) -> None:
        self.df = 0
        self.slots = array("i")
        self.tfs = array("H")


class Postings:
    """Postings, per-slot statistics and BM25F scoring. Not thread-safe by itself."""

    def __init__(self, params: BM25FParams) -> None:
        self.params = params
        self._term_ids: dict[str, int] = {}
        self._postings: list[_Posting] = []
        self._doc_terms: list[array[int]] = []  # per slot: term ids
        self._lengths = np.zeros((_MIN_COMPACT, _NF), dtype=np.float32)
        self._alive = np.zeros(_MIN_COMPACT, dtype=bool)
        self._length_sum = np.zeros(_NF, dtype=np.float64)
        self._filled = np.zeros(_NF, dtype=np.int64)  # live documents with a non-empty field
        self._live = 0
        self._factors: FloatArray | None = None

    @property
    def live(self) -> int:
        return self._live

    @property
    def slots(self) -> int:
        return len(self._doc_terms)

    def _grow(self) -> None:
        size = max(len(self._alive) * 2, _MIN_COMPACT)
        lengths = np.zeros((size, _NF), dtype=np.float32)
        lengths[: len(self._lengths)] = self._lengths
        alive = np.zeros(size, dtype=bool)
        alive[: len(self._alive)] = self._alive
        self._lengths, self._alive = lengths, alive

    def add(self, doc: DocTerms) -> int:
        """Store a document in a new slot and return the slot."""
        slot = len(self._doc_terms)
        if slot >= len(self._alive):
            self._grow()
        term_ids = array("i")
        clip = max(doc.lengths) > _TF_MAX  # no frequency can exceed its field's length
        ids, postings = self._term_ids, self._postings
        for term, freqs in doc.counts.items():
            tid = ids.get(term)
            if tid is None:
                tid = ids[term] = len(postings)
                postings.append(_Posting())
            if clip:
                freqs = (min(freqs[0], _TF_MAX), min(freqs[1], _TF_MAX), min(freqs[2], _TF_MAX))
            posting = postings[tid]
            posting.df += 1
            posting.slots.append(slot)
            posting.tfs.extend(freqs)
            term_ids.append(tid)
        self._doc_terms.append(term_ids)
        self._lengths[slot] = doc.lengths
        self._alive[slot] = True
        self._length_sum += doc.lengths
        self._filled += np.asarray(doc.lengths) > 0
        self._live += 1
        self._factors = None
        return slot

    def kill(self, slot: int) -> None:
        """Remove the document in ``slot`` from scoring and statistics."""
        if not self._alive[slot]:
            return
        for tid in self._doc_terms[slot]:
            self._postings[tid].df -= 1
        self._alive[slot] = False
        self._length_sum -= self._lengths[slot]
        self._filled -= self._lengths[slot] > 0
        self._live -= 1
        self._factors = None

    def needs_compaction(self) -> bool:
        dead = self.slots - self._live
        return dead > _MIN_COMPACT and dead > self._live

    def compact(self) -> IntArray:
        """Renumber the live slots densely; returns old slot → new slot (-1 if dead)."""
        n = self.slots
        live = np.flatnonzero(self._alive[:n])
        remap = np.full(n, -1, dtype=np.int64)
        remap[live] = np.arange(len(live))
        self._remap_postings(remap)
        self._doc_terms = [self._doc_terms[s] for s in live]
        size = max(_MIN_COMPACT, 2 * len(live))
        lengths = np.zeros((size, _NF), dtype=np.float32)
        lengths[: len(live)] = self._lengths[live]
        alive = np.zeros(size, dtype=bool)
        alive[: len(live)] = True
        self._lengths, self._alive = lengths, alive
        self._length_sum = lengths.sum(axis=0, dtype=np.float64)
        self._filled = (lengths > 0).sum(axis=0)
        self._factors = None
        return remap

    def _remap_postings(self, remap: IntArray) -> None:
        """Drop dead slots from every posting list and renumber the others."""
        for posting in self._postings:
            if not posting.slots:
                continue
            # Copies: a live view would forbid replacing the arrays' contents.
            old = np.frombuffer(posting.slots, dtype=np.intc).copy()
            new = remap[old]
            keep = new >= 0
            tfs = np.frombuffer(posting.tfs, dtype=np.uint16).copy().reshape(-1, _NF)[keep]
            posting.slots, posting.tfs = array("i"), array("H")
            posting.slots.frombytes(new[keep].astype(np.intc).tobytes())
            posting.tfs.frombytes(tfs.tobytes())

    def _slot_factors(self) -> FloatArray:
        """Per slot and field: w_f / (1 - b_f + b_f * len_f / avglen_f); 0 for dead slots."""
        if self._factors is None:
            n = self.slots
            avg = self._length_sum / np.maximum(self._filled, 1)
            avg = np.where(avg > 0, avg, 1.0)
            b = np.asarray(self.params.b, dtype=np.float64)
            norm = 1.0 - b + b * (self._lengths[:n] / avg)
            factors = np.asarray(self.params.weights, dtype=np.float64) / norm
            factors[~self._alive[:n]] = 0.0
            self._factors = factors.astype(np.float32)
        return self._factors

    def idf(self, term: str) -> float:
        tid = self._term_ids.get(term)
        df = self._postings[tid].df if tid is not None else 0
        return math.log(1.0 + (self._live - df + 0.5) / (df + 0.5))

    def scores(self, query: Mapping[str, float]) -> FloatArray:
        """BM25F score of every slot for ``query`` (term → query weight)."""
        scores = np.zeros(self.slots, dtype=np.float32)
        if self._live == 0:
            return scores
        factors = self._slot_factors()
        k1 = self.params.k1
        for term, weight in query.items():
            tid = self._term_ids.get(term)
            if tid is None or self._postings[tid].df == 0:
                continue
            posting = self._postings[tid]
            # Copies: a live view would forbid appending to the array later.
            slots = np.frombuffer(posting.slots, dtype=np.intc).copy()
            tfs = np.frombuffer(posting.tfs, dtype=np.uint16).copy().reshape(-1, _NF)
            pseudo = np.einsum("ij,ij->i", tfs, factors[slots], dtype=np.float32)
            scale = np.float32(weight * self.idf(term))
            scores[slots] += scale * pseudo / (np.float32(k1) + pseudo)
        return scores
