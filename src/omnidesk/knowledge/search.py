"""In-memory full-text search over knowledge-base articles (BM25F, zh-Hans/zh-Hant/en).

The index holds no database state: the caller loads articles, turns each into a
``SearchDoc`` and keeps the index current with ``add`` / ``update`` / ``remove``. Search
is lexical and script-blind: titles, example questions and bodies are normalised with
``omnidesk.kit.text`` (NFKC, lower case, traditional → simplified) and indexed as jieba
words + CJK character bigrams + English Snowball stems, so 寬頻 finds 宽带 and "refunds"
finds "refund". Synonym groups expand the query at search time. Each hit carries an
HTML-safe title and body snippet with the matched words marked in the *original* text.

See docs/knowledge-search.md for the scoring parameters and measured figures.

The index is thread-safe: writers and the scoring part of searches take one lock;
tokenising a new document and building snippets happen outside it.
"""

from __future__ import annotations

import html
import math
import re
import threading
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID

import numpy as np

from omnidesk.kit.text import cjk_bigrams, is_cjk, normalize, tokens, words
from omnidesk.knowledge.search_align import Phrases, phrase_patches, scrub
from omnidesk.knowledge.search_facets import Facets, as_values
from omnidesk.knowledge.search_highlight import MarkTerms, snippet
from omnidesk.knowledge.search_highlight import highlight as highlight_text
from omnidesk.knowledge.search_postings import BM25FParams, DocTerms, Postings
from omnidesk.knowledge.search_synonyms import SynonymTable

__all__ = ["BM25FParams", "DocId", "Hit", "SearchDoc", "SearchIndex", "Visibility"]

DocId = str | UUID
MAX_QUERY_CHARS = 1000  # longer queries are cut: bounded latency, nothing lost in practice

# Markdown that is not prose: link targets, bare URLs, HTML tags, reference definitions.
_REF_DEF_RE = re.compile(r"^ {0,3}\[[^\]\n]+\]:[^\n]*$", re.MULTILINE)
_LINK_RE = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
_URL_RE = re.compile(r"<?https?://[^\s>)]+>?")
_TAG_RE = re.compile(r"</?[a-zA-Z][^>\n]*>")


class Visibility(StrEnum):
    public = "public"  # help centre, bot answers to customers
    internal = "internal"  # agents and back office only


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchDoc:
    """One article as the index sees it. ``boost`` multiplies its score (stale: < 1)."""

    id: DocId
    title: str
    body: str  # markdown
    locale: str  # "zh-CN", "zh-TW", "en", ...
    visibility: Visibility | str
    example_questions: Sequence[str] = ()
    product: str | None = None
    tags: Collection[str] = frozenset()
    boost: float = 1.0

    def __post_init__(self) -> None:
        for name in ("title", "body", "locale"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"SearchDoc.{name} must be a string")
        if isinstance(self.example_questions, str) or isinstance(self.tags, str):
            raise TypeError("example_questions and tags are collections of strings")
        questions = tuple(self.example_questions)
        tags = frozenset(self.tags)
        if not all(isinstance(v, str) for v in (*questions, *tags)):
            raise TypeError("example_questions and tags must hold strings")
        if not (isinstance(self.boost, int | float) and math.isfinite(self.boost)
                and self.boost > 0):
            raise ValueError("boost must be a finite number > 0")
        object.__setattr__(self, "visibility", Visibility(self.visibility))
        object.__setattr__(self, "example_questions", questions)
        object.__setattr__(self, "tags", tags)


@dataclass(frozen=True, slots=True)
class Hit:
    """A search result. ``title_highlighted`` and ``snippet`` are safe HTML."""

    doc_id: DocId
    score: float
    title_highlighted: str
    snippet: str


def index_text(markdown: str) -> str:
    """The prose of a markdown body: link texts kept, URLs and HTML tags dropped."""
    text = _REF_DEF_RE.sub(" ", markdown)
    text = _LINK_RE.sub(r" \1 ", text)
    text = _URL_RE.sub(" ", text)
    return _TAG_RE.sub(" ", text)


