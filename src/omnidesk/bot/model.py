"""The bot's intent model: trained from the articles' example questions and the labelled
utterances admins import; stored in the database, loaded once per process and version."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.kit.errors import ValidationFailed
from omnidesk.models import Article, NluModel, NluUtterance
from omnidesk.nlu.classifier import IntentClassifier

ARTICLE = "article:"
_cache: dict[str, Any] = {"id": None, "classifier": None}


async def training_data(session: AsyncSession) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for a in await session.scalars(select(Article).where(
            Article.status == "published", Article.visibility == "public")):
        for q in [a.title, *a.example_questions]:
            texts.append(q)
            labels.append(f"{ARTICLE}{a.group_id}")
    for u in await session.scalars(select(NluUtterance)):
        texts.append(u.text)
        labels.append(u.label)
    return texts, labels


async def do_train(session: AsyncSession) -> NluModel:
    texts, labels = await training_data(session)
    if len(set(labels)) < 2:
        raise ValidationFailed("training needs at least two intents: publish articles with "
                               "example questions or import labelled utterances")
    started = time.perf_counter()
    classifier = await asyncio.to_thread(IntentClassifier.train, texts, labels)
    seconds = time.perf_counter() - started
    model = NluModel(labels=classifier.labels, blob=classifier.to_bytes(),
                     metrics={**classifier.metrics, "examples": len(texts),
                              "intents": len(classifier.labels),
                              "train_seconds": round(seconds, 3)})
    session.add(model)
    await session.flush()
    _cache.update(id=model.id, classifier=classifier)
    return model


async def current(session: AsyncSession) -> IntentClassifier | None:
    """The newest trained model (loaded again only when a newer one exists)."""
    latest = await session.scalar(select(NluModel.id).order_by(NluModel.created_at.desc())
                                  .limit(1))
    if latest is None:
        return None
    if _cache["id"] != latest:
        blob = await session.scalar(select(NluModel.blob).where(NluModel.id == latest))
        assert blob is not None
        _cache.update(id=latest, classifier=IntentClassifier.from_bytes(blob))
    classifier: IntentClassifier = _cache["classifier"]
    return classifier


def parse_utterances(data: bytes) -> list[tuple[str, str]]:
    """CSV ``text,label`` (a header row is allowed); a clear error for anything else."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed("the CSV must be UTF-8") from exc
    rows = list(csv.reader(io.StringIO(text)))
    if rows and [c.strip().lower() for c in rows[0][:2]] == ["text", "label"]:
        rows = rows[1:]
    out = []
    for number, row in enumerate(rows, start=1):
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise ValidationFailed(f"row {number}: expected text,label")
        out.append((row[0].strip()[:2000], row[1].strip()[:200]))
    if not out:
        raise ValidationFailed("the CSV holds no utterances")
    return out


async def do_import_utterances(session: AsyncSession, rows: list[tuple[str, str]],
                               replace: bool) -> int:
    if replace:
        await session.execute(delete(NluUtterance))
    session.add_all(NluUtterance(text=t, label=label) for t, label in rows)
    return len(rows)
