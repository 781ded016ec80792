"""Highlighting: matched terms wrapped in ``<mark>`` over the original, HTML-escaped text.

Matching happens on the folded text (see ``search_align``) with the same token rules as
``omnidesk.kit.text``: Latin/digit words are stemmed and compared with the query's
stems, CJK terms (query words, character bigrams, lone characters) are found as
substrings. Matches are mapped back to the original text, so a traditional query marks
the simplified words of an article and the other way round. Everything outside the marks
is escaped with ``html.escape``: the result is safe to insert into a page.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import snowballstemmer

from omnidesk.kit.text import is_cjk
from omnidesk.knowledge.search_align import Phrases, fold_with_offsets, scrub

# Latin words as omnidesk.kit.text tokenises them (after normalisation).
_LATIN_RE = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_SPACE_RE = re.compile(r"\s+")
_stemmer = snowballstemmer.stemmer("english")
_MAX_SPANS = 1000  # matches considered per text (the first ones)
_MAX_PER_TERM = 64  # occurrences of one term considered per text
MAX_TERMS = 32  # terms marked per query: the heaviest ones
_ELLIPSIS = "…"
_SNAP = 20  # how far a window edge may move to avoid cutting a Latin word

# Function words: matched for ranking, but marking every "the" helps no reader.
_FUNCTION_WORDS = (
    "a an and are as at be been but by can could do does did for from had has have how i if "
    "in is it it's its me my no not of on or our so than that the their them then there they "
    "this to us was we were what when where which who why will with would you your"
)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball stem of a normalised Latin word, as ``omnidesk.kit.text.words``."""
    return str(_stemmer.stemWord(word.replace("’", "'")))


STOP_STEMS = frozenset(stem(w) for w in _FUNCTION_WORDS.split())


def _prefix(term: str) -> str:
    """What every word stemming to ``term`` starts with (happy → happi: "happ")."""
    return term[:-1] if len(term) > 2 else term


@dataclass(frozen=True, slots=True)
class MarkTerms:
    """What to mark: Latin stems and CJK strings (all normalised), with a weight each."""

    weights: Mapping[str, float]
    stems: frozenset[str]
    prefixes: tuple[str, ...]  # of the stems, without those covered by a shorter one
    cjk: tuple[str, ...]

    @classmethod
    def build(cls, weights: Mapping[str, float]) -> MarkTerms:
        """``weights``: term → weight (query weight × idf); only the ``MAX_TERMS``
        heaviest are marked, so a pasted paragraph costs no more than a question."""
        if len(weights) > MAX_TERMS:
            heaviest = sorted(weights.items(), key=lambda tw: tw[1], reverse=True)
            weights = dict(heaviest[:MAX_TERMS])
        stems = frozenset(t for t in weights if not is_cjk(t) and t not in STOP_STEMS)
        prefixes: list[str] = []
        for prefix in sorted({_prefix(s) for s in stems}, key=len):
            if not any(prefix.startswith(p) for p in prefixes):
                prefixes.append(prefix)
        cjk = tuple(t for t in weights if is_cjk(t))
        return cls(weights, stems, tuple(prefixes), cjk)

    def __bool__(self) -> bool:
        return bool(self.stems) or bool(self.cjk)


class Span(NamedTuple):
    start: int
    end: int
    term: str


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _word_starts_at(text: str, pos: int) -> bool:
    """Whether the kit tokeniser would start a word at ``pos`` (not inside "don't")."""
    if pos == 0:
        return True
    before = text[pos - 1]
    if _is_latin(before):
        return False
    return not (before in "'’" and pos >= 2 and _is_latin(text[pos - 2]))


def _latin_matches(text: str, terms: MarkTerms) -> list[tuple[int, int, str]]:
    """Words of ``text`` whose stem is one of ``terms.stems``.

    ``str.find`` for each stem's prefix, then the word there is cut as the kit tokeniser
    cuts it and stemmed: a few C scans instead of stemming every word of the text."""
    found: list[tuple[int, int, str]] = []
    for prefix in terms.prefixes:
        pos, n = text.find(prefix), 0
        while pos >= 0 and n < _MAX_PER_TERM:
            match = _LATIN_RE.match(text, pos) if _word_starts_at(text, pos) else None
            if match is not None:
                term = stem(match.group())
                if term in terms.stems:
                    found.append((pos, match.end(), term))
                    n += 1
            pos = text.find(prefix, match.end() if match is not None else pos + 1)
    return found


def _cjk_matches(text: str, terms: MarkTerms) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    for term in terms.cjk:
        pos, n = text.find(term), 0
        while pos >= 0 and n < _MAX_PER_TERM:
            found.append((pos, pos + len(term), term))
            pos, n = text.find(term, pos + 1), n + 1
    return found


