"""REST API for the escalation chain."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from omnidesk.auth.deps import AdminOnly, ReadConversations, WriteConversations
from omnidesk.cases import escalations as esc_service
from omnidesk.cases.service import get_case
from omnidesk.kit.errors import ValidationFailed
from omnidesk.kit.web import SessionDep
from omnidesk.models import Escalation, EscalationLevel, User

router = APIRouter(prefix="/api/v1", tags=["escalations"])


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LevelIn(Strict):
    owner_id: uuid.UUID | None = None
    deadline_hours: int = Field(default=24, ge=1, le=24 * 30)


class EscalateIn(Strict):
    reason: str = Field(min_length=1, max_length=5000)
    owner_id: uuid.UUID | None = None
    deadline_hours: int | None = Field(default=None, ge=1, le=24 * 30)


class AnswerIn(Strict):
    answer: str = Field(min_length=1, max_length=20_000)


class ReviewIn(Strict):
    decision: str = Field(pattern="^(approved|returned)$")
    note: str | None = Field(default=None, max_length=5000)


@router.put("/escalation-levels/{level}")
async def put_level(level: int, body: LevelIn, session: SessionDep,
                    _: AdminOnly) -> dict[str, Any]:
    if level not in esc_service.LEVELS:
        raise ValidationFailed("levels are 1 (team lead), 2 (supervisor), 3 (executive)")
    if body.owner_id and await session.get(User, body.owner_id) is None:
        raise ValidationFailed("owner not found", field="owner_id")
    row = await session.get(EscalationLevel, level)
    if row is None:
        row = EscalationLevel(level=level, name=esc_service.LEVELS[level])
        session.add(row)
    row.owner_id, row.deadline_hours = body.owner_id, body.deadline_hours
    return {"level": level, "name": row.name,
            "owner_id": str(row.owner_id) if row.owner_id else None,
            "deadline_hours": row.deadline_hours}


@router.post("/cases/{case_id}/escalate", status_code=201)
async def escalate(case_id: uuid.UUID, body: EscalateIn, session: SessionDep,
                   principal: WriteConversations) -> dict[str, Any]:
    case = await get_case(session, case_id)
    esc = await esc_service.do_escalate(
        session, case, trigger="manual", reason=body.reason, actor=principal.label,
        owner_id=body.owner_id, deadline_hours=body.deadline_hours)
    return esc_service.escalation_json(esc)


@router.get("/escalations")
async def list_escalations(session: SessionDep, _: ReadConversations,
                           status: str | None = None,
                           owner_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """Awaiting an owner's answer or a review: ``?status=open`` / ``answered``."""
    stmt = select(Escalation)
    if status:
        stmt = stmt.where(Escalation.status == status)
    if owner_id:
        stmt = stmt.where(Escalation.owner_id == owner_id)
    rows = await session.scalars(stmt.order_by(Escalation.deadline_at).limit(500))
    return [esc_service.escalation_json(e) for e in rows]


@router.post("/escalations/{esc_id}/answer")
async def answer(esc_id: uuid.UUID, body: AnswerIn, session: SessionDep,
                 principal: ReadConversations) -> dict[str, Any]:
    esc = await esc_service.get_escalation(session, esc_id)
    await esc_service.do_answer(session, esc, principal, body.answer)
    return esc_service.escalation_json(esc)


@router.post("/escalations/{esc_id}/review")
async def review(esc_id: uuid.UUID, body: ReviewIn, session: SessionDep,
                 principal: ReadConversations) -> dict[str, Any]:
    esc = await esc_service.get_escalation(session, esc_id)
    await esc_service.do_review(session, esc, principal, body.decision, body.note)
    return esc_service.escalation_json(esc)
