"""Read models for the supervisor's live view: queues per team and channel, agents online
and busy, SLA clocks at risk, escalations waiting for an answer or a review."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from omnidesk.kit.time import utcnow
from omnidesk.models import (
    Case,
    Contact,
    Conversation,
    Escalation,
    Message,
    SlaTarget,
    Team,
    TeamMember,
    User,
)
from omnidesk.models.enums import ConversationStatus, SenderType
from omnidesk.realtime.hub import get_hub


@dataclass
class Queue:
    key: str
    label: str
    open: int = 0
    waiting: int = 0
    oldest: datetime | None = None
    online: int = 0
    busy: int = 0

    def add(self, open_: int, waiting: int, oldest: datetime | None) -> None:
        self.open += open_
        self.waiting += waiting
        if oldest is not None and (self.oldest is None or oldest < self.oldest):
            self.oldest = oldest

    @property
    def longest_wait(self) -> float | None:
        return (utcnow() - self.oldest).total_seconds() if self.oldest else None


@dataclass
class Live:
    teams: list[Queue] = field(default_factory=list)
    channels: list[Queue] = field(default_factory=list)
    longest: list[dict[str, Any]] = field(default_factory=list)
    online: int = 0
    busy: int = 0
    at: datetime = field(default_factory=utcnow)


def _open_with_waiting_since() -> Any:
    """Open conversations with the first customer message not yet answered by an agent
    (``since`` is NULL when the customer is not waiting)."""
    last_agent = (select(func.max(Message.created_at))
                  .where(Message.conversation_id == Conversation.id,
                         Message.sender_type == SenderType.agent, Message.is_note.is_(False))
                  .correlate(Conversation).scalar_subquery())
    inner = (select(Conversation.id, Conversation.team_id, Conversation.channel,
                    Conversation.contact_id, Conversation.assignee_id,
                    last_agent.label("last_agent"))
             .where(Conversation.status == ConversationStatus.open).subquery())
    m = aliased(Message)
    since = (select(func.min(m.created_at))
             .where(m.conversation_id == inner.c.id, m.sender_type == SenderType.contact,
                    or_(inner.c.last_agent.is_(None), m.created_at > inner.c.last_agent))
             .correlate(inner).scalar_subquery())
    return select(inner.c.id, inner.c.team_id, inner.c.channel, inner.c.contact_id,
                  inner.c.assignee_id, since.label("since")).subquery()


async def _agents(session: AsyncSession) -> tuple[set[uuid.UUID], set[uuid.UUID],
                                                  dict[uuid.UUID, set[uuid.UUID]]]:
    """Online users, the busy ones among them, and team → online members."""
    hub = get_hub()
    online: set[uuid.UUID] = set()
    for key in (await hub.online_agents() if hub else set()):
        try:
            online.add(uuid.UUID(key))
        except ValueError:
            continue
    if not online:
        return online, set(), {}
    busy = set(await session.scalars(select(Conversation.assignee_id).where(
        Conversation.status == ConversationStatus.open,
        Conversation.assignee_id.in_(online)).distinct()))
    members: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for team_id, user_id in await session.execute(select(
            TeamMember.team_id, TeamMember.user_id).where(TeamMember.user_id.in_(online))):
        members[team_id].add(user_id)
    return online, {b for b in busy if b is not None}, members


async def live_queues(session: AsyncSession) -> Live:
    """Per team (label "" for conversations without a team) and per channel."""
    q = _open_with_waiting_since()
    rows = await session.execute(
        select(q.c.team_id, q.c.channel, func.count(), func.count(q.c.since), func.min(q.c.since))
        .group_by(q.c.team_id, q.c.channel))
    teams = {t.id: t.name for t in await session.scalars(select(Team).order_by(Team.name))}
    online, busy, members = await _agents(session)
    by_team: dict[uuid.UUID | None, Queue] = {
        tid: Queue(str(tid), name) for tid, name in teams.items()}
    by_team[None] = Queue("", "")
    by_channel: dict[str, Queue] = {}
    for team_id, channel, n_open, n_waiting, oldest in rows:
        by_team.setdefault(team_id, Queue(str(team_id), str(team_id))).add(
            n_open, n_waiting, oldest)
        by_channel.setdefault(channel, Queue(channel, channel)).add(n_open, n_waiting, oldest)
    for team_id, queue in by_team.items():
        online_here = members.get(team_id, set()) if team_id else set()
        queue.online, queue.busy = len(online_here), len(online_here & busy)
    longest = await session.execute(
        select(q.c.id, q.c.channel, q.c.since, Contact.name, User.name)
        .join(Contact, Contact.id == q.c.contact_id)
        .outerjoin(User, User.id == q.c.assignee_id)
        .where(q.c.since.is_not(None)).order_by(q.c.since).limit(10))
    team_rows = [t for t in by_team.values() if t.open or t.online or t.key]
    return Live(
        teams=team_rows, channels=sorted(by_channel.values(), key=lambda c: c.key),
        longest=[{"id": cid, "channel": ch, "since": since, "contact": name,
                  "assignee": assignee} for cid, ch, since, name, assignee in longest],
        online=len(online), busy=len(busy))


async def at_risk(session: AsyncSession, limit: int = 100) -> list[dict[str, Any]]:
    """Running clocks at risk or breached, soonest due first, with what they time."""
    conv_contact = aliased(Contact)
    case_contact = aliased(Contact)
    rows = await session.execute(
        select(SlaTarget, Case.number, Case.subject, case_contact.name, conv_contact.name,
               Conversation.channel)
        .outerjoin(Case, Case.id == SlaTarget.subject_id)
        .outerjoin(case_contact, case_contact.id == Case.contact_id)
        .outerjoin(Conversation, Conversation.id == SlaTarget.subject_id)
        .outerjoin(conv_contact, conv_contact.id == Conversation.contact_id)
        .where(SlaTarget.stopped_at.is_(None), SlaTarget.state.in_(("at_risk", "breached")))
        .order_by(SlaTarget.due_at).limit(limit))
    out = []
    for t, number, subject, case_name, conv_name, channel in rows:
        is_case = t.subject_kind == "case"
        out.append({"t": t, "url": f"/agent/{'cases' if is_case else 'conversations'}/"
                                   f"{t.subject_id}",
                    "label": f"{number} {subject}" if is_case else channel or "",
                    "contact": case_name if is_case else conv_name})
    return out


async def open_escalations(session: AsyncSession, limit: int = 100) -> list[dict[str, Any]]:
    """Escalations waiting for the owner's answer (open) or a review (answered)."""
    rows = await session.execute(
        select(Escalation, Case.number, Case.subject, User.name)
        .join(Case, Case.id == Escalation.case_id)
        .join(User, User.id == Escalation.owner_id)
        .where(Escalation.status.in_(("open", "answered")))
        .order_by(Escalation.deadline_at).limit(limit))
    now = utcnow()
    return [{"e": e, "number": number, "subject": subject, "owner": owner,
             "overdue": e.deadline_at < now} for e, number, subject, owner in rows]