def find_spans(text: str, terms: MarkTerms, phrases: Phrases | None = None) -> list[Span]:
    """Matches of ``terms`` in ``text`` as sorted spans of the original text.

    ``phrases``: ``phrase_patches(text)`` when known (see ``search_align``)."""
    if not terms or not text:
        return []
    folded = fold_with_offsets(text, phrases)
    found = _latin_matches(folded.folded, terms) + _cjk_matches(folded.folded, terms)
    found.sort()
    spans = []
    for start, end, term in found[:_MAX_SPANS]:
        o_start, o_end = folded.original_span(start, end)
        if o_end > o_start:
            spans.append(Span(o_start, o_end, term))
    return spans


def _merge(spans: Sequence[Span], lo: int, hi: int) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    # Spans are sorted by start: skip to the window, then back over a few that may
    # reach into it.
    first = bisect_left(spans, (lo,))
    while first > 0 and spans[first - 1].end > lo:
        first -= 1
    for span in spans[first:]:
        if span.start >= hi:
            break
        start, end = max(span.start, lo), min(span.end, hi)
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def render(text: str, spans: Sequence[Span], lo: int = 0, hi: int | None = None) -> str:
    """``text[lo:hi]`` HTML-escaped, whitespace collapsed, spans wrapped in ``<mark>``."""
    hi = len(text) if hi is None else hi
    out: list[str] = []
    pos = lo
    for start, end in _merge(spans, lo, hi):
        out.append(html.escape(_SPACE_RE.sub(" ", text[pos:start])))
        out.append("<mark>" + html.escape(_SPACE_RE.sub(" ", text[start:end])) + "</mark>")
        pos = end
    out.append(html.escape(_SPACE_RE.sub(" ", text[pos:hi])))
    return scrub("".join(out))  # no lone surrogate may reach a UTF-8 page


def highlight(text: str, terms: MarkTerms, phrases: Phrases | None = None) -> str:
    """The whole ``text``, escaped, with matches marked (for titles)."""
    return render(text, find_spans(text, terms, phrases)).strip()


def _best_run(spans: list[Span], weights: Mapping[str, float], width: int) -> tuple[int, int]:
    """Indices [i, j) of the spans whose window of ``width`` scores best.

    A window scores the weight of each distinct term it holds, plus a tenth of it for
    every repeat; the earliest best window wins.
    """
    best, best_run = -1.0, (0, 0)
    counts: Counter[str] = Counter()
    distinct = total = 0.0  # sum of weights of the distinct terms, of all spans in window
    j = 0
    for i, first in enumerate(spans):
        j = max(j, i)  # the window is empty when the previous span alone was too wide
        while j < len(spans) and spans[j].end - first.start <= width:
            term = spans[j].term
            weight = weights.get(term, 0.0)
            distinct += weight if counts[term] == 0 else 0.0
            total += weight
            counts[term] += 1
            j += 1
        score = 0.9 * distinct + 0.1 * total
        if score > best + 1e-9:
            best, best_run = score, (i, max(j, i + 1))
        if j > i:
            weight = weights.get(first.term, 0.0)
            counts[first.term] -= 1
            total -= weight
            distinct -= weight if counts[first.term] == 0 else 0.0
    return best_run


def _snap(text: str, pos: int, step: int) -> int:
    """Move a window edge off the middle of a Latin word (at most ``_SNAP`` characters)."""
    if pos <= 0 or pos >= len(text):
        return pos
    for k in range(_SNAP):
        p = pos + step * k
        if p <= 0 or p >= len(text):
            return max(0, min(p, len(text)))
        if not (_is_latin(text[p - 1]) and _is_latin(text[p])):
            return p
    return pos


def snippet(text: str, terms: MarkTerms, width: int, phrases: Phrases | None = None) -> str:
    """The best window of about ``width`` characters of ``text``, escaped and marked."""
    spans = find_spans(text, terms, phrases)
    if spans:
        i, j = _best_run(spans, terms.weights, width)
        first, last = spans[i].start, max(s.end for s in spans[i:j])
        lo = max(0, first - max(width - (last - first), 0) // 2)
        hi = min(len(text), max(lo + width, last))
        lo = max(0, min(lo, hi - width, first))
    else:
        lo, hi = 0, min(len(text), width)
    lo, hi = _snap(text, lo, -1), _snap(text, hi, 1)
    body = render(text, spans, lo, hi).strip()
    if not body:
        return ""
    prefix = _ELLIPSIS if text[:lo].strip() else ""
    suffix = _ELLIPSIS if text[hi:].strip() else ""
    return prefix + body + suffix
