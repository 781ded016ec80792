"""REST API for routing rules (admin)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from omnidesk.auth.deps import AdminOnly, ReadConversations
from omnidesk.kit.errors import Conflict, NotFound, ValidationFailed
from omnidesk.kit.web import SessionDep
from omnidesk.models import RoutingRule, Team, User
from omnidesk.routing.service import Actions, Conditions

router = APIRouter(prefix="/api/v1/routing-rules", tags=["routing"])


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    position: int = 100
    active: bool = True
    conditions: Conditions
    actions: Actions


def _json(r: RoutingRule) -> dict[str, Any]:
    return {"id": str(r.id), "name": r.name, "position": r.position, "active": r.active,
            "conditions": r.conditions, "actions": r.actions}


@router.post("", status_code=201)
async def create_rule(body: RuleIn, session: SessionDep, _: AdminOnly) -> dict[str, Any]:
    if body.actions.team_id is None and body.actions.assignee_id is None \
            and body.actions.priority is None:
        raise ValidationFailed("a rule needs an action: team_id, assignee_id or priority")
    if body.actions.team_id and await session.get(Team, body.actions.team_id) is None:
        raise ValidationFailed("team not found", field="actions.team_id")
    if body.actions.assignee_id and await session.get(User, body.actions.assignee_id) is None:
        raise ValidationFailed("user not found", field="actions.assignee_id")
    if await session.scalar(select(RoutingRule.id).where(RoutingRule.name == body.name)):
        raise Conflict(f"a rule named {body.name!r} exists")
    rule = RoutingRule(name=body.name, position=body.position, active=body.active,
                       conditions=body.conditions.model_dump(mode="json"),
                       actions=body.actions.model_dump(mode="json"))
    session.add(rule)
    await session.flush()
    return _json(rule)


@router.get("")
async def list_rules(session: SessionDep, _: ReadConversations) -> list[dict[str, Any]]:
    rows = await session.scalars(select(RoutingRule).order_by(RoutingRule.position))
    return [_json(r) for r in rows]


@router.delete("/{rule_id}", status_code=204)
async def delete_rule(rule_id: uuid.UUID, session: SessionDep, _: AdminOnly) -> None:
    rule = await session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound("rule not found")
    await session.delete(rule)
