"""REST API for contacts, identities, merges, products and organisations."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy import select

from omnidesk.auth.deps import ReadContacts, WriteContacts
from omnidesk.config import get_settings
from omnidesk.customers import organisations as orgs
from omnidesk.customers import service
from omnidesk.customers.schemas import (
    ContactCreate,
    ContactRead,
    ContactUpdate,
    IdentityAdd,
    IdentityRead,
    MemberIn,
    MemberRead,
    MergeIn,
    MergeRead,
    OrganisationCreate,
    OrganisationRead,
    OrganisationUpdate,
    Page,
    ProductIn,
    ProductRead,
)
from omnidesk.kit.idempotency import once
from omnidesk.kit.web import SessionDep
from omnidesk.models import Contact, ContactMerge

router = APIRouter(prefix="/api/v1", tags=["customers"])


async def _read(session: SessionDep, contact: Contact) -> ContactRead:
    out = ContactRead.model_validate(contact)
    out.identities = [IdentityRead.model_validate(i)
                      for i in await service.list_identities(session, contact.id)]
    return out


@router.post("/contacts", status_code=201, response_model=ContactRead)
async def create_contact(
    body: ContactCreate, request: Request, session: SessionDep, principal: WriteContacts,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> Any:
    """Create a contact (a retry with the same ``Idempotency-Key`` creates nothing)."""

    async def create() -> ContactRead:
        region = get_settings().default_region
        return await _read(session, await service.do_create_contact(session, body, region))

    return await once(session, principal.label, idempotency_key, request.url.path, body,
                      create)


@router.get("/contacts", response_model=Page[ContactRead])
async def search_contacts(
    session: SessionDep, _: ReadContacts, q: str | None = Query(None, max_length=200),
    tag: str | None = None, tier: str | None = None, organisation_id: uuid.UUID | None = None,
    limit: int = Query(25, ge=1, le=200), cursor: str | None = None,
) -> Page[ContactRead]:
    rows, next_cursor = await service.search_contacts(
        session, q=q, tag=tag, tier=tier, organisation_id=organisation_id, limit=limit,
        cursor=cursor, region=get_settings().default_region)
    return Page(items=[await _read(session, c) for c in rows], next_cursor=next_cursor)


@router.get("/contacts/{contact_id}", response_model=ContactRead)
async def get_contact(contact_id: uuid.UUID, session: SessionDep,
                      _: ReadContacts) -> ContactRead:
    return await _read(session, await service.get_contact(session, contact_id))


@router.patch("/contacts/{contact_id}", response_model=ContactRead)
async def update_contact(contact_id: uuid.UUID, body: ContactUpdate, session: SessionDep,
                         _: WriteContacts) -> ContactRead:
    return await _read(session, await service.do_update_contact(session, contact_id, body))


@router.post("/contacts/{contact_id}/identities", status_code=201, response_model=IdentityRead)
async def add_identity(contact_id: uuid.UUID, body: IdentityAdd, session: SessionDep,
                       principal: WriteContacts) -> IdentityRead:
    identity = await service.do_add_identity(
        session, contact_id, body.kind, body.value, merge=body.merge,
        region=get_settings().default_region, actor=principal.label)
    return IdentityRead.model_validate(identity)


@router.delete("/contacts/{contact_id}/identities/{identity_id}", status_code=204)
async def remove_identity(contact_id: uuid.UUID, identity_id: uuid.UUID, session: SessionDep,
                          _: WriteContacts) -> Response:
    await service.do_remove_identity(session, contact_id, identity_id)
    return Response(status_code=204)


@router.post("/contacts/{contact_id}/merge", status_code=201, response_model=MergeRead)
async def merge_contacts(contact_id: uuid.UUID, body: MergeIn, session: SessionDep,
                         principal: WriteContacts) -> ContactMerge:
    return await service.do_merge(session, contact_id, body.source_contact_id,
                                  actor=principal.label, reason=body.reason)


@router.get("/contacts/{contact_id}/merges", response_model=list[MergeRead])
async def list_merges(contact_id: uuid.UUID, session: SessionDep,
                      _: ReadContacts) -> list[ContactMerge]:
    contact = await service.get_contact(session, contact_id)
    rows = await session.scalars(select(ContactMerge).where(
        ContactMerge.target_contact_id == contact.id).order_by(ContactMerge.created_at))
    return list(rows)


@router.post("/contacts/{contact_id}/products", status_code=201, response_model=ProductRead)
async def add_product(contact_id: uuid.UUID, body: ProductIn, session: SessionDep,
                      _: WriteContacts) -> ProductRead:
    return ProductRead.model_validate(await orgs.do_add_product(session, contact_id, body))


@router.get("/contacts/{contact_id}/products", response_model=list[ProductRead])
async def list_products(contact_id: uuid.UUID, session: SessionDep,
                        _: ReadContacts) -> list[ProductRead]:
    contact = await service.get_contact(session, contact_id)
    return [ProductRead.model_validate(p) for p in await orgs.list_products(session, contact.id)]


@router.post("/organisations", status_code=201, response_model=OrganisationRead)
async def create_organisation(
    body: OrganisationCreate, request: Request, session: SessionDep, principal: WriteContacts,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> Any:

    async def create() -> OrganisationRead:
        return OrganisationRead.model_validate(await orgs.do_create_organisation(session, body))

    return await once(session, principal.label, idempotency_key, request.url.path, body,
                      create)


@router.get("/organisations", response_model=Page[OrganisationRead])
async def list_organisations(
    session: SessionDep, _: ReadContacts, q: str | None = Query(None, max_length=200),
    tier: str | None = None, account_manager_id: uuid.UUID | None = None,
    limit: int = Query(25, ge=1, le=200), cursor: str | None = None,
) -> Page[OrganisationRead]:
    rows, next_cursor = await orgs.list_organisations(
        session, q=q, tier=tier, account_manager_id=account_manager_id, limit=limit,
        cursor=cursor)
    return Page(items=[OrganisationRead.model_validate(o) for o in rows],
                next_cursor=next_cursor)


@router.get("/organisations/{org_id}", response_model=OrganisationRead)
async def get_organisation(org_id: uuid.UUID, session: SessionDep,
                           _: ReadContacts) -> OrganisationRead:
    return OrganisationRead.model_validate(await orgs.get_organisation(session, org_id))


@router.patch("/organisations/{org_id}", response_model=OrganisationRead)
async def update_organisation(org_id: uuid.UUID, body: OrganisationUpdate, session: SessionDep,
                              _: WriteContacts) -> OrganisationRead:
    return OrganisationRead.model_validate(
        await orgs.do_update_organisation(session, org_id, body))


@router.get("/organisations/{org_id}/members", response_model=list[MemberRead])
async def list_members(org_id: uuid.UUID, session: SessionDep,
                       _: ReadContacts) -> list[MemberRead]:
    out = []
    for member, name in await orgs.list_members(session, org_id):
        read = MemberRead.model_validate(member)
        read.contact_name = name
        out.append(read)
    return out


@router.post("/organisations/{org_id}/members", status_code=201, response_model=MemberRead)
async def add_member(org_id: uuid.UUID, body: MemberIn, session: SessionDep,
                     _: WriteContacts) -> MemberRead:
    return MemberRead.model_validate(await orgs.do_add_member(session, org_id, body))


@router.delete("/organisations/{org_id}/members/{contact_id}", status_code=204)
async def remove_member(org_id: uuid.UUID, contact_id: uuid.UUID, session: SessionDep,
                        _: WriteContacts) -> Response:
    await orgs.do_remove_member(session, org_id, contact_id)
    return Response(status_code=204)
