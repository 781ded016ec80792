"""Escalations: a case moves up a chain (team lead → supervisor → executive) when an SLA
is breached, a case is flagged, or a deadline is missed. An escalation names an owner
and a deadline; the owner's answer is reviewed by the chain before it goes to the
customer; every step is on record."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.auth.service import Principal
from omnidesk.cases.service import audit, case_json, get_case, timeline_entry
from omnidesk.conversations.service import get_conversation, reply
from omnidesk.kit.db import after_commit
from omnidesk.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from omnidesk.kit.outbox import emit
from omnidesk.kit.time import utcnow
from omnidesk.models import Case, CaseLink, Escalation, EscalationLevel, User
from omnidesk.realtime.hub import publish

LEVELS = {1: "team_lead", 2: "supervisor", 3: "executive"}
TOP = max(LEVELS)
REVIEWER_ROLES = ("admin", "supervisor")


def escalation_json(e: Escalation) -> dict[str, Any]:
    return {"id": str(e.id), "case_id": str(e.case_id), "level": e.level,
            "level_name": LEVELS.get(e.level), "owner_id": str(e.owner_id),
            "deadline_at": e.deadline_at.isoformat(), "trigger": e.trigger,
            "reason": e.reason, "status": e.status, "answer": e.answer, "reviews": e.reviews,
            "created_by": e.created_by, "created_at": e.created_at.isoformat()}


async def _level(session: AsyncSession, level: int) -> EscalationLevel:
    row = await session.get(EscalationLevel, level)
    return row or EscalationLevel(level=level, name=LEVELS[level], owner_id=None,
                                  deadline_hours=24)


async def do_escalate(
    session: AsyncSession, case: Case, *, trigger: str, reason: str, actor: str,
    owner_id: uuid.UUID | None = None, deadline_hours: int | None = None,
) -> Escalation:
    """Raise the case one level (the current open escalation, if any, is superseded)."""
    if case.status == "closed":
        raise Conflict("the case is closed")
    level = case.escalation_level + 1
    if level > TOP:
        raise Conflict("the case is already at the executive level")
    config = await _level(session, level)
    owner_id = owner_id or config.owner_id
    if owner_id is None:
        raise ValidationFailed(f"name an owner: no default owner for level {level} "
                               f"({LEVELS[level]})", field="owner_id")
    owner = await session.get(User, owner_id)
    if owner is None or not owner.is_active:
        raise ValidationFailed("the owner is not an active user", field="owner_id")
    hours = deadline_hours or config.deadline_hours
    for previous in await session.scalars(select(Escalation).where(
            Escalation.case_id == case.id, Escalation.status.in_(("open", "answered")))):
        previous.status = "superseded"
    esc = Escalation(case_id=case.id, level=level, owner_id=owner.id,
                     deadline_at=utcnow() + timedelta(hours=hours), trigger=trigger,
                     reason=reason, created_by=actor)
    session.add(esc)
    case.escalation_level = level
    await session.flush()
    audit(session, "case", case.id, "escalated", actor, level=level, owner=str(owner.id),
          trigger=trigger, reason=reason, deadline_hours=hours)
    timeline_entry(session, case, "case.escalated",
              f"{case.number} escalated to {LEVELS[level]} ({owner.name}): {reason}",
              {"level": level, "owner_id": str(owner.id), "trigger": trigger})
    data = escalation_json(esc)
    await emit(session, "case.escalated", {"escalation": data, "case": case_json(case)})

    async def _notify() -> None:
        await publish(f"agent:{owner.id}", {"type": "escalation", "escalation": data})

    after_commit(session, _notify)
    return esc


async def get_escalation(session: AsyncSession, esc_id: uuid.UUID) -> Escalation:
    esc = await session.get(Escalation, esc_id)
    if esc is None:
        raise NotFound("escalation not found")
    return esc


async def do_answer(session: AsyncSession, esc: Escalation, principal: Principal,
                    answer: str) -> Escalation:
    if esc.owner_id != principal.user_id:
        raise Forbidden("only the escalation's owner answers it")
    if esc.status != "open":
        raise Conflict(f"the escalation is {esc.status}")
    esc.answer, esc.status = answer, "answered"
    audit(session, "escalation", esc.id, "answered", principal.label)
    return esc


async def do_review(session: AsyncSession, esc: Escalation, principal: Principal,
                    decision: str, note: str | None) -> Escalation:
    """The chain reviews the owner's answer; approved answers go to the customer."""
    if principal.role not in REVIEWER_ROLES:
        raise Forbidden("reviews are by supervisors and admins")
    if principal.user_id == esc.owner_id:
        raise Forbidden("the owner cannot review their own answer")
    if esc.status != "answered":
        raise Conflict("only an answered escalation is reviewed")
    if decision == "returned" and not note:
        raise ValidationFailed("say what to change", field="note")
    esc.reviews = [*esc.reviews, {"reviewer": principal.label, "decision": decision,
                                  "note": note, "at": utcnow().isoformat()}]
    esc.status = "approved" if decision == "approved" else "open"
    audit(session, "escalation", esc.id, f"review_{decision}", principal.label, note=note)
    if decision == "approved" and esc.answer:
        case = await get_case(session, esc.case_id)
        await _send_to_customer(session, case, esc.answer, principal)
        timeline_entry(session, case, "case.escalation_answered",
                  f"{case.number}: answer approved and sent", {"escalation_id": str(esc.id)})
    return esc


async def _send_to_customer(session: AsyncSession, case: Case, text: str,
                            principal: Principal) -> None:
    conv_id = await session.scalar(select(CaseLink.target_id).where(
        CaseLink.case_id == case.id, CaseLink.kind == "conversation")
        .order_by(CaseLink.created_at.desc()).limit(1))
    if conv_id is None:
        return
    conversation = await get_conversation(session, conv_id)
    await reply(session, conversation, body=text, sender_type="agent",
                sender_id=principal.user_id, author_name=principal.name)


async def scan_deadlines(session: AsyncSession, now: datetime | None = None) -> int:
    """Missed deadlines escalate further (or are marked missed at the top level)."""
    now = now or utcnow()
    missed = list(await session.scalars(select(Escalation).where(
        Escalation.status == "open", Escalation.deadline_at < now)))
    count = 0
    for esc in missed:
        case = await get_case(session, esc.case_id)
        esc.status = "missed"
        audit(session, "escalation", esc.id, "deadline_missed", "omnidesk")
        if case.status != "closed" and case.escalation_level < TOP:
            try:
                await do_escalate(session, case, trigger="deadline_missed", actor="omnidesk",
                                  reason=f"level {esc.level} deadline missed")
            except ValidationFailed:  # no owner configured for the next level
                timeline_entry(session, case, "case.escalation_stalled",
                          f"{case.number}: no owner for level {esc.level + 1}", {})
        count += 1
    return count
