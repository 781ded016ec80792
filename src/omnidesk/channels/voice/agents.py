"""Who takes a call: the agent the PBX names, else an online agent of the call's team.

"Online" is an agent with the console open (the realtime hub's presence, joined across
processes by Redis). Among the online members of the team the least busy (fewest open
conversations assigned) is offered the call; without a team, any online staff member who
may see the inbox.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.kit.errors import ValidationFailed
from omnidesk.models import Conversation, Inbox, TeamMember, User
from omnidesk.models.enums import ConversationStatus
from omnidesk.realtime.hub import get_hub

ANSWERING_ROLES = ("agent", "supervisor", "admin", "account_manager")


async def resolve_agent(session: AsyncSession, ref: str | None) -> User | None:
    """The active user a PBX names by id or e-mail; None when none is named; 422 when the
    name matches nobody."""
    if not ref:
        return None
    user: User | None
    try:
        user = await session.get(User, uuid.UUID(ref))
    except ValueError:
        user = await session.scalar(select(User).where(func.lower(User.email) == ref.lower()))
    if user is None or not user.is_active:
        raise ValidationFailed(f"agent {ref!r} is not an active user", field="agent")
    return user


async def online_agent_ids() -> set[uuid.UUID]:
    hub = get_hub()
    if hub is None:
        return set()
    out = set()
    for key in await hub.online_agents():
        try:
            out.add(uuid.UUID(key))
        except ValueError:
            continue
    return out


async def _candidates(session: AsyncSession, inbox: Inbox, team_id: uuid.UUID | None,
                      online: set[uuid.UUID]) -> list[uuid.UUID]:
    stmt = select(User.id).where(User.id.in_(online), User.is_active.is_(True),
                                 User.role.in_(ANSWERING_ROLES))
    if team_id is not None:
        stmt = stmt.join(TeamMember, TeamMember.user_id == User.id).where(
            TeamMember.team_id == team_id)
    elif inbox.restricted and inbox.team_id is not None:
        members = select(TeamMember.user_id).where(TeamMember.team_id == inbox.team_id)
        stmt = stmt.where((User.id.in_(members)) | User.role.in_(("admin", "supervisor")))
    return list(await session.scalars(stmt))


async def pick_agent(session: AsyncSession, inbox: Inbox, team_id: uuid.UUID | None,
                     preferred: uuid.UUID | None = None) -> uuid.UUID | None:
    """An online agent for the call, or None when nobody who could take it is online."""
    online = await online_agent_ids()
    if not online:
        return None
    if preferred is not None and preferred in online:
        return preferred
    candidates = await _candidates(session, inbox, team_id, online)
    if not candidates and team_id is not None and team_id != inbox.team_id:
        candidates = await _candidates(session, inbox, inbox.team_id, online)
    if not candidates:
        return None
    load = {user: count for user, count in await session.execute(
        select(Conversation.assignee_id, func.count()).where(
            Conversation.assignee_id.in_(candidates),
            Conversation.status == ConversationStatus.open)
        .group_by(Conversation.assignee_id))}
    return min(candidates, key=lambda u: (load.get(u, 0), str(u)))
