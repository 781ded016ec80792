"""``seed``: fill an empty, migrated database with a telecom operator's contact centre.

Staff and teams, eight inboxes, enterprise customers with members and products,
individual customers in simplified Chinese, traditional Chinese and English, a month of
conversations on every channel and about 300 business events. The data comes from a
fixed random seed, so it is the same for the same ``now``.

Seeding is idempotent: when the demo admin exists the data is left alone and only a new
admin API token is minted. A database that holds anything else is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.auth.service import do_create_token
from omnidesk.demo.knowledge import write_knowledge
from omnidesk.demo.plan import build_plan
from omnidesk.demo.specs import Plan
from omnidesk.demo.staff import ADMIN_EMAIL, AGENT_KEY, DEMO_PASSWORD, STAFF, TOKEN_NAME
from omnidesk.demo.write_accounts import (
    Written,
    write_contacts,
    write_inboxes,
    write_organisations,
    write_staff,
    write_teams,
)
from omnidesk.demo.write_history import (
    Restamp,
    drop_owed_side_effects,
    outbox_ids,
    write_calls,
    write_conversation,
    write_events,
)
from omnidesk.kit.db import Database
from omnidesk.kit.errors import Conflict
from omnidesk.kit.security import verify_password
from omnidesk.kit.time import utcnow
from omnidesk.models import Contact, Inbox, Organisation, User
from omnidesk.models.enums import Role


class DemoRefused(Conflict):
    """The database already holds data that is not the demo's."""

    type = "demo-refused"
    title = "Demo data refused"


@dataclass(frozen=True)
class DemoLogins:
    """How to get in. ``admin_password`` is None when the demo already existed and the
    password given does not match (it was changed since)."""

    admin_email: str
    admin_password: str | None
    agent_email: str
    agent_password: str
    api_token: str
    created: bool = True
    counts: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        password = self.admin_password or "(unchanged since the demo was created)"
        out = ["omnidesk demo data " + ("created" if self.created else "already present; "
                                          "a new admin API token was minted"),
               f"  admin        {self.admin_email} / {password}",
               f"  agent        {self.agent_email} / {self.agent_password}",
               f"  other staff  {', '.join(s.email for s in STAFF if s.key != AGENT_KEY)}"
               f" (password {DEMO_PASSWORD})",
               f"  API token    {self.api_token}  (admin; shown once)"]
        if self.counts:
            out.append("  data         " + ", ".join(f"{v} {k}" for k, v in self.counts.items()))
        return out


def _agent_email() -> str:
    return next(s.email for s in STAFF if s.key == AGENT_KEY)


async def _mint(session: AsyncSession, admin: User) -> str:
    _, plain = await do_create_token(session, name=TOKEN_NAME, role=Role.admin,
                                     user_id=admin.id)
    return plain


async def _check_empty(session: AsyncSession) -> None:
    found = {}
    for label, model in (("users", User), ("contacts", Contact), ("inboxes", Inbox),
                         ("organisations", Organisation)):
        found[label] = int(await session.scalar(select(func.count()).select_from(model)) or 0)
    if any(found.values()):
        held = ", ".join(f"{n} {label}" for label, n in found.items() if n)
        raise DemoRefused(f"the database already holds data ({held}); demo data is only "
                          "added to an empty database", **found)


async def _write(session: AsyncSession, plan: Plan, admin_password: str,
                 now: datetime) -> tuple[User, dict[str, int]]:
    before = await outbox_ids(session)
    users = await write_staff(session, admin_password)
    teams = await write_teams(session, users)
    inboxes = await write_inboxes(session, teams)
    contacts = await write_contacts(session, plan.persons)
    written = Written(users, teams, inboxes, contacts, {p.key: p for p in plan.persons})
    orgs = await write_organisations(session, plan.organisations, written)
    messages, restamp = 0, Restamp()
    restamp.customers_since(list(contacts.values()), now)
    for conversation in plan.conversations:
        messages += await write_conversation(session, written, conversation, restamp)
    await restamp.apply(session)
    calls = write_calls(written, plan.calls, session)
    events = await write_events(session, plan.events)
    knowledge = await write_knowledge(session, users, now)
    await drop_owed_side_effects(session, before)
    counts = {"users": len(users), "contacts": len(contacts), "organisations": orgs,
              "conversations": len(plan.conversations), "messages": messages,
              "events": events, "calls": calls, "articles": knowledge.articles,
              "intents": knowledge.intents}
    return users["admin"], counts


async def seed(db: Database, *, now: datetime | None = None,
               admin_password: str = "omnidesk-admin") -> DemoLogins:
    """Seed an empty database (or, when the demo is there already, mint a new token)."""
    if now is not None and now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    async with db.transaction() as session:
        admin = await session.scalar(select(User).where(User.email == ADMIN_EMAIL))
        if admin is not None:
            same = verify_password(admin.password_hash, admin_password)
            return DemoLogins(ADMIN_EMAIL, admin_password if same else None, _agent_email(),
                              DEMO_PASSWORD, await _mint(session, admin), created=False)
        await _check_empty(session)
        when = now or utcnow()
        admin, counts = await _write(session, build_plan(when), admin_password, when)
        token = await _mint(session, admin)
    return DemoLogins(ADMIN_EMAIL, admin_password, _agent_email(), DEMO_PASSWORD, token,
                      counts=counts)
