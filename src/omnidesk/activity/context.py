"""The customer context ("screen pop"): everything an agent needs, in one read.

The context is read with ONE statement (see :mod:`omnidesk.activity.reads`): one small
SELECT per part (the contact, its organisations, identities, products, recent failures,
open conversations, open cases, the latest entry per channel, the recent timeline) in a
tagged ``UNION ALL``; by identity, the contact id is a subquery on the identity, so the
screen pop by phone is one round trip too. Every part selects the same rows, in the same
order, as a separate query with that part's WHERE / ORDER BY / LIMIT would; rows are Core
rows (no ORM entities, no identity map), shaped into the JSON-ready dict here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Row,
    bindparam,
    func,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.activity.reads import Order, Part, flush_pending, split_parts, tagged_union
from omnidesk.kit.errors import NotFound
from omnidesk.kit.time import utcnow
from omnidesk.models import (
    Activity,
    Case,
    Contact,
    Conversation,
    Identity,
    Membership,
    Organisation,
    ProductHolding,
    User,
)

EXPIRY_WINDOW = timedelta(days=30)
FAILURE_WINDOW = timedelta(days=30)
TIER_RANK = {"strategic": 0, "key": 1, "standard": 2, "small_business": 3}


def activity_json(a: Any) -> dict[str, Any]:
    """An activity (ORM entity or a row with the same attribute names) as JSON."""
    return {
        "id": str(a.id), "kind": a.kind, "channel": a.channel, "type": a.type,
        "outcome": a.outcome, "summary": a.summary, "source": a.source,
        "external_id": a.external_id,
        "conversation_id": str(a.conversation_id) if a.conversation_id else None,
        "data": a.data, "occurred_at": a.occurred_at.isoformat(),
    }


def contact_json(c: Any) -> dict[str, Any]:
    """A contact (ORM entity or a row with the same attribute names) as JSON."""
    return {
        "id": str(c.id), "name": c.name, "locale": c.locale, "timezone": c.timezone,
        "vip_level": c.vip_level, "tier": c.tier, "tags": c.tags, "attributes": c.attributes,
        "created_at": c.created_at.isoformat(),
    }


# --------------------------------------------------------------------------- the statement

_A = Activity.__table__.c
_C = Contact.__table__.c
_I = Identity.__table__.c
_M = Membership.__table__.c
_O = Organisation.__table__.c
_P = ProductHolding.__table__.c
_U = User.__table__.c
_V = Conversation.__table__.c
_K = Case.__table__.c

_BY_ID = bindparam("cid", type_=_C.id.type)
# the screen pop by an identity (phone, e-mail, ...): the same statement, the contact id
# being the identity's owner (a scalar subquery on the unique (kind, value) index)
_BY_IDENTITY = select(_I.contact_id).where(
    _I.kind == bindparam("kind", type_=_I.kind.type),
    _I.value == bindparam("value", type_=_I.value.type)).scalar_subquery()
_SINCE = bindparam("since", type_=_A.occurred_at.type)
_ACTIVITY = (_A.id, _A.kind, _A.channel, _A.type, _A.outcome, _A.summary, _A.source,
             _A.external_id, _A.conversation_id, _A.data, _A.occurred_at)
_PRODUCT = (_P.id, _P.product_code, _P.name, _P.status, _P.expires_at, _P.organisation_id,
            _P.attributes)


def _parts(cid: ColumnElement[Any]) -> list[Part]:
    """One SELECT per part of the context for the contact ``cid`` and the order of its
    rows; a column name means the same thing (and has the same type) in every part that
    selects it."""
    contact = select(_C.id, _C.name, _C.locale, _C.timezone, _C.vip_level, _C.tier, _C.tags,
                     _C.attributes, _C.created_at, _C.merged_into_id).where(_C.id == cid)
    organisations = (
        select(_O.id, _O.name, _O.tier, _M.role, _M.title, _O.billing_mode, _O.tags,
               _O.account_manager_id, _U.name.label("manager"))
        .join_from(Membership, Organisation, _O.id == _M.organisation_id)
        .outerjoin(User, _U.id == _O.account_manager_id)
        .where(_M.contact_id == cid))
    identities = select(_I.kind, _I.value, _I.verified, _I.created_at).where(
        _I.contact_id == cid)
    # held by the contact, or by an organisation it belongs to: the two halves are
    # disjoint, so together they are the rows of "contact_id = :cid OR organisation_id IN
    # (its organisations)", and each half uses its own index
    products = select(union_all(
        select(*_PRODUCT).where(_P.contact_id == cid),
        select(*_PRODUCT).join_from(ProductHolding, Membership,
                                    _M.organisation_id == _P.organisation_id)
        .where(_M.contact_id == cid, or_(_P.contact_id.is_(None), _P.contact_id != cid)),
    ).subquery("held"))
    failures = (select(*_ACTIVITY).where(
        _A.contact_id == cid, _A.outcome.in_(("failed", "abandoned")),
        _A.occurred_at >= _SINCE).order_by(_A.occurred_at.desc()).limit(10))
    conversations = (
        select(_V.id, _V.inbox_id, _V.channel, _V.status, _V.subject, _V.assignee_id,
               _V.last_message_at)
        .where(_V.contact_id == cid, _V.status != "resolved")
        .order_by(_V.last_message_at.desc()).limit(10))
    cases = (select(_K.id, _K.number, _K.type, _K.subject, _K.stage, _K.priority,
                    _K.created_at)
             .where(_K.contact_id == cid, _K.status == "open")
             .order_by(_K.created_at.desc()).limit(10))
    ranked = select(*_ACTIVITY, func.row_number().over(
        partition_by=_A.channel, order_by=(_A.occurred_at.desc(), _A.id.desc())).label("rn")
    ).where(_A.contact_id == cid, _A.channel.is_not(None)).subquery("ranked")
    latest = select(*(ranked.c[c.name] for c in _ACTIVITY)).where(ranked.c.rn == 1)
    recent = (select(*_ACTIVITY).where(_A.contact_id == cid)
              .order_by(_A.occurred_at.desc(), _A.id.desc()).limit(10))
    newest: Order = (("occurred_at", True), ("id", True))
    return [
        ("contact", contact, ()),
        ("organisations", organisations, ()),
        ("identities", identities, (("created_at", False),)),
        ("products", products, (("expires_at", False),)),
        ("failures", failures, (("occurred_at", True),)),
        ("conversations", conversations, (("last_message_at", True),)),
        ("cases", cases, (("created_at", True),)),
        ("latest", latest, (("channel", False),)),
        ("recent", recent, newest),
    ]


_PART_NAMES = [name for name, _, _ in _parts(_BY_ID)]
STATEMENT_BY_ID = tagged_union(_parts(_BY_ID))
STATEMENT_BY_IDENTITY = tagged_union(_parts(_BY_IDENTITY))


async def _read(session: AsyncSession, stmt: CompoundSelect[Any],
                params: dict[str, Any]) -> dict[str, list[Row[Any]]]:
    """The rows of every part for one contact, in one round trip. A row has every
    part's columns by name (those of other parts are NULL)."""
    await flush_pending(session)
    return split_parts(await session.execute(stmt, params), _PART_NAMES)


