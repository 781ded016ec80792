"""Text → intent, with a calibrated confidence and an honest "I don't know".

The model, in three parts that each see the text normalised the same way (NFKC,
full-width → half-width, lower case, traditional → simplified with OpenCC):

1. a linear SVM over TF-IDF features — character n-grams (1–5, within words; for
   Chinese these are the characters and their runs) and words (jieba words for Chinese,
   Snowball stems for English) with word bigrams — plus a sentence vector from WordLlama
   (static token embeddings shipped inside its PyPI wheel) appended to the same row;
2. a nearest-neighbour vote over the training utterances' sentence vectors, which
   catches paraphrases that share few characters with any example;
3. the two fused into one score per intent, turned into probabilities by a softmax whose
   temperature is fitted on held-out predictions (so 0.8 means right about 80 % of the
   time on data like the training data).

**Out of scope.** Training runs a 5-fold cross-validation in which each fold also hides
a fifth of the intents: the held-out utterances of hidden intents play the unknown
questions the model will meet. The confidence threshold is the lowest at which the
accepted held-out answers reach the target precision (right answers among everything
accepted, the unknown questions counted as wrong), so the threshold comes from the
training data alone. Below it, :meth:`IntentClassifier.predict` returns ``label=None``.
Utterances labelled with ``oos_label`` in the training data are never learned as an
intent; they join the held-out unknowns that set the threshold.
"""

from __future__ import annotations

import io
import itertools
import pickle
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from omnidesk.kit.text import normalize, words
from omnidesk.nlu import embeddings
from omnidesk.nlu.background import UTTERANCES

FORMAT = 1
MAGIC = b"omnidesk-nlu"
SVM_C = 0.7
EMBEDDING_WEIGHT = 1.5  # the sentence vector's weight beside the TF-IDF features
KNN_K = 10
KNN_WEIGHT = 0.4
FOLDS = 5
REPEAT_BELOW = 4000  # fewer examples than this: repeat the folds (up to MAX_REPEATS)
MAX_REPEATS = 4
CV_LIMIT = 5000  # more examples than this: the cross-validation runs on a random sample
RANKING = 5
MAX_TEXT = 2000
LATIN_SHARE_FOR_EMBEDDINGS = 0.25
BACKGROUND = "\x00background"  # the class of everyday messages that are no intent


class TrainingError(ValueError):
    """The training data cannot make a model (the message says why)."""


@dataclass(frozen=True)
class Prediction:
    label: str | None  # None: out of scope ("I don't know")
    confidence: float  # calibrated probability of the top-ranked intent
    in_scope: bool
    ranking: list[tuple[str, float]]  # the best intents with their probabilities


def latin_share(texts: Sequence[str]) -> float:
    """The share of texts written mostly in Latin letters (English)."""
    if not texts:
        return 0.0
    latin = 0
    for text in texts:
        letters = [c for c in text if c.isalpha()]
        ascii_letters = sum(1 for c in letters if c.isascii())
        latin += bool(letters) and ascii_letters * 2 > len(letters)
    return latin / len(texts)


def word_features(text: str) -> list[str]:
    """Words (jieba for Chinese, stems for English) and word bigrams."""
    ws = words(text)
    return ws + [f"{a} {b}" for a, b in itertools.pairwise(ws)]


def _clean(text: str) -> str:
    return normalize(str(text)[:MAX_TEXT])


