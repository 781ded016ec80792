"""Enterprise accounts: the relationship belongs to the company, not the manager."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.activity.service import add_activity
from omnidesk.cases.service import audit
from omnidesk.customers.organisations import get_organisation
from omnidesk.kit.db import after_commit
from omnidesk.kit.errors import Conflict, NotFound, ValidationFailed
from omnidesk.kit.outbox import emit
from omnidesk.kit.time import utcnow
from omnidesk.models import (
    AccountHandover,
    AccountNote,
    Activity,
    Booking,
    Case,
    Membership,
    Organisation,
    ProductHolding,
    Reminder,
    User,
    VisitSlot,
)
from omnidesk.realtime.hub import publish


async def _manager(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise ValidationFailed(f"user {user_id} is not an active user", field="to_manager_id")
    return user


async def member_ids(session: AsyncSession, org_id: uuid.UUID) -> list[uuid.UUID]:
    return list(await session.scalars(
        select(Membership.contact_id).where(Membership.organisation_id == org_id)))


async def do_handover(session: AsyncSession, org: Organisation, to_manager_id: uuid.UUID,
                      note: str | None, actor: str) -> AccountHandover:
    """Hand the account to a new manager: open cases and future bookings follow."""
    await _manager(session, to_manager_id)
    previous = org.account_manager_id
    if previous == to_manager_id:
        raise Conflict("that user already manages this account")
    moved: dict[str, int] = {"cases": 0, "bookings": 0}
    if previous is not None:
        members = await member_ids(session, org.id)
        result = await session.execute(
            update(Case).where(Case.assignee_id == previous, Case.status == "open",
                               or_(Case.organisation_id == org.id,
                                   Case.contact_id.in_(members or [uuid.UUID(int=0)])))
            .values(assignee_id=to_manager_id))
        moved["cases"] = int(result.rowcount)  # type: ignore[attr-defined]
        result = await session.execute(
            update(Booking).where(Booking.organisation_id == org.id,
                                  Booking.manager_id == previous,
                                  Booking.starts_at > utcnow(), Booking.status == "confirmed")
            .values(manager_id=to_manager_id))
        moved["bookings"] = int(result.rowcount)  # type: ignore[attr-defined]
    org.account_manager_id = to_manager_id
    handover = AccountHandover(organisation_id=org.id, from_manager_id=previous,
                               to_manager_id=to_manager_id, note=note, moved=moved, actor=actor)
    session.add(handover)
    await session.flush()
    audit(session, "organisation", org.id, "handover", actor, moved=moved,
          from_manager=str(previous) if previous else None, to_manager=str(to_manager_id))
    await emit(session, "account.handover", {"organisation_id": str(org.id),
                                             "from": str(previous) if previous else None,
                                             "to": str(to_manager_id), "moved": moved})
    return handover


async def do_add_note(session: AsyncSession, org: Organisation, kind: str, body: str,
                      author_id: uuid.UUID | None, author_name: str) -> AccountNote:
    note = AccountNote(organisation_id=org.id, kind=kind, body=body, author_id=author_id,
                       author_name=author_name)
    session.add(note)
    await session.flush()
    return note


async def account_timeline(session: AsyncSession, org_id: uuid.UUID,
                           limit: int) -> list[Activity]:
    """Everything the organisation's members did, rolled up to the account."""
    members = await member_ids(session, org_id)
    cond = Activity.organisation_id == org_id
    if members:
        cond = or_(cond, Activity.contact_id.in_(members))
    rows = await session.scalars(select(Activity).where(cond).order_by(
        Activity.occurred_at.desc(), Activity.id.desc()).limit(limit))
    return list(rows)


async def do_create_slot(session: AsyncSession, manager_id: uuid.UUID, starts_at: datetime,
                         ends_at: datetime, kinds: list[str]) -> VisitSlot:
    if ends_at <= starts_at:
        raise ValidationFailed("a slot ends after it starts", field="ends_at")
    if starts_at <= utcnow():
        raise ValidationFailed("slots are in the future", field="starts_at")
    clash = await session.scalar(select(VisitSlot.id).where(
        VisitSlot.manager_id == manager_id, VisitSlot.starts_at < ends_at,
        VisitSlot.ends_at > starts_at))
    if clash:
        raise Conflict("the slot overlaps another slot of this manager")
    slot = VisitSlot(manager_id=manager_id, starts_at=starts_at, ends_at=ends_at, kinds=kinds)
    session.add(slot)
    await session.flush()
    return slot


async def free_slots(session: AsyncSession, org: Organisation) -> list[VisitSlot]:
    if org.account_manager_id is None:
        return []
    booked = select(Booking.slot_id).where(Booking.status == "confirmed")
    rows = await session.scalars(select(VisitSlot).where(
        VisitSlot.manager_id == org.account_manager_id, VisitSlot.starts_at > utcnow(),
        VisitSlot.id.not_in(booked)).order_by(VisitSlot.starts_at))
    return list(rows)


