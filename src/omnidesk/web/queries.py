"""Read models for the console's pages (lists with the names people need to see)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.auth.service import Principal
from omnidesk.models import Attachment, Contact, Conversation, Inbox, Message, Team, User


async def visible_inboxes(session: AsyncSession, principal: Principal) -> list[Inbox]:
    rows = await session.scalars(select(Inbox).order_by(Inbox.name))
    return [i for i in rows if principal.can_see_inbox(i)]


async def conversation_rows(
    session: AsyncSession, principal: Principal, filters: dict[str, str], limit: int = 100,
) -> list[dict[str, Any]]:
    inboxes = {i.id: i for i in await visible_inboxes(session, principal)}
    stmt = (select(Conversation, Contact.name, Contact.vip_level, Contact.tier, User.name)
            .join(Contact, Contact.id == Conversation.contact_id)
            .outerjoin(User, User.id == Conversation.assignee_id)
            .where(Conversation.inbox_id.in_(list(inboxes))))
    status = filters.get("status") or "open"
    if status != "all":
        stmt = stmt.where(Conversation.status == status)
    if filters.get("channel"):
        stmt = stmt.where(Conversation.channel == filters["channel"])
    assignee = filters.get("assignee")
    if assignee == "me" and principal.user_id:
        stmt = stmt.where(Conversation.assignee_id == principal.user_id)
    elif assignee == "unassigned":
        stmt = stmt.where(Conversation.assignee_id.is_(None))
    if filters.get("team"):
        stmt = stmt.where(Conversation.team_id == uuid.UUID(filters["team"]))
    if filters.get("tier"):
        stmt = stmt.where(Contact.tier == filters["tier"])
    if filters.get("sort") == "urgent":
        stmt = stmt.order_by(Conversation.priority.desc(), Conversation.last_message_at.asc())
    else:
        stmt = stmt.order_by(Conversation.last_message_at.desc())
    rows = []
    for conv, name, vip, tier, assignee_name in await session.execute(stmt.limit(limit)):
        rows.append({"c": conv, "contact_name": name, "vip": vip, "tier": tier,
                     "assignee": assignee_name, "inbox": inboxes[conv.inbox_id]})
    return rows


async def status_counts(session: AsyncSession, principal: Principal) -> dict[str, int]:
    ids = [i.id for i in await visible_inboxes(session, principal)]
    rows = await session.execute(select(Conversation.status, func.count()).where(
        Conversation.inbox_id.in_(ids)).group_by(Conversation.status))
    return {status: int(n) for status, n in rows}


async def thread(session: AsyncSession, conversation_id: uuid.UUID) -> list[dict[str, Any]]:
    messages = list(await session.scalars(select(Message).where(
        Message.conversation_id == conversation_id).order_by(Message.seq)))
    atts: dict[uuid.UUID, list[Attachment]] = {}
    if messages:
        for a in await session.scalars(select(Attachment).where(
                Attachment.message_id.in_([m.id for m in messages]))):
            if a.message_id is not None:
                atts.setdefault(a.message_id, []).append(a)
    return [{"m": m, "attachments": atts.get(m.id, [])} for m in messages]


async def agents_and_teams(session: AsyncSession) -> tuple[list[User], list[Team]]:
    users = list(await session.scalars(select(User).where(User.is_active).order_by(User.name)))
    teams = list(await session.scalars(select(Team).order_by(Team.name)))
    return users, teams
