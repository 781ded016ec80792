"""The customer context ("screen pop"): everything an agent needs, in one read."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.customers.service import get_contact, list_identities
from omnidesk.kit.time import utcnow
from omnidesk.models import (
    Activity,
    Case,
    Contact,
    Conversation,
    Membership,
    Organisation,
    ProductHolding,
    User,
)

EXPIRY_WINDOW = timedelta(days=30)
FAILURE_WINDOW = timedelta(days=30)
TIER_RANK = {"strategic": 0, "key": 1, "standard": 2, "small_business": 3}


def activity_json(a: Activity) -> dict[str, Any]:
    return {
        "id": str(a.id), "kind": a.kind, "channel": a.channel, "type": a.type,
        "outcome": a.outcome, "summary": a.summary, "source": a.source,
        "external_id": a.external_id,
        "conversation_id": str(a.conversation_id) if a.conversation_id else None,
        "data": a.data, "occurred_at": a.occurred_at.isoformat(),
    }


def contact_json(c: Contact) -> dict[str, Any]:
    return {
        "id": str(c.id), "name": c.name, "locale": c.locale, "timezone": c.timezone,
        "vip_level": c.vip_level, "tier": c.tier, "tags": c.tags, "attributes": c.attributes,
        "created_at": c.created_at.isoformat(),
    }


async def _organisations(session: AsyncSession, contact_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(Membership.role, Membership.title, Organisation, User.name)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .outerjoin(User, User.id == Organisation.account_manager_id)
        .where(Membership.contact_id == contact_id)
    )
    return [
        {"id": str(org.id), "name": org.name, "tier": org.tier, "role": role, "title": title,
         "billing_mode": org.billing_mode, "tags": org.tags,
         "account_manager": ({"id": str(org.account_manager_id), "name": manager}
                             if org.account_manager_id else None)}
        for role, title, org, manager in rows
    ]


async def _products(session: AsyncSession, contact_id: uuid.UUID,
                    org_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    stmt = select(ProductHolding).where(ProductHolding.contact_id == contact_id)
    if org_ids:
        stmt = select(ProductHolding).where(
            (ProductHolding.contact_id == contact_id)
            | ProductHolding.organisation_id.in_(org_ids)
        )
    now = utcnow()
    out = []
    for p in await session.scalars(stmt.order_by(ProductHolding.expires_at)):
        expiring = p.expires_at is not None and now <= p.expires_at <= now + EXPIRY_WINDOW
        out.append({
            "id": str(p.id), "product_code": p.product_code, "name": p.name, "status": p.status,
            "expires_at": p.expires_at.isoformat() if p.expires_at else None,
            "expires_in_days": (p.expires_at - now).days if p.expires_at else None,
            "expiring_soon": expiring,
            "held_by": "organisation" if p.organisation_id is not None else "contact",
            "attributes": p.attributes,
        })
    return out


async def _failures(session: AsyncSession, contact_id: uuid.UUID) -> list[dict[str, Any]]:
    since = utcnow() - FAILURE_WINDOW
    rows = await session.scalars(
        select(Activity).where(
            Activity.contact_id == contact_id,
            Activity.outcome.in_(("failed", "abandoned")),
            Activity.occurred_at >= since,
        ).order_by(Activity.occurred_at.desc()).limit(10)
    )
    return [{**activity_json(a), "reason": (a.data or {}).get("reason")} for a in rows]


async def _latest_per_channel(session: AsyncSession, contact_id: uuid.UUID) -> dict[str, Any]:
    ranked = (
        select(Activity.id, func.row_number().over(
            partition_by=Activity.channel,
            order_by=(Activity.occurred_at.desc(), Activity.id.desc()),
        ).label("rn"))
        .where(Activity.contact_id == contact_id, Activity.channel.is_not(None))
        .subquery()
    )
    rows = await session.scalars(
        select(Activity).join(ranked, ranked.c.id == Activity.id).where(ranked.c.rn == 1)
    )
    return {str(a.channel): activity_json(a) for a in rows}


async def _open_conversations(session: AsyncSession, contact_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(Conversation).where(Conversation.contact_id == contact_id,
                                   Conversation.status != "resolved")
        .order_by(Conversation.last_message_at.desc()).limit(10)
    )
    return [
        {"id": str(c.id), "inbox_id": str(c.inbox_id), "channel": c.channel, "status": c.status,
         "subject": c.subject, "assignee_id": str(c.assignee_id) if c.assignee_id else None,
         "last_message_at": c.last_message_at.isoformat() if c.last_message_at else None}
        for c in rows
    ]


async def _open_cases(session: AsyncSession, contact_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(Case).where(Case.contact_id == contact_id, Case.status == "open")
        .order_by(Case.created_at.desc()).limit(10))
    return [{"id": str(c.id), "number": c.number, "type": c.type, "subject": c.subject,
             "stage": c.stage, "priority": c.priority} for c in rows]


async def _recent(session: AsyncSession, contact_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(Activity).where(Activity.contact_id == contact_id)
        .order_by(Activity.occurred_at.desc(), Activity.id.desc()).limit(10)
    )
    return [activity_json(a) for a in rows]


async def get_context(session: AsyncSession, contact_id: uuid.UUID) -> dict[str, Any]:
    contact = await get_contact(session, contact_id)
    identities = await list_identities(session, contact.id)
    orgs = await _organisations(session, contact.id)
    org_ids = [uuid.UUID(o["id"]) for o in orgs]
    products = await _products(session, contact.id, org_ids)
    org_tiers = sorted((o["tier"] for o in orgs), key=lambda t: TIER_RANK.get(t, 9))
    return {
        "contact": contact_json(contact),
        "identities": [{"kind": i.kind, "value": i.value, "verified": i.verified}
                       for i in identities],
        "organisations": orgs,
        "tier": contact.tier or (org_tiers[0] if org_tiers else None),
        "vip_level": contact.vip_level,
        "tags": contact.tags,
        "products": products,
        "expiring_products": [p for p in products if p["expiring_soon"]],
        "recent_failures": await _failures(session, contact.id),
        "open_conversations": await _open_conversations(session, contact.id),
        "open_cases": await _open_cases(session, contact.id),
        "latest_by_channel": await _latest_per_channel(session, contact.id),
        "recent_activity": await _recent(session, contact.id),
    }
