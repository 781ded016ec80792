"""Rule-based routing of new conversations: by channel, inbox, sender domain, keywords
(normalised: traditional/simplified and width-insensitive), recognised intent and tier,
to a team and/or an agent, with a priority. The first matching rule by position wins."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.kit.text import normalize
from omnidesk.models import RoutingRule


class Conditions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channels: list[str] = []
    inbox_ids: list[uuid.UUID] = []
    sender_domains: list[str] = []
    keywords: list[str] = []
    intents: list[str] = []
    tiers: list[str] = []


class Actions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    team_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    priority: int | None = Field(default=None, ge=0, le=3)


@dataclass(frozen=True)
class Facts:
    """What is known about a new conversation when it is routed."""

    channel: str
    inbox_id: uuid.UUID
    text: str
    identities: dict[str, str]
    tier: str | None = None
    intent: str | None = None


def matches(conditions: dict[str, Any], facts: Facts) -> bool:
    c = Conditions.model_validate(conditions)
    if c.channels and facts.channel not in c.channels:
        return False
    if c.inbox_ids and facts.inbox_id not in c.inbox_ids:
        return False
    if c.sender_domains:
        email = facts.identities.get("email", "")
        domain = email.rpartition("@")[2].lower()
        if not any(domain == d.lower().lstrip("@") or domain.endswith("." + d.lower())
                   for d in c.sender_domains):
            return False
    if c.keywords:
        text = normalize(facts.text)
        if not any(normalize(k) in text for k in c.keywords if k.strip()):
            return False
    if c.intents and facts.intent not in c.intents:
        return False
    return not (c.tiers and facts.tier not in c.tiers)


async def route(session: AsyncSession, facts: Facts) -> tuple[RoutingRule, Actions] | None:
    rules = session.info.get("routing.rules")
    if rules is None:
        rules = list(await session.scalars(select(RoutingRule).where(
            RoutingRule.active.is_(True)).order_by(RoutingRule.position, RoutingRule.name)))
        session.info["routing.rules"] = rules
    for rule in rules:
        if matches(rule.conditions, facts):
            return rule, Actions.model_validate(rule.actions)
    return None