def doc_terms(doc: SearchDoc) -> DocTerms:
    """Tokenise the three fields of ``doc`` (title, example questions, body)."""
    fields = (
        tokens(scrub(doc.title)),
        [t for question in doc.example_questions for t in tokens(scrub(question))],
        tokens(scrub(index_text(doc.body))),
    )
    title, questions, body = (Counter(f) for f in fields)
    distinct = title.keys() | questions.keys() | body.keys()
    counts = {t: (title[t], questions[t], body[t]) for t in distinct}
    return DocTerms(counts, (len(fields[0]), len(fields[1]), len(fields[2])))


@dataclass(frozen=True, slots=True)
class _Entry:
    """What the index keeps of a document: the document and its body's phrase patches."""

    doc: SearchDoc
    title_phrases: Phrases
    body_phrases: Phrases


def _prepare(doc: SearchDoc) -> tuple[_Entry, DocTerms]:
    """Tokenise a document and prepare its snippets (slow: done outside the index lock)."""
    entry = _Entry(doc, phrase_patches(doc.title), phrase_patches(doc.body))
    return entry, doc_terms(doc)


@dataclass(slots=True)
class _Query:
    weights: dict[str, float]  # term → query weight (1, or the synonym weight)
    marked: list[str] = field(default_factory=list)  # terms worth marking in snippets


