"""Contacts, identities and merges: one person, however they reach us."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Column, Table, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.customers.identities import normalize_identity
from omnidesk.customers.schemas import ContactCreate, ContactUpdate
from omnidesk.kit.db import json_array_contains
from omnidesk.kit.errors import BadRequest, Conflict, NotFound, ValidationFailed
from omnidesk.kit.text import search_key
from omnidesk.kit.time import utcnow
from omnidesk.kit.web import decode_cursor, encode_cursor
from omnidesk.models import Base, Contact, ContactMerge, Identity, Membership

# Tables whose rows follow a contact when it is merged into another (identities and
# memberships are handled on their own because of their unique constraints).
_SPECIAL = {"identities", "memberships", "contact_merges", "contacts"}


async def get_contact(session: AsyncSession, contact_id: uuid.UUID) -> Contact:
    """The contact, following merges to the surviving record."""
    contact = await session.get(Contact, contact_id)
    seen = set()
    while contact is not None and contact.merged_into_id is not None:
        if contact.id in seen:
            break
        seen.add(contact.id)
        contact = await session.get(Contact, contact.merged_into_id)
    if contact is None:
        raise NotFound(f"contact {contact_id} not found")
    return contact


async def list_identities(session: AsyncSession, contact_id: uuid.UUID) -> list[Identity]:
    rows = await session.scalars(
        select(Identity).where(Identity.contact_id == contact_id).order_by(Identity.created_at)
    )
    return list(rows)


async def find_contact_by_identity(
    session: AsyncSession, kind: str, value: str
) -> Contact | None:
    contact_id = await session.scalar(
        select(Identity.contact_id).where(Identity.kind == kind, Identity.value == value)
    )
    return None if contact_id is None else await get_contact(session, contact_id)


def canonical_identities(ids: Mapping[str, object], region: str) -> dict[str, str]:
    if not ids:
        raise BadRequest("name at least one identity (phone, email, app_user_id, ...)")
    return {kind: normalize_identity(kind, value, region) for kind, value in ids.items()}


async def _insert_identity(
    session: AsyncSession, contact_id: uuid.UUID, kind: str, value: str
) -> bool:
    """Insert in a savepoint; False when another transaction holds it already."""
    try:
        async with session.begin_nested():
            session.add(Identity(contact_id=contact_id, kind=kind, value=value))
    except IntegrityError:
        return False
    return True


async def resolve_contact(
    session: AsyncSession, ids: Mapping[str, str], *, name: str | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> tuple[Contact, bool]:
    """Find the contact holding any of the (canonical) identities, or create one.

    Identities the contact does not hold yet and nobody else holds are attached. Two
    identities held by two different contacts are left alone (merging is a decision).
    """
    for kind, value in ids.items():
        found = await find_contact_by_identity(session, kind, value)
        if found is not None:
            await _attach_free(session, found, ids)
            if name and not found.name:
                found.name, found.search_key = name, search_key(name)
            return found, False
    contact = Contact(name=name, search_key=search_key(name or ""), **dict(defaults or {}))
    session.add(contact)
    await session.flush()
    for kind, value in ids.items():
        if not await _insert_identity(session, contact.id, kind, value):
            # Lost a race: someone created this person a moment ago. Use theirs.
            existing = await find_contact_by_identity(session, kind, value)
            if existing is not None:
                await session.delete(contact)
                await session.flush()
                await _attach_free(session, existing, ids)
                return existing, False
    return contact, True


async def _attach_free(session: AsyncSession, contact: Contact, ids: Mapping[str, str]) -> None:
    for kind, value in ids.items():
        holder = await session.scalar(
            select(Identity.contact_id).where(Identity.kind == kind, Identity.value == value)
        )
        if holder is None:
            await _insert_identity(session, contact.id, kind, value)


async def do_create_contact(session: AsyncSession, data: ContactCreate, region: str) -> Contact:
    ids = [(i.kind, normalize_identity(i.kind, i.value, region)) for i in data.identities]
    for kind, value in ids:
        holder = await find_contact_by_identity(session, kind, value)
        if holder is not None:
            raise Conflict(f"identity {kind}={value} belongs to contact {holder.id}",
                           contact_id=str(holder.id))
    fields = data.model_dump(exclude={"identities"})
    contact = Contact(**fields, search_key=search_key(data.name or ""))
    session.add(contact)
    await session.flush()
    for kind, value in ids:
        if not await _insert_identity(session, contact.id, kind, value):
            raise Conflict(f"identity {kind}={value} was just taken by another contact")
    return contact


async def do_update_contact(
    session: AsyncSession, contact_id: uuid.UUID, data: ContactUpdate
) -> Contact:
    contact = await get_contact(session, contact_id)
    for key, value in data.model_dump(exclude_unset=True).items():
        setattr(contact, key, value)
    if "name" in data.model_fields_set:
        contact.search_key = search_key(contact.name or "")
    contact.updated_at = utcnow()
    await session.flush()
    return contact


async def do_add_identity(
    session: AsyncSession, contact_id: uuid.UUID, kind: str, value: str, *, merge: bool,
    region: str, actor: str,
) -> Identity:
    contact = await get_contact(session, contact_id)
    value = normalize_identity(kind, value, region)
    existing = await session.scalar(
        select(Identity).where(Identity.kind == kind, Identity.value == value)
    )
    if existing is not None:
        holder = await get_contact(session, existing.contact_id)
        if holder.id == contact.id:
            return existing
        if not merge:
            raise Conflict(
                f"identity {kind}={value} belongs to contact {holder.id}; "
                "send merge=true to merge that contact into this one",
                contact_id=str(holder.id),
            )
        await do_merge(session, contact.id, holder.id, actor=actor,
                       reason=f"identity {kind}={value} added with merge")
        await session.refresh(existing)
        return existing
    identity = Identity(contact_id=contact.id, kind=kind, value=value)
    session.add(identity)
    await session.flush()
    return identity


async def do_remove_identity(
    session: AsyncSession, contact_id: uuid.UUID, identity_id: uuid.UUID
) -> None:
    contact = await get_contact(session, contact_id)
    identity = await session.get(Identity, identity_id)
    if identity is None or identity.contact_id != contact.id:
        raise NotFound("identity not found on this contact")
    await session.delete(identity)


def _contact_tables() -> list[tuple[Table, Column[Any]]]:
    out = []
    for table in Base.metadata.sorted_tables:
        if table.name in _SPECIAL or "contact_id" not in table.c:
            continue
        out.append((table, table.c.contact_id))
    return out


async def do_merge(
    session: AsyncSession, target_id: uuid.UUID, source_id: uuid.UUID, *, actor: str,
    reason: str | None = None,
) -> ContactMerge:
    """Merge ``source`` into ``target``: identities, timeline, conversations, cases,
    memberships and products move; the source stays as a pointer; the merge is recorded."""
    target = await get_contact(session, target_id)
    source = await get_contact(session, source_id)
    if target.id == source.id:
        raise Conflict("a contact cannot be merged into itself")
    moved: dict[str, int] = {}
    result = await session.execute(
        update(Identity).where(Identity.contact_id == source.id).values(contact_id=target.id)
    )
    moved["identities"] = result.rowcount  # type: ignore[attr-defined]
    moved["memberships"] = await _merge_memberships(session, target.id, source.id)
    for table, column in _contact_tables():
        result = await session.execute(
            update(table).where(column == source.id).values(contact_id=target.id)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            moved[table.name] = result.rowcount  # type: ignore[attr-defined]
    target.tags = sorted(set(target.tags) | set(source.tags))
    target.attributes = {**source.attributes, **target.attributes}
    target.name = target.name or source.name
    target.search_key = search_key(target.name or "")
    if source.vip_level is not None:
        target.vip_level = max(target.vip_level or 0, source.vip_level)
    target.tier = target.tier or source.tier
    source.merged_into_id = target.id
    await session.execute(
        update(Contact).where(Contact.merged_into_id == source.id).values(merged_into_id=target.id)
    )
    record = ContactMerge(source_contact_id=source.id, target_contact_id=target.id,
                          merged_by=actor, reason=reason, moved=moved)
    session.add(record)
    await session.flush()
    return record


async def _merge_memberships(
    session: AsyncSession, target_id: uuid.UUID, source_id: uuid.UUID
) -> int:
    have = set(await session.scalars(
        select(Membership.organisation_id).where(Membership.contact_id == target_id)
    ))
    await session.execute(
        delete(Membership).where(
            Membership.contact_id == source_id, Membership.organisation_id.in_(have)
        )
    )
    result = await session.execute(
        update(Membership).where(Membership.contact_id == source_id).values(contact_id=target_id)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def search_contacts(
    session: AsyncSession, *, q: str | None, tag: str | None, tier: str | None,
    organisation_id: uuid.UUID | None, limit: int, cursor: str | None, region: str,
) -> tuple[list[Contact], str | None]:
    stmt = select(Contact).where(Contact.merged_into_id.is_(None))
    if q:
        stmt = stmt.where(or_(*_match_query(q, region)))
    if tier:
        stmt = stmt.where(Contact.tier == tier)
    if organisation_id:
        stmt = stmt.where(Contact.id.in_(
            select(Membership.contact_id).where(Membership.organisation_id == organisation_id)
        ))
    if cursor:
        (after,) = decode_cursor(cursor, 1)
        stmt = stmt.where(Contact.id < uuid.UUID(after))
    if tag:
        dialect = session.get_bind().dialect.name
        stmt = stmt.where(json_array_contains(dialect, Contact.tags, tag))
    rows = list(await session.scalars(stmt.order_by(Contact.id.desc()).limit(limit + 1)))
    page = rows[:limit]
    next_cursor = encode_cursor(page[-1].id) if len(rows) > limit and page else None
    return page, next_cursor


def _match_query(q: str, region: str) -> list[Any]:
    key = search_key(q)
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    clauses: list[Any] = [Contact.search_key.like(f"%{escaped}%", escape="\\")]
    values = {q.strip(), q.strip().lower()}
    for kind in ("phone", "email"):
        try:
            values.add(normalize_identity(kind, q, region))
        except ValidationFailed:  # not that kind of identity; match by name only
            continue
    clauses.append(Contact.id.in_(select(Identity.contact_id).where(Identity.value.in_(values))))
    return clauses
