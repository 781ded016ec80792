"""REST API for the bot: settings, training, labelled utterances, the deflection report."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from omnidesk.auth.deps import AdminOnly, ReadConversations
from omnidesk.bot import engine, model
from omnidesk.config import get_settings
from omnidesk.kit.errors import ValidationFailed
from omnidesk.kit.time import utcnow
from omnidesk.kit.web import SessionDep
from omnidesk.models import BotSession, KbSetting, Message, NluModel, NluUtterance

router = APIRouter(prefix="/api/v1", tags=["bot"])
COME_BACK = timedelta(hours=24)


class EmailAutoReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = False
    inbox_ids: list[uuid.UUID] = []
    intents: list[str] = []


class BotSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    channels: list[str] = Field(default=["web_chat", "app_chat", "wechat"])
    always_human_tiers: list[str] = []
    max_unhelpful: int = Field(default=2, ge=1, le=5)
    min_confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    email_auto_reply: EmailAutoReplyIn = EmailAutoReplyIn()


@router.get("/bot/settings")
async def get_bot_settings(session: SessionDep, _: ReadConversations) -> dict[str, Any]:
    return await engine.settings(session)


@router.put("/bot/settings")
async def put_bot_settings(body: BotSettingsIn, session: SessionDep,
                           _: AdminOnly) -> dict[str, Any]:
    row = await session.get(KbSetting, engine.SETTINGS_KEY)
    if row is None:
        row = KbSetting(key=engine.SETTINGS_KEY)
        session.add(row)
    row.value = body.model_dump(mode="json")
    return row.value


@router.post("/nlu/utterances", status_code=201, summary="Import labelled utterances (CSV)")
async def import_utterances(session: SessionDep, _: AdminOnly, file: UploadFile = File(...),
                            replace: bool = Form(False)) -> dict[str, Any]:
    data = await file.read(5 * 1024 * 1024 + 1)
    if len(data) > 5 * 1024 * 1024:
        raise ValidationFailed("the CSV is limited to 5 MiB")
    rows = model.parse_utterances(data)
    count = await model.do_import_utterances(session, rows, replace)
    total = await session.scalar(select(func.count()).select_from(NluUtterance))
    return {"imported": count, "total": total}


@router.post("/nlu/train", status_code=201, summary="Train the intent model now")
async def train(session: SessionDep, _: AdminOnly) -> dict[str, Any]:
    trained = await model.do_train(session)
    return {"id": str(trained.id), "metrics": trained.metrics, "intents": len(trained.labels)}


@router.get("/nlu/models")
async def models(session: SessionDep, _: ReadConversations) -> list[dict[str, Any]]:
    rows = await session.execute(select(NluModel.id, NluModel.metrics, NluModel.created_at)
                                 .order_by(NluModel.created_at.desc()).limit(20))
    return [{"id": str(i), "metrics": m, "created_at": c.isoformat()} for i, m, c in rows]


def _day_bounds(day_from: date | None, day_to: date | None) -> tuple[datetime, datetime]:
    zone = ZoneInfo(get_settings().default_timezone)
    to = day_to or utcnow().astimezone(zone).date()
    start = day_from or (to - timedelta(days=29))
    return (datetime.combine(start, time.min, zone), datetime.combine(to + timedelta(days=1),
                                                                      time.min, zone))


@router.get("/reports/self-service", summary="Bot deflection per intent and channel")
async def self_service(session: SessionDep, _: ReadConversations,
                       day_from: date | None = None, day_to: date | None = None
                       ) -> dict[str, Any]:
    """Bot-resolved (the customer confirmed, or did not come back within 24 h of the
    answer) against handed off, per intent and channel."""
    start, end = _day_bounds(day_from, day_to)
    rows = list(await session.scalars(select(BotSession).where(
        BotSession.started_at >= start, BotSession.started_at < end)))
    groups: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: {"resolved": 0, "handed_off": 0, "open": 0})
    now = utcnow()
    for s in rows:
        outcome = s.outcome
        if outcome is None and s.answered_at is not None and now - s.answered_at > COME_BACK:
            came_back = await session.scalar(select(Message.id).where(
                Message.conversation_id == s.conversation_id,
                Message.sender_type == "contact", Message.created_at > s.answered_at).limit(1))
            outcome = "handed_off" if came_back else "resolved"
        groups[(s.last_intent or "(none)", s.channel)][outcome or "open"] += 1
    items = [{"intent": i, "channel": c, **v,
              "deflection_rate": round(v["resolved"] / (v["resolved"] + v["handed_off"]), 3)
              if v["resolved"] + v["handed_off"] else None}
             for (i, c), v in sorted(groups.items())]
    resolved = sum(v["resolved"] for v in groups.values())
    handed = sum(v["handed_off"] for v in groups.values())
    return {"from": start.date().isoformat(), "to": (end - timedelta(days=1)).date().isoformat(),
            "resolved": resolved, "handed_off": handed,
            "deflection_rate": round(resolved / (resolved + handed), 3)
            if resolved + handed else None, "items": items}
