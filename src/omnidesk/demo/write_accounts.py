"""Writes staff, teams, inboxes, contacts, organisations and products through the
services, so that the data is what the product itself would have stored."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.auth.service import check_role, do_create_team, do_create_user
from omnidesk.customers.organisations import (
    do_add_member,
    do_add_product,
    do_create_organisation,
)
from omnidesk.customers.schemas import (
    ContactCreate,
    IdentityIn,
    MemberIn,
    OrganisationCreate,
    ProductIn,
)
from omnidesk.customers.service import do_create_contact
from omnidesk.demo.specs import OrgSpec, PersonSpec, ProductSpec
from omnidesk.demo.staff import (
    ADMIN_EMAIL,
    AGENT_KEY,
    DEMO_PASSWORD,
    ENTERPRISE,
    INBOXES,
    STAFF,
    TEAMS,
)
from omnidesk.models import Contact, Inbox, Team, User
from omnidesk.models.enums import OrgTier, Role

REGION = "CN"
GREEN_TIERS = (OrgTier.strategic, OrgTier.key)


@dataclass
class Written:
    """What has been stored so far, by the plan's keys."""

    users: dict[str, User]
    teams: dict[str, Team]
    inboxes: dict[str, Inbox]
    contacts: dict[str, Contact]  # held here so that the session does not reload them
    persons: dict[str, PersonSpec]


async def write_staff(session: AsyncSession, admin_password: str) -> dict[str, User]:
    """The admin and one agent through ``do_create_user``; the other demo users share
    that agent's password hash (Argon2 takes about half a second per hash, and every demo
    user has the same published password anyway)."""
    users = {"admin": await do_create_user(session, email=ADMIN_EMAIL, name="系统管理员",
                                           password=admin_password, role=Role.admin)}
    agent = next(s for s in STAFF if s.key == AGENT_KEY)
    users[agent.key] = await do_create_user(session, email=agent.email, name=agent.name,
                                            password=DEMO_PASSWORD, role=agent.role,
                                            locale=agent.locale)
    for spec in STAFF:
        if spec.key not in users:
            user = User(email=spec.email, name=spec.name, role=check_role(spec.role),
                        password_hash=users[AGENT_KEY].password_hash, locale=spec.locale)
            session.add(user)
            users[spec.key] = user
    await session.flush()
    return users


async def write_teams(session: AsyncSession, users: dict[str, User]) -> dict[str, Team]:
    return {name: await do_create_team(session, name, [users[key].id for key in members])
            for name, members in TEAMS.items()}


async def write_inboxes(session: AsyncSession, teams: dict[str, Team]) -> dict[str, Inbox]:
    """Inboxes have no service of their own (the admin endpoint stores them as given)."""
    inboxes = {}
    for spec in INBOXES:
        inbox = Inbox(channel=spec.channel, name=spec.name, config=dict(spec.config),
                      team_id=teams[spec.team].id if spec.team else None,
                      restricted=spec.restricted)
        session.add(inbox)
        inboxes[spec.key] = inbox
    await session.flush()
    return inboxes


def _product_in(p: ProductSpec, organisation_id: uuid.UUID | None = None) -> ProductIn:
    return ProductIn(product_code=p.code, name=p.name, status=p.status,
                     started_at=p.started_at, expires_at=p.expires_at,
                     organisation_id=organisation_id, attributes=dict(p.attributes))


async def write_contacts(session: AsyncSession,
                         persons: list[PersonSpec]) -> dict[str, Contact]:
    ids = {}
    for person in persons:
        contact = await do_create_contact(session, ContactCreate(
            name=person.name, locale=person.locale, timezone=person.timezone,
            vip_level=person.vip_level, tags=list(person.tags),
            attributes=dict(person.attributes),
            identities=[IdentityIn(kind=k, value=v) for k, v in person.identities()],
        ), REGION)
        for product in person.products:
            await do_add_product(session, contact.id, _product_in(product))
        ids[person.key] = contact
    return ids


async def write_organisations(session: AsyncSession, orgs: list[OrgSpec],
                              written: Written) -> int:
    enterprise = written.teams[ENTERPRISE]
    for spec in orgs:
        org = await do_create_organisation(session, OrganisationCreate(
            name=spec.name, tier=OrgTier(spec.tier),
            account_manager_id=written.users[spec.manager].id if spec.manager else None,
            billing_mode=spec.billing_mode,
            account_team_id=enterprise.id if spec.tier in GREEN_TIERS else None,
            external_id=f"CRM-{spec.key.upper()}", attributes=dict(spec.attributes),
            tags=list(spec.tags)))
        for member in spec.members:
            await do_add_member(session, org.id, MemberIn(
                contact_id=written.contacts[member.person_key].id, role=member.role,
                title=member.title))
        holder = written.contacts[spec.members[0].person_key].id
        for product in spec.products:
            await do_add_product(session, holder, _product_in(product, org.id))
    return len(orgs)