async def do_book(session: AsyncSession, org: Organisation, slot_id: uuid.UUID,
                  contact_id: uuid.UUID, kind: str, topic: str, actor: str) -> Booking:
    slot = await session.get(VisitSlot, slot_id)
    if slot is None or slot.manager_id != org.account_manager_id:
        raise NotFound("no such slot for this account's manager")
    if kind not in slot.kinds:
        raise ValidationFailed(f"this slot is for {', '.join(slot.kinds)}", field="kind")
    if slot.starts_at <= utcnow():
        raise Conflict("the slot has passed")
    if contact_id not in await member_ids(session, org.id):
        raise ValidationFailed("the contact is not a member of this organisation",
                               field="contact_id")
    taken = await session.scalar(select(Booking.id).where(
        Booking.slot_id == slot.id, Booking.status == "confirmed"))
    if taken:
        raise Conflict("the slot was just booked by someone else")
    booking = Booking(slot_id=slot.id, organisation_id=org.id, contact_id=contact_id,
                      manager_id=slot.manager_id, kind=kind, topic=topic,
                      starts_at=slot.starts_at)
    session.add(booking)
    await session.flush()
    add_activity(session, contact_id=contact_id, organisation_id=org.id, kind="event",
                 source="bookings", external_id=str(booking.id), type=f"{kind}.booked",
                 outcome="info", summary=f"{kind} with the account manager: {topic}"[:280],
                 data={"booking_id": str(booking.id), "starts_at": slot.starts_at.isoformat()},
                 occurred_at=utcnow())
    audit(session, "organisation", org.id, "booked", actor, booking_id=str(booking.id))
    await emit(session, "booking.confirmed", booking_json(booking))
    return booking


def booking_json(b: Booking) -> dict[str, Any]:
    return {"id": str(b.id), "slot_id": str(b.slot_id), "organisation_id": str(b.organisation_id),
            "contact_id": str(b.contact_id), "manager_id": str(b.manager_id), "kind": b.kind,
            "topic": b.topic, "status": b.status, "starts_at": b.starts_at.isoformat(),
            "reminded_at": b.reminded_at.isoformat() if b.reminded_at else None}


async def _remind(session: AsyncSession, key: str, kind: str, data: dict[str, Any],
                  manager_id: uuid.UUID | None) -> bool:
    if await session.get(Reminder, key) is not None:
        return False
    session.add(Reminder(key=key, kind=kind, data=data))
    await emit(session, f"reminder.{kind}", data)
    if manager_id is not None:
        topic, frame = f"agent:{manager_id}", {"type": "reminder", "kind": kind, "data": data}

        async def _push() -> None:
            await publish(topic, frame)

        after_commit(session, _push)
    return True


async def scan_expiring_products(session: AsyncSession, lead_days: list[int],
                                 now: datetime | None = None) -> int:
    """Remind the customer (timeline + event) and the account manager ahead of expiry,
    once per lead time crossed (e.g. 30, 7 and 1 days before)."""
    now = now or utcnow()
    horizon = now + timedelta(days=max(lead_days))
    rows = await session.execute(
        select(ProductHolding, Organisation.account_manager_id)
        .outerjoin(Organisation, Organisation.id == ProductHolding.organisation_id)
        .where(ProductHolding.expires_at > now, ProductHolding.expires_at <= horizon,
               ProductHolding.status == "active"))
    sent = 0
    for product, manager_id in rows:
        assert product.expires_at is not None
        days_left = (product.expires_at - now).total_seconds() / 86400
        lead = min(d for d in lead_days if days_left <= d)
        data = {"product_id": str(product.id), "name": product.name, "lead_days": lead,
                "expires_at": product.expires_at.isoformat(),
                "contact_id": str(product.contact_id) if product.contact_id else None,
                "organisation_id": str(product.organisation_id)
                if product.organisation_id else None}
        if await _remind(session, f"expiry:{product.id}:{lead}", "product_expiring", data,
                         manager_id):
            if product.contact_id is not None:
                add_activity(session, contact_id=product.contact_id, kind="event",
                             source="reminders", external_id=f"expiry:{product.id}:{lead}",
                             type="product.expiring", outcome="info", occurred_at=now,
                             summary=f"{product.name} expires in {lead} days or less",
                             data=data)
            sent += 1
    return sent


async def scan_bookings(session: AsyncSession, lead: timedelta,
                        now: datetime | None = None) -> int:
    now = now or utcnow()
    rows = await session.scalars(select(Booking).where(
        Booking.status == "confirmed", Booking.reminded_at.is_(None),
        and_(Booking.starts_at > now, Booking.starts_at <= now + lead)))
    count = 0
    for booking in rows:
        booking.reminded_at = now
        await _remind(session, f"booking:{booking.id}", "booking", booking_json(booking),
                      booking.manager_id)
        count += 1
    return count


async def get_org(session: AsyncSession, org_id: uuid.UUID) -> Organisation:
    return await get_organisation(session, org_id)