class _Core:
    """Vectorisers, SVM and neighbour vectors: the part that is refitted per fold."""

    def __init__(self, use_embeddings: bool) -> None:
        self.use_embeddings = use_embeddings
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 5), sublinear_tf=True,
                                     lowercase=False, dtype=np.float32)
        self.words = TfidfVectorizer(analyzer=word_features, sublinear_tf=True,
                                     dtype=np.float32)
        self.svm = LinearSVC(C=SVM_C, class_weight="balanced")
        self.classes: np.ndarray = np.array([])
        # the examples as columns: sentence vectors (dims × examples) or, without them,
        # unit TF-IDF rows transposed (a term → its postings), so a query is one product
        self.neighbours: np.ndarray | sparse.csr_matrix = np.zeros((0, 0))
        self.neighbour_labels: np.ndarray = np.array([], dtype=np.int64)
        self.neighbour_is_intent: np.ndarray = np.array([], dtype=bool)
        self.background = -1  # the index of the background class, if trained
        # the examples' unit word-TF-IDF rows, transposed (a term → its postings) for speed
        self.word_postings: sparse.csr_matrix = sparse.csr_matrix((0, 0))

    def vectors(self, texts: list[str]) -> np.ndarray:
        return embeddings.embed(texts)

    def lexical_features(self, texts: list[str], fit: bool = False) -> sparse.csr_matrix:
        """Character and word TF-IDF rows, side by side (unit length each)."""
        if fit:
            blocks = [self.chars.fit_transform(texts), self.words.fit_transform(texts)]
            return sparse.hstack(blocks, format="csr")
        # The fitted vocabularies applied directly: the same numbers as the vectorisers'
        # transform() (tested), without its per-call validation (a few ms per utterance).
        tables = self._tables()
        indptr, indices, values = [0], [], []
        for text in texts:
            offset = row_nnz = 0
            for analyse, vocabulary, idf in tables:
                counts: dict[int, int] = {}
                for term in analyse(text):
                    j = vocabulary.get(term)
                    if j is not None:
                        counts[j] = counts.get(j, 0) + 1
                if counts:
                    idx = np.fromiter(counts, dtype=np.int64, count=len(counts))
                    tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
                    weights = (1.0 + np.log(tf)) * idf[idx]
                    weights /= np.sqrt(np.dot(weights, weights))
                    order = np.argsort(idx)
                    indices.append(idx[order] + offset)
                    values.append(weights[order])
                    row_nnz += len(idx)
                offset += len(vocabulary)
            indptr.append(indptr[-1] + row_nnz)
        width = sum(len(vocabulary) for _, vocabulary, _ in tables)
        return sparse.csr_matrix(
            (np.concatenate(values) if values else np.zeros(0, np.float32),
             np.concatenate(indices) if indices else np.zeros(0, np.int64), indptr),
            shape=(len(texts), width), dtype=np.float32)

    def _tables(self) -> list[tuple[Any, dict[str, int], np.ndarray]]:
        if getattr(self, "_cached_tables", None) is None:
            self._cached_tables = [
                (v.build_analyzer(), v.vocabulary_, np.asarray(v.idf_, dtype=np.float64))
                for v in (self.chars, self.words)]
        tables: list[tuple[Any, dict[str, int], np.ndarray]] = self._cached_tables
        return tables

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_cached_tables", None)  # analysers are rebuilt after loading
        return state

    def features(self, lexical: sparse.csr_matrix, vecs: np.ndarray | None) -> sparse.csr_matrix:
        if self.use_embeddings and vecs is not None:
            return sparse.hstack([lexical, sparse.csr_matrix(vecs * EMBEDDING_WEIGHT)],
                                 format="csr")
        return lexical

    def fit(self, texts: list[str], labels: np.ndarray, vecs: np.ndarray | None,
            fitted_vectorisers: _Core | None = None) -> _Core:
        if fitted_vectorisers is not None:  # share the vocabulary fitted on all the data
            self.chars, self.words = fitted_vectorisers.chars, fitted_vectorisers.words
            lexical = self.lexical_features(texts)
        else:
            lexical = self.lexical_features(texts, fit=True)
        x = self.features(lexical, vecs)
        self.classes, y = np.unique(labels, return_inverse=True)
        found = np.flatnonzero(self.classes == BACKGROUND)
        self.background = int(found[0]) if len(found) else -1
        intent_rows = y != self.background
        self.word_postings = _unit_rows(self._word_block(lexical))[intent_rows].T.tocsr().astype(
            np.float32)
        if len(self.classes) == 2:  # LinearSVC is one score for two classes; keep two
            self.svm.fit(x, np.where(y == 1, 1, -1))
        else:
            self.svm.fit(x, y)
        if self.use_embeddings and vecs is not None:
            self.neighbours = np.ascontiguousarray(vecs.astype(np.float32).T)
        else:
            self.neighbours = _unit_rows(lexical).T.tocsr().astype(np.float32)
        self.neighbour_labels = y.astype(np.int64)
        self.neighbour_is_intent = intent_rows
        return self

    def scores(self, texts: list[str], vecs: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Fused scores per intent, and each text's similarity to its nearest example
        (two columns: by sentence vectors, and by words)."""
        lexical = self.lexical_features(texts)
        x = self.features(lexical, vecs)
        decision = np.asarray(x @ self.svm.coef_.T, dtype=np.float64) + self.svm.intercept_
        if decision.ndim == 1:
            decision = np.stack([-decision, decision], axis=1)
        query = vecs if (self.use_embeddings and vecs is not None) else _unit_rows(lexical)
        votes, nearest = self._votes(query)
        word_sims = self._word_block(lexical) @ self.word_postings
        word_nearest = np.asarray(word_sims.max(axis=1).todense()).ravel()
        return decision + KNN_WEIGHT * votes, np.stack([nearest, word_nearest], axis=1)

    def _word_block(self, lexical: sparse.csr_matrix) -> sparse.csr_matrix:
        """The word columns (already unit length per row: each block is normalised)."""
        offset = len(self.chars.vocabulary_)
        keep = lexical.indices >= offset
        kept_before = np.r_[0, np.cumsum(keep)]
        indptr = kept_before[lexical.indptr]
        return sparse.csr_matrix((lexical.data[keep], lexical.indices[keep] - offset, indptr),
                                 shape=(lexical.shape[0], lexical.shape[1] - offset))

    def _votes(self, query: np.ndarray | sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        sims = query @ self.neighbours
        sims = sims.toarray() if sparse.issparse(sims) else np.asarray(sims)
        n, k = sims.shape[0], min(KNN_K, sims.shape[1])
        votes = np.zeros((n, len(self.classes)))
        if k == 0:
            return votes, np.zeros(n)
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        weights = np.clip(np.take_along_axis(sims, top, axis=1), 0, None) ** 3
        rows = np.repeat(np.arange(n), k)
        np.add.at(votes, (rows, self.neighbour_labels[top].ravel()), weights.ravel())
        total = votes.sum(axis=1, keepdims=True)
        votes = np.divide(votes, total, out=np.zeros_like(votes), where=total > 0)
        intent_sims = sims[:, self.neighbour_is_intent]
        nearest = (intent_sims.max(axis=1) if intent_sims.shape[1] else np.zeros(n))
        return votes, nearest.astype(np.float64)


def _unit_rows(x: sparse.csr_matrix) -> sparse.csr_matrix:
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ x)


def _softmax(z: np.ndarray, temperature: float) -> np.ndarray:
    z = z / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out


def _read(probs: np.ndarray, background: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The best intent's probability and index, and whether background beat every intent."""
    intents = probs.copy()
    if background >= 0:
        intents[:, background] = -1.0
    best = intents.argmax(axis=1)
    top = intents[np.arange(len(best)), best]
    said_background = (probs.argmax(axis=1) == background) if background >= 0 else (
        np.zeros(len(best), bool))
    return top, best, said_background


def _fit_temperature(rows: list[tuple[np.ndarray, int]]) -> float:
    """The softmax temperature that minimises the held-out negative log-likelihood."""
    if not rows:
        return 0.1
    best, best_nll = 0.1, float("inf")
    for t in np.geomspace(0.01, 3.0, 60):
        nll = 0.0
        for z, true in rows:
            p = _softmax(z[None, :], float(t))[0]
            nll -= float(np.log(max(p[true], 1e-12)))
        if nll < best_nll:
            best, best_nll = float(t), nll
    return best


def _confidence_features(top_probability: np.ndarray, nearest: np.ndarray) -> np.ndarray:
    logp = np.log(np.clip(top_probability, 1e-6, 1.0))
    near = np.clip(nearest, 0.0, 1.0)
    return np.column_stack([logp, near, logp * near[:, 0], logp * near[:, 1],
                            near[:, 0] * near[:, 1]])


def _fit_confidence(top_probability: np.ndarray, nearest: np.ndarray,
                    correct: np.ndarray) -> tuple[list[float], float] | None:
    """P(the top intent is right) from its probability and the nearest example's similarity,
    fitted on held-out answers (unknown questions count as wrong)."""
    if len(correct) < 10 or correct.all() or not correct.any():
        return None
    model = LogisticRegression(C=1.0, max_iter=1000)
    model.fit(_confidence_features(top_probability, nearest), correct.astype(int))
    return [float(w) for w in model.coef_[0]], float(model.intercept_[0])


def _apply_confidence(calibrator: tuple[list[float], float] | None,
                      top_probability: np.ndarray, nearest: np.ndarray) -> np.ndarray:
    if calibrator is None:
        return top_probability
    weights, bias = calibrator
    z = _confidence_features(top_probability, nearest) @ np.array(weights) + bias
    out: np.ndarray = 1.0 / (1.0 + np.exp(-z))
    return out


def pick_threshold(confidences: np.ndarray, correct: np.ndarray,
                   target_precision: float) -> tuple[float, float, float]:
    """The lowest confidence at which the accepted answers reach the target precision.

    Returns (threshold, precision, coverage) on the held-out sample. When no threshold
    reaches the target, the one with the best precision is taken."""
    if len(confidences) == 0:
        return 0.0, 1.0, 1.0
    order = np.argsort(-confidences, kind="stable")
    conf, ok = confidences[order], correct[order].astype(np.float64)
    precision = np.cumsum(ok) / np.arange(1, len(ok) + 1)
    # only cut between distinct confidences: ties are accepted or refused together
    last_of_tie = np.r_[conf[1:] != conf[:-1], True]
    candidates = np.flatnonzero(last_of_tie)
    meeting = candidates[precision[candidates] >= target_precision]
    idx = int(meeting.max()) if len(meeting) else int(candidates[np.argmax(precision[candidates])])
    return float(conf[idx]), float(precision[idx]), float((idx + 1) / len(conf))


@dataclass
class _TrainingSet:
    """The intents' examples first, then the unknown ones (out-of-scope examples and the
    background), all normalised; ``labels`` names the unknown ones :data:`BACKGROUND`."""

    texts: list[str]
    labels: np.ndarray
    intents: list[str]
    known: int
    own_unknown: int

    @classmethod
    def of(cls, texts: Sequence[str], labels: Sequence[str], oos_label: str | None,
           background: bool) -> _TrainingSet:
        if len(texts) != len(labels):
            raise TrainingError("texts and labels differ in length")
        pairs = [(_clean(t), str(label).strip()) for t, label in zip(texts, labels, strict=True)
                 if str(t).strip() and str(label).strip()]
        known = [(t, label) for t, label in pairs if label != oos_label]
        unknown = [t for t, label in pairs if label == oos_label]
        intents = sorted({label for _, label in known})
        if len(intents) < 2:
            raise TrainingError("training needs at least two intents with examples")
        if BACKGROUND in intents:
            raise TrainingError("a label may not start with a NUL character")
        own_unknown = len(unknown)
        if background:
            unknown += [_clean(t) for t in UTTERANCES]
        return cls([t for t, _ in known] + unknown,
                   np.array([label for _, label in known] + [BACKGROUND] * len(unknown)),
                   intents, len(known), own_unknown)


Held = tuple[np.ndarray, np.ndarray, np.ndarray, int]  # scores, nearest, truth, background


def _held_out(data: _TrainingSet, shared: _Core, vecs: np.ndarray | None,
              use_embeddings: bool, seed: int) -> tuple[list[tuple[np.ndarray, int]],
                                                        list[Held]]:
    """5-fold cross-validation in which each fold also hides a fifth of the intents: the
    scores of every held-out example, with its true class (-1: a class the fold did not
    learn, i.e. an unknown question), and the rows the temperature is fitted on."""
    hide_intents = len(data.intents) >= 3  # a fifth of the intents (at least one) per fold
    # Small training sets give noisy held-out figures: repeat the folds with other splits.
    repeats = max(1, min(MAX_REPEATS, REPEAT_BELOW // max(len(data.texts), 1)))
    rng = np.random.default_rng(seed)
    calibration: list[tuple[np.ndarray, int]] = []
    held: list[Held] = []
    for _ in range(repeats):
        fold = rng.integers(0, FOLDS, size=len(data.texts))
        if len(data.texts) > CV_LIMIT:  # large sets: calibrate on a sample (saves minutes)
            fold[rng.permutation(len(data.texts))[CV_LIMIT:]] = -1
        group_of = dict(zip(data.intents, rng.permutation(len(data.intents)) % FOLDS,
                            strict=True))
        group = np.array([group_of[label] if hide_intents else -1
                          for label in data.labels[: data.known]]
                         + [-2] * (len(data.texts) - data.known))
        for k in range(FOLDS):
            train_idx = np.flatnonzero((fold >= 0) & (fold != k) & (group != k))
            test_idx = np.flatnonzero(fold == k)
            trained = set(data.labels[train_idx]) - {BACKGROUND}
            if len(test_idx) == 0 or len(trained) < 2:
                continue
            core = _Core(use_embeddings).fit(
                [data.texts[i] for i in train_idx], data.labels[train_idx],
                None if vecs is None else vecs[train_idx], fitted_vectorisers=shared)
            z, nearest = core.scores([data.texts[i] for i in test_idx],
                                     None if vecs is None else vecs[test_idx])
            index = {c: j for j, c in enumerate(core.classes)}
            truth = np.array([index.get(data.labels[i], -1) for i in test_idx])
            calibration += [(row, int(t)) for row, t in zip(z, truth, strict=True) if t >= 0]
            held.append((z, nearest, truth, core.background))
    return calibration, held


@dataclass
class _Calibration:
    """The confidence model and the threshold, fitted on the held-out answers."""

    calibrator: tuple[list[float], float] | None
    threshold: float
    precision: float
    coverage: float
    confidence: np.ndarray
    correct: np.ndarray
    unknown: np.ndarray

    @classmethod
    def fit(cls, held: list[Held], temperature: float,
            target_precision: float) -> _Calibration:
        tops, nears, correct, unseen, rejected = [], [], [], [], []
        for z, nearest, truth, bg in held:
            top, best, said_background = _read(_softmax(z, temperature), bg)
            tops.append(top)
            nears.append(nearest)
            is_intent = (truth >= 0) & (truth != bg)
            correct.append((best == truth) & is_intent & ~said_background)
            unseen.append(~is_intent)
            rejected.append(said_background)
        top = np.concatenate(tops) if tops else np.array([])
        near = np.concatenate(nears) if nears else np.zeros((0, 2))
        ok = np.concatenate(correct) if correct else np.array([], bool)
        out = np.concatenate(unseen) if unseen else np.array([], bool)
        said_bg = np.concatenate(rejected) if rejected else np.array([], bool)
        calibrator = _fit_confidence(top[~said_bg], near[~said_bg], ok[~said_bg])
        conf = np.where(said_bg, 0.0, _apply_confidence(calibrator, top, near))
        threshold, precision, coverage = pick_threshold(conf, ok, target_precision)
        return cls(calibrator, threshold, precision, coverage, conf, ok, out)

    def metrics(self) -> dict[str, Any]:
        seen, out = ~self.unknown, self.unknown
        return {
            "threshold": round(self.threshold, 4),
            "heldout_accuracy": (round(float(self.correct[seen].mean()), 4)
                                 if seen.any() else None),
            "heldout_precision": round(self.precision, 4),
            "heldout_coverage": round(self.coverage, 4),
            "heldout_unknown_rejected": (
                round(float((self.confidence[out] < self.threshold).mean()), 4)
                if out.any() else None),
        }


class IntentClassifier:
    """A trained intent model. Build one with :meth:`train`; store it with :meth:`to_bytes`."""

    def __init__(self, core: _Core, temperature: float, threshold: float,
                 metrics: dict[str, Any],
                 calibrator: tuple[list[float], float] | None = None) -> None:
        self._core = core
        self.calibrator = calibrator
        self.temperature = temperature
        self.threshold = threshold
        self.metrics = metrics

    @property
    def labels(self) -> list[str]:
        return [str(c) for c in self._core.classes if c != BACKGROUND]

    @property
    def uses_embeddings(self) -> bool:
        return self._core.use_embeddings

    # ------------------------------------------------------------------ training
    @classmethod
    def train(cls, texts: Sequence[str], labels: Sequence[str], *, oos_label: str | None = None,
              target_precision: float = 0.9, seed: int = 0, use_embeddings: bool | None = None,
              background: bool = True) -> IntentClassifier:
        if not 0.0 < target_precision <= 1.0:
            raise TrainingError("target precision must be in (0, 1]")
        data = _TrainingSet.of(texts, labels, oos_label, background)
        if use_embeddings is None:  # WordLlama reads English: worth it when English is common
            use_embeddings = latin_share(data.texts[: data.known]) >= LATIN_SHARE_FOR_EMBEDDINGS
        vecs = embeddings.embed(data.texts) if use_embeddings else None
        shared = _Core(use_embeddings)
        shared.chars.fit(data.texts)
        shared.words.fit(data.texts)
        calibration, held = _held_out(data, shared, vecs, use_embeddings, seed)
        temperature = _fit_temperature(calibration)
        fitted = _Calibration.fit(held, temperature, target_precision)
        final = _Core(use_embeddings).fit(data.texts, data.labels, vecs,
                                          fitted_vectorisers=shared)
        metrics = {
            "examples": data.known, "intents": len(data.intents),
            "oos_examples": data.own_unknown,
            "background_examples": len(data.texts) - data.known - data.own_unknown,
            "target_precision": target_precision, "temperature": round(temperature, 4),
            **fitted.metrics(), "embeddings": use_embeddings,
        }
        return cls(final, temperature, fitted.threshold, metrics, fitted.calibrator)

    # ---------------------------------------------------------------- prediction
    def analyse(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Each class's probability, and the confidence that the top intent is right
        (0 when the text reads as background: small talk, not an intent)."""
        clean = [_clean(t) for t in texts]
        vecs = self._core.vectors(clean) if self._core.use_embeddings else None
        z, nearest = self._core.scores(clean, vecs)
        probs = _softmax(z, self.temperature)
        top, _, said_background = _read(probs, self._core.background)
        conf = _apply_confidence(self.calibrator, top, nearest)
        return probs, np.where(said_background, 0.0, conf)

    def predict_many(self, texts: Sequence[str]) -> list[Prediction]:
        if not texts:
            return []
        probs, confidences = self.analyse(texts)
        classes = self._core.classes
        background = self._core.background
        out = []
        for row, conf in zip(probs, confidences, strict=True):
            order = [j for j in np.argsort(-row) if j != background][:RANKING]
            ranking = [(str(classes[j]), round(float(row[j]), 4)) for j in order]
            confidence = float(conf)
            in_scope = confidence >= self.threshold and confidence > 0.0
            out.append(Prediction(label=ranking[0][0] if in_scope else None,
                                  confidence=confidence, in_scope=in_scope, ranking=ranking))
        return out

    def predict(self, text: str) -> Prediction:
        return self.predict_many([text])[0]

    # ------------------------------------------------------------------- storage
    def to_bytes(self) -> bytes:
        state = {"format": FORMAT, "core": self._core, "temperature": self.temperature,
                 "threshold": self.threshold, "metrics": self.metrics,
                 "calibrator": self.calibrator}
        buffer = io.BytesIO()
        pickle.dump(state, buffer, protocol=pickle.HIGHEST_PROTOCOL)
        return MAGIC + zlib.compress(buffer.getvalue(), 6)

    @classmethod
    def from_bytes(cls, blob: bytes) -> IntentClassifier:
        """Load a model this code stored (the database's own blobs; never untrusted input)."""
        if not blob.startswith(MAGIC):
            raise ValueError("not an omnidesk intent model")
        state = pickle.loads(zlib.decompress(blob[len(MAGIC):]))  # our own blob
        if state.get("format") != FORMAT:
            raise ValueError(f"intent model format {state.get('format')} is not {FORMAT}")
        return cls(state["core"], state["temperature"], state["threshold"], state["metrics"],
                   state.get("calibrator"))
