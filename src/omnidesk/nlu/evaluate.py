"""``omnidesk nlu eval``: train on one labelled file, measure on another."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import f1_score

from omnidesk.nlu.classifier import IntentClassifier

OUT_OF_SCOPE = "\x00out-of-scope"


class DataError(ValueError):
    """A labelled file that cannot be read (the message names the file and row)."""


def read_labelled(path: Path) -> tuple[list[str], list[str]]:
    """Two columns, text then label; a header row (any names) is recognised and skipped."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise DataError(f"{path}: not CSV ({exc})") from exc
    rows = [r for r in rows if any(c.strip() for c in r)]
    if rows and [c.strip().lower() for c in rows[0][:2]] in (
            ["text", "label"], ["sentence", "label"], ["text", "category"],
            ["utterance", "intent"], ["text", "intent"], ["query", "label"]):
        rows = rows[1:]
    texts, labels = [], []
    for number, row in enumerate(rows, start=1):
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise DataError(f"{path}: row {number}: expected two columns, text and label")
        texts.append(row[0].strip())
        labels.append(row[1].strip())
    if not texts:
        raise DataError(f"{path}: no labelled rows")
    return texts, labels


def evaluate(train: tuple[list[str], list[str]], test: tuple[list[str], list[str]], *,
             oos_label: str | None = None, target_precision: float = 0.9,
             use_embeddings: bool | None = None, latency_samples: int = 1000) -> dict[str, Any]:
    started = time.perf_counter()
    model = IntentClassifier.train(train[0], train[1], oos_label=oos_label,
                                   target_precision=target_precision,
                                   use_embeddings=use_embeddings)
    train_seconds = time.perf_counter() - started
    texts, truth = test
    predictions = model.predict_many(texts)
    if oos_label is None:  # a closed set: the best intent is the answer
        guessed = [p.ranking[0][0] for p in predictions]
        gold = truth
    else:
        guessed = [p.label if p.in_scope and p.label else OUT_OF_SCOPE for p in predictions]
        gold = [OUT_OF_SCOPE if t == oos_label else t for t in truth]
    g, y = np.array(guessed, dtype=object), np.array(gold, dtype=object)
    result: dict[str, Any] = {
        "train_examples": len(train[0]), "test_examples": len(texts),
        "intents": len(model.labels),
        "accuracy": float((g == y).mean()),
        "macro_f1": float(f1_score(y.astype(str), g.astype(str), average="macro",
                                   zero_division=0)),
    }
    if oos_label is not None:
        oos, said_oos = y == OUT_OF_SCOPE, g == OUT_OF_SCOPE
        result["in_scope_accuracy"] = float((g[~oos] == y[~oos]).mean()) if (~oos).any() else None
        result["oos_recall"] = float(said_oos[oos].mean()) if oos.any() else None
        result["oos_precision"] = float(oos[said_oos].mean()) if said_oos.any() else None
    result["threshold"] = model.threshold
    result["train_seconds"] = train_seconds
    timings = []
    sample = texts[:latency_samples]
    model.predict(sample[0])  # warm caches
    for text in sample:
        t0 = time.perf_counter()
        model.predict(text)
        timings.append((time.perf_counter() - t0) * 1000)
    result["p50_ms"] = float(np.percentile(timings, 50))
    result["p95_ms"] = float(np.percentile(timings, 95))
    return result
