"""Organisations (enterprise / "group" customers), their members and products held."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.customers.schemas import (
    MemberIn,
    OrganisationCreate,
    OrganisationUpdate,
    ProductIn,
)
from omnidesk.customers.service import get_contact
from omnidesk.kit.errors import Conflict, NotFound, ValidationFailed
from omnidesk.kit.text import search_key
from omnidesk.kit.time import utcnow
from omnidesk.kit.web import decode_cursor, encode_cursor
from omnidesk.models import Contact, Membership, Organisation, ProductHolding, User


async def get_organisation(session: AsyncSession, org_id: uuid.UUID) -> Organisation:
    org = await session.get(Organisation, org_id)
    if org is None:
        raise NotFound(f"organisation {org_id} not found")
    return org


async def _check_manager(session: AsyncSession, user_id: uuid.UUID | None) -> None:
    if user_id is not None and await session.get(User, user_id) is None:
        raise ValidationFailed(f"account manager {user_id} is not a user",
                               field="account_manager_id")


async def do_create_organisation(session: AsyncSession, data: OrganisationCreate) -> Organisation:
    await _check_manager(session, data.account_manager_id)
    if data.external_id and await session.scalar(
        select(Organisation.id).where(Organisation.external_id == data.external_id)
    ):
        raise Conflict(f"an organisation with external_id {data.external_id!r} exists")
    org = Organisation(**data.model_dump(), search_key=search_key(data.name))
    session.add(org)
    await session.flush()
    return org


async def do_update_organisation(
    session: AsyncSession, org_id: uuid.UUID, data: OrganisationUpdate
) -> Organisation:
    org = await get_organisation(session, org_id)
    changes = data.model_dump(exclude_unset=True)
    if "account_manager_id" in changes:
        await _check_manager(session, data.account_manager_id)
    for key, value in changes.items():
        setattr(org, key, value)
    org.search_key = search_key(org.name)
    org.updated_at = utcnow()
    await session.flush()
    return org


async def list_organisations(
    session: AsyncSession, *, q: str | None, tier: str | None,
    account_manager_id: uuid.UUID | None, limit: int, cursor: str | None,
) -> tuple[list[Organisation], str | None]:
    stmt = select(Organisation)
    if q:
        key = search_key(q).replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Organisation.search_key.like(f"%{key}%", escape="\\"))
    if tier:
        stmt = stmt.where(Organisation.tier == tier)
    if account_manager_id:
        stmt = stmt.where(Organisation.account_manager_id == account_manager_id)
    if cursor:
        (after,) = decode_cursor(cursor, 1)
        stmt = stmt.where(Organisation.id < uuid.UUID(after))
    rows = list(await session.scalars(stmt.order_by(Organisation.id.desc()).limit(limit + 1)))
    page = rows[:limit]
    return page, (encode_cursor(page[-1].id) if len(rows) > limit and page else None)


async def do_add_member(session: AsyncSession, org_id: uuid.UUID, data: MemberIn) -> Membership:
    org = await get_organisation(session, org_id)
    contact = await get_contact(session, data.contact_id)
    member = await session.scalar(select(Membership).where(
        Membership.organisation_id == org.id, Membership.contact_id == contact.id))
    if member is None:
        member = Membership(organisation_id=org.id, contact_id=contact.id)
        session.add(member)
    member.role, member.title = data.role, data.title
    await session.flush()
    return member


async def do_remove_member(session: AsyncSession, org_id: uuid.UUID, contact_id: uuid.UUID) -> None:
    member = await session.scalar(select(Membership).where(
        Membership.organisation_id == org_id, Membership.contact_id == contact_id))
    if member is None:
        raise NotFound("this contact is not a member of this organisation")
    await session.delete(member)


async def list_members(
    session: AsyncSession, org_id: uuid.UUID
) -> list[tuple[Membership, str | None]]:
    await get_organisation(session, org_id)
    rows = await session.execute(
        select(Membership, Contact.name).join(Contact, Contact.id == Membership.contact_id)
        .where(Membership.organisation_id == org_id).order_by(Membership.created_at)
    )
    return [(m, name) for m, name in rows]


async def do_add_product(
    session: AsyncSession, contact_id: uuid.UUID, data: ProductIn
) -> ProductHolding:
    contact = await get_contact(session, contact_id)
    if data.organisation_id:
        await get_organisation(session, data.organisation_id)
    product = ProductHolding(contact_id=contact.id, **data.model_dump())
    session.add(product)
    await session.flush()
    return product


async def list_products(session: AsyncSession, contact_id: uuid.UUID) -> list[ProductHolding]:
    rows = await session.scalars(
        select(ProductHolding).where(ProductHolding.contact_id == contact_id)
        .order_by(ProductHolding.expires_at)
    )
    return list(rows)
