"""What the caller said they need: the IVR's transcript through the bot's intent model.

``await model.current(session)`` gives the trained classifier (``omnidesk.nlu``) or None,
and ``classifier.predict(text)`` a prediction with ``label``, ``confidence``, ``in_scope``
and ``ranking``. No model (or an unsure one) means no intent: routing falls back to the
inbox's team, a human.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.bot import model as bot_model

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Intent:
    label: str | None
    confidence: float
    confident: bool

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "confidence": round(self.confidence, 4),
                "confident": self.confident}


async def recognise(session: AsyncSession, text: str | None,
                    min_confidence: float | None) -> Intent | None:
    if not text or not text.strip():
        return None
    try:
        classifier = await bot_model.current(session)
        if classifier is None:
            return None
        p = classifier.predict(text)
    except Exception:  # a broken model must not lose the call: a human takes it
        log.exception("intent recognition failed; the call goes to the inbox's team")
        return None
    label = p.label or (p.ranking[0][0] if p.ranking else None)
    confident = (bool(p.in_scope) if min_confidence is None
                 else float(p.confidence) >= min_confidence)
    return Intent(label, float(p.confidence), bool(confident and label))
