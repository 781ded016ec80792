"""The unified timeline: every channel, every business event, one list per contact."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.kit.web import decode_cursor, encode_cursor
from omnidesk.models import Activity, Conversation, Message
from omnidesk.models.enums import ActivityKind

CONVERSATION_SOURCE = "conversation"
SUMMARY_CHARS = 280


def short(text: str, limit: int = SUMMARY_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def do_touch_conversation(
    session: AsyncSession, conversation: Conversation, message: Message | None
) -> Activity:
    """Keep the conversation's one timeline entry current (messages are grouped)."""
    activity = await session.scalar(select(Activity).where(
        Activity.source == CONVERSATION_SOURCE, Activity.external_id == str(conversation.id)))
    if activity is None:
        activity = Activity(
            contact_id=conversation.contact_id, kind=ActivityKind.conversation,
            channel=conversation.channel, conversation_id=conversation.id,
            source=CONVERSATION_SOURCE, external_id=str(conversation.id),
            type="conversation", outcome="info", occurred_at=conversation.created_at, data={},
        )
        session.add(activity)
    activity.contact_id = conversation.contact_id
    data: dict[str, Any] = {
        "inbox_id": str(conversation.inbox_id), "status": conversation.status,
        "subject": conversation.subject, "message_count": conversation.message_count,
    }
    if message is not None and not message.is_note:
        activity.summary = short(message.body)
        activity.occurred_at = message.created_at
        data["last_sender"] = message.sender_type
    else:
        data["last_sender"] = (activity.data or {}).get("last_sender")
    activity.data = data
    return activity


def add_activity(session: AsyncSession, **fields: Any) -> Activity:
    activity = Activity(**fields)
    session.add(activity)
    return activity


async def list_timeline(
    session: AsyncSession, contact_id: uuid.UUID, *, channels: list[str], kinds: list[str],
    outcome: str | None, limit: int, cursor: str | None,
) -> tuple[list[Activity], str | None]:
    """Newest first, keyset-paginated on (occurred_at, id)."""
    stmt = select(Activity).where(Activity.contact_id == contact_id)
    if channels:
        stmt = stmt.where(Activity.channel.in_(channels))
    if kinds:
        stmt = stmt.where(Activity.kind.in_(kinds))
    if outcome:
        stmt = stmt.where(Activity.outcome == outcome)
    if cursor:
        at_raw, id_raw = decode_cursor(cursor, 2)
        at, after = datetime.fromisoformat(at_raw), uuid.UUID(id_raw)
        stmt = stmt.where(or_(Activity.occurred_at < at,
                              and_(Activity.occurred_at == at, Activity.id < after)))
    stmt = stmt.order_by(Activity.occurred_at.desc(), Activity.id.desc()).limit(limit + 1)
    rows = list(await session.scalars(stmt))
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit and page:
        next_cursor = encode_cursor(page[-1].occurred_at.isoformat(), page[-1].id)
    return page, next_cursor


KINDS = tuple(k.value for k in ActivityKind)