class SearchIndex:
    """BM25F search over ``SearchDoc``s with filters, synonyms and highlighted snippets."""

    def __init__(
        self, *, params: BM25FParams | None = None, synonym_weight: float = 0.5,
        snippet_chars: int = 160,
    ) -> None:
        if not 0 < synonym_weight <= 1:
            raise ValueError("synonym_weight must be in (0, 1]")
        if snippet_chars < 20:
            raise ValueError("snippet_chars must be at least 20")
        self.params = params or BM25FParams()
        self.synonym_weight = synonym_weight
        self.snippet_chars = snippet_chars
        self._lock = threading.RLock()
        self._postings = Postings(self.params)
        self._facets = Facets()
        self._boost = np.zeros(256, dtype=np.float32)
        self._slot_entries: list[_Entry | None] = []
        self._slots: dict[DocId, int] = {}
        self._synonyms = SynonymTable()

    # -- documents ------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._slots

    def get(self, doc_id: DocId) -> SearchDoc | None:
        with self._lock:
            slot = self._slots.get(doc_id)
            entry = None if slot is None else self._slot_entries[slot]
            return None if entry is None else entry.doc

    def add(self, doc: SearchDoc) -> None:
        """Index a new document; ``ValueError`` if its id is already indexed."""
        prepared = _prepare(doc)
        with self._lock:
            if doc.id in self._slots:
                raise ValueError(f"document {doc.id!r} is already indexed; use update()")
            self._insert(*prepared)

    def add_many(self, docs: Iterable[SearchDoc]) -> None:
        """``add`` for each document (e.g. the initial load from the database); stops at
        the first error, keeping the documents added before it."""
        for doc in docs:
            self.add(doc)

    def update(self, doc: SearchDoc) -> bool:
        """Index ``doc``, replacing the document with its id; True if one was replaced."""
        prepared = _prepare(doc)
        with self._lock:
            replaced = self._delete(doc.id)
            self._insert(*prepared)
            return replaced

    def remove(self, doc_id: DocId) -> bool:
        """Forget a document; True if it was indexed."""
        with self._lock:
            return self._delete(doc_id)

    def _insert(self, entry: _Entry, terms: DocTerms) -> None:
        doc = entry.doc
        slot = self._postings.add(terms)
        if slot >= len(self._boost):
            grown = np.zeros(2 * len(self._boost), dtype=np.float32)
            grown[: len(self._boost)] = self._boost
            self._boost = grown
        self._boost[slot] = doc.boost
        self._facets.set(
            slot, visibility=doc.visibility, locale=doc.locale, product=doc.product,
            tags=doc.tags,
        )
        self._slot_entries.append(entry)
        self._slots[doc.id] = slot

    def _delete(self, doc_id: DocId) -> bool:
        slot = self._slots.pop(doc_id, None)
        if slot is None:
            return False
        self._postings.kill(slot)
        self._facets.clear(slot)
        self._boost[slot] = 0.0
        self._slot_entries[slot] = None
        if self._postings.needs_compaction():
            self._compact()
        return True

    def _compact(self) -> None:
        remap = self._postings.compact()
        self._facets.remap(remap)
        live = np.flatnonzero(remap >= 0)
        boost = np.zeros(max(256, 2 * len(live)), dtype=np.float32)
        boost[: len(live)] = self._boost[live]
        self._boost = boost
        self._slot_entries = [self._slot_entries[s] for s in live]
        self._slots = {doc_id: int(remap[s]) for doc_id, s in self._slots.items()}

    # -- synonyms ---------------------------------------------------------------------

    def set_synonyms(self, groups: Iterable[Iterable[str]]) -> None:
        """Replace the synonym groups, e.g. ``[["宽带", "寬頻", "broadband"]]``.

        Takes effect on the next search; the index is not rebuilt."""
        table = SynonymTable(groups)
        self._synonyms = table

    # -- search -------------------------------------------------------------------------

    def _query(self, text: str) -> _Query:
        text = scrub(text[:MAX_QUERY_CHARS])
        query_words = words(text)
        bigrams = cjk_bigrams(text)
        weights = dict.fromkeys(query_words + bigrams, 1.0)
        if not weights:
            return _Query({})
        expanded = self._synonyms.expand(normalize(text), query_words)
        for term in expanded:
            weights.setdefault(term, self.synonym_weight)
        # A lone CJK character is worth marking only when it stood alone in the query
        # (卡) or came from a synonym; 的 and 我 inside a longer phrase are not.
        lone = {t for t in bigrams if len(t) == 1} | set(expanded)
        marked = [t for t in weights if not (len(t) == 1 and is_cjk(t) and t not in lone)]
        return _Query(weights, marked)

    def search(
        self, query: str, *, limit: int = 10,
        visibility: str | Iterable[str] | None = None,
        locale: str | Iterable[str] | None = None,
        product: str | Iterable[str] | None = None,
        tags: Iterable[str] = (),
        highlight: bool = True,
    ) -> list[Hit]:
        """The best ``limit`` documents for ``query``, best first.

        Filters (each optional, all must hold): ``visibility`` — one value or several
        (``"public"`` for anything a customer sees: the default returns internal
        articles too); ``locale`` — ``"zh"`` matches ``zh-CN`` and ``zh-TW``; ``product``
        — any of the values; ``tags`` — the document has every tag. With
        ``highlight=False`` titles are only escaped and snippets are empty."""
        if not isinstance(query, str):
            raise TypeError("query must be a string")
        if limit < 0:
            raise ValueError("limit must be >= 0")
        filters = {
            "visibility": as_values(visibility), "locale": as_values(locale),
            "product": as_values(product), "tags": as_values(tags),
        }
        parsed = self._query(query)
        if not parsed.weights or limit == 0:
            return []
        with self._lock:
            ranked = self._rank(parsed, limit, filters)
            marks = MarkTerms.build(
                {t: parsed.weights[t] * self._postings.idf(t) for t in parsed.marked}
            )
        return [self._hit(entry, score, marks, highlight) for entry, score in ranked]

    def _rank(
        self, parsed: _Query, limit: int, filters: dict[str, list[str]]
    ) -> list[tuple[_Entry, float]]:
        scores = self._postings.scores(parsed.weights)
        n = len(scores)
        scores *= self._boost[:n]
        mask = self._facets.mask(n, **filters)
        if mask is not None:
            scores[~mask] = 0.0
        candidates = np.flatnonzero(scores > 0)
        if len(candidates) > limit:
            best = np.argpartition(-scores[candidates], limit - 1)[:limit]
            candidates = candidates[best]
        order = np.lexsort((candidates, -scores[candidates]))
        ranked = []
        for slot in candidates[order]:
            entry = self._slot_entries[slot]
            if entry is not None:
                ranked.append((entry, float(scores[slot])))
        return ranked

    def _hit(self, entry: _Entry, score: float, marks: MarkTerms, marked: bool) -> Hit:
        doc = entry.doc
        if not marked:
            return Hit(doc.id, score, scrub(html.escape(" ".join(doc.title.split()))), "")
        return Hit(
            doc.id, score, highlight_text(doc.title, marks, entry.title_phrases),
            snippet(doc.body, marks, self.snippet_chars, entry.body_phrases),
        )
