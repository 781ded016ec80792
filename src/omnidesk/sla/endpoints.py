"""REST API for SLA calendars, policies and the clocks on cases and conversations."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select

from omnidesk.auth.deps import AdminOnly, ReadConversations
from omnidesk.kit.errors import Conflict, NotFound, ValidationFailed
from omnidesk.kit.web import SessionDep
from omnidesk.models import SlaCalendar, SlaPolicy, SlaTarget
from omnidesk.sla.calendar import BusinessCalendar
from omnidesk.sla.service import target_json, targets_of

router = APIRouter(prefix="/api/v1/sla", tags=["sla"])
METRICS = ("first_response", "next_response", "resolution")
STAGES = ("confirmed", "solution", "execution", "follow_up")
CONDITIONS = ("applies_to", "tiers", "priorities", "case_types", "channels")


class CalendarIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    definition: dict[str, Any]


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    position: int = 100
    active: bool = True
    conditions: dict[str, list[str]] = {}
    targets: dict[str, Any]
    calendar: str | None = None
    at_risk_fraction: float = Field(default=0.2, gt=0, lt=1)

    @field_validator("conditions")
    @classmethod
    def _conditions(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        bad = sorted(set(value) - set(CONDITIONS))
        if bad:
            raise ValueError(f"unknown conditions {bad}; use {', '.join(CONDITIONS)}")
        return value

    @field_validator("targets")
    @classmethod
    def _targets(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key, minutes in value.items():
            if key == "stages":
                if not isinstance(minutes, dict) or set(minutes) - set(STAGES):
                    raise ValueError(f"targets.stages maps {', '.join(STAGES)} to minutes")
                items = list(minutes.values())
            elif key in METRICS:
                items = [minutes]
            else:
                raise ValueError(f"unknown target {key!r}; use {', '.join(METRICS)}, stages")
            if not all(isinstance(m, int | float) and m > 0 for m in items):
                raise ValueError("targets are positive numbers of minutes")
        _check_consistent(value)
        return value


def _check_consistent(targets: dict[str, Any]) -> None:
    """A policy must not contradict itself: milestones come in stage order and before
    resolution; responses are due before resolution."""
    resolution = targets.get("resolution")
    stages = targets.get("stages") or {}
    ordered = [(s, stages[s]) for s in STAGES if s in stages]
    for (a, ma), (b, mb) in itertools.pairwise(ordered):
        if mb <= ma:
            raise ValueError(f"stage {b} ({mb} min) is due before or with {a} ({ma} min)")
    if resolution is not None:
        for name, minutes in [*ordered, *((m, targets[m]) for m in METRICS[:2]
                                           if m in targets)]:
            if minutes > resolution:
                raise ValueError(f"{name} ({minutes} min) is due after resolution "
                                 f"({resolution} min)")


def _policy_json(p: SlaPolicy, calendar: str | None) -> dict[str, Any]:
    return {"id": str(p.id), "name": p.name, "position": p.position, "active": p.active,
            "conditions": p.conditions, "targets": p.targets, "calendar": calendar,
            "at_risk_fraction": p.at_risk_fraction}


@router.put("/calendars/{name}")
async def put_calendar(name: str, body: CalendarIn, session: SessionDep,
                       _: AdminOnly) -> dict[str, Any]:
    """Business hours, holidays and make-up working days (see docs/sla.md)."""
    try:
        definition = BusinessCalendar.from_dict(body.definition).to_dict()
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="definition") from exc
    row = await session.scalar(select(SlaCalendar).where(SlaCalendar.name == name))
    if row is None:
        row = SlaCalendar(name=name)
        session.add(row)
    row.definition = definition
    await session.flush()
    return {"id": str(row.id), "name": name, "definition": definition}


@router.get("/calendars")
async def list_calendars(session: SessionDep, _: ReadConversations) -> list[dict[str, Any]]:
    rows = await session.scalars(select(SlaCalendar).order_by(SlaCalendar.name))
    return [{"id": str(c.id), "name": c.name, "definition": c.definition} for c in rows]


@router.post("/policies", status_code=201)
async def create_policy(body: PolicyIn, session: SessionDep, _: AdminOnly) -> dict[str, Any]:
    if await session.scalar(select(SlaPolicy.id).where(SlaPolicy.name == body.name)):
        raise Conflict(f"a policy named {body.name!r} exists")
    calendar_id = None
    if body.calendar:
        calendar_id = await session.scalar(select(SlaCalendar.id).where(
            SlaCalendar.name == body.calendar))
        if calendar_id is None:
            raise ValidationFailed(f"no calendar named {body.calendar!r}", field="calendar")
    policy = SlaPolicy(name=body.name, position=body.position, active=body.active,
                       conditions=body.conditions, targets=body.targets,
                       calendar_id=calendar_id, at_risk_fraction=body.at_risk_fraction)
    session.add(policy)
    await session.flush()
    return _policy_json(policy, body.calendar)


@router.get("/policies")
async def list_policies(session: SessionDep, _: ReadConversations) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(SlaPolicy, SlaCalendar.name)
        .outerjoin(SlaCalendar, SlaCalendar.id == SlaPolicy.calendar_id)
        .order_by(SlaPolicy.position, SlaPolicy.name))
    return [_policy_json(p, c) for p, c in rows]


@router.delete("/policies/{policy_id}", status_code=200)
async def deactivate_policy(policy_id: uuid.UUID, session: SessionDep,
                            _: AdminOnly) -> dict[str, Any]:
    policy = await session.get(SlaPolicy, policy_id)
    if policy is None:
        raise NotFound("policy not found")
    policy.active = False
    return _policy_json(policy, None)


@router.get("/targets/{subject_id}", summary="The SLA clocks of a case or conversation")
async def targets(subject_id: uuid.UUID, session: SessionDep,
                  _: ReadConversations) -> list[dict[str, Any]]:
    return await targets_of(session, subject_id)


@router.get("/at-risk", summary="Running clocks that are at risk or breached")
async def at_risk(session: SessionDep, _: ReadConversations) -> list[dict[str, Any]]:
    rows = await session.scalars(select(SlaTarget).where(
        SlaTarget.stopped_at.is_(None), SlaTarget.state.in_(("at_risk", "breached")))
        .order_by(SlaTarget.due_at).limit(500))
    return [target_json(t) for t in rows]