# --------------------------------------------------------------------------- shaping

def _organisation(o: Row[Any]) -> dict[str, Any]:
    return {"id": str(o.id), "name": o.name, "tier": o.tier, "role": o.role, "title": o.title,
            "billing_mode": o.billing_mode, "tags": o.tags,
            "account_manager": ({"id": str(o.account_manager_id), "name": o.manager}
                                if o.account_manager_id else None)}


def _product(p: Row[Any], now: datetime) -> dict[str, Any]:
    expires = p.expires_at
    return {
        "id": str(p.id), "product_code": p.product_code, "name": p.name, "status": p.status,
        "expires_at": expires.isoformat() if expires else None,
        "expires_in_days": (expires - now).days if expires else None,
        "expiring_soon": expires is not None and now <= expires <= now + EXPIRY_WINDOW,
        "held_by": "organisation" if p.organisation_id is not None else "contact",
        "attributes": p.attributes,
    }


def _conversation(c: Row[Any]) -> dict[str, Any]:
    return {"id": str(c.id), "inbox_id": str(c.inbox_id), "channel": c.channel,
            "status": c.status, "subject": c.subject,
            "assignee_id": str(c.assignee_id) if c.assignee_id else None,
            "last_message_at": c.last_message_at.isoformat() if c.last_message_at else None}


def _case(k: Row[Any]) -> dict[str, Any]:
    return {"id": str(k.id), "number": k.number, "type": k.type, "subject": k.subject,
            "stage": k.stage, "priority": k.priority}


def _failure(a: Row[Any]) -> dict[str, Any]:
    return {**activity_json(a), "reason": (a.data or {}).get("reason")}


def _each(rows: list[Row[Any]], shape: Callable[[Row[Any]], dict[str, Any]]
          ) -> list[dict[str, Any]]:
    return [shape(r) for r in rows]


async def get_context(session: AsyncSession, contact_id: uuid.UUID) -> dict[str, Any]:
    """The screen pop for a contact (following merges to the surviving record)."""
    now = utcnow()
    parts = await _read(session, STATEMENT_BY_ID,
                        {"cid": contact_id, "since": now - FAILURE_WINDOW})
    return await _context(session, parts, now, f"contact {contact_id} not found")


async def get_context_by_identity(session: AsyncSession, kind: str,
                                  value: str) -> dict[str, Any]:
    """The screen pop for the owner of a (normalised) identity, in one statement."""
    now = utcnow()
    parts = await _read(session, STATEMENT_BY_IDENTITY,
                        {"kind": kind, "value": value, "since": now - FAILURE_WINDOW})
    return await _context(session, parts, now, f"no contact with {kind} {value}")


async def _context(session: AsyncSession, parts: dict[str, list[Row[Any]]], now: datetime,
                   missing: str) -> dict[str, Any]:
    seen: set[uuid.UUID] = set()
    while True:  # follow merges as customers.service.get_contact does
        if not parts["contact"]:
            raise NotFound(missing)
        contact = parts["contact"][0]
        if contact.merged_into_id is None or contact.id in seen:
            break
        seen.add(contact.id)
        parts = await _read(session, STATEMENT_BY_ID,
                            {"cid": contact.merged_into_id, "since": now - FAILURE_WINDOW})
    orgs = _each(parts["organisations"], _organisation)
    products = [_product(p, now) for p in parts["products"]]
    org_tiers = sorted((o["tier"] for o in orgs), key=lambda t: TIER_RANK.get(t, 9))
    return {
        "contact": contact_json(contact),
        "identities": [{"kind": i.kind, "value": i.value, "verified": i.verified}
                       for i in parts["identities"]],
        "organisations": orgs,
        "tier": contact.tier or (org_tiers[0] if org_tiers else None),
        "vip_level": contact.vip_level,
        "tags": contact.tags,
        "products": products,
        "expiring_products": [p for p in products if p["expiring_soon"]],
        "recent_failures": _each(parts["failures"], _failure),
        "open_conversations": _each(parts["conversations"], _conversation),
        "open_cases": _each(parts["cases"], _case),
        "latest_by_channel": {str(a.channel): activity_json(a) for a in parts["latest"]},
        "recent_activity": _each(parts["recent"], activity_json),
    }
