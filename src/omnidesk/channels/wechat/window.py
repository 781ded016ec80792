"""WeChat's 48-hour reply window: the customer-service API may message a follower only
within 48 hours of that follower's last message to the account."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.kit.time import utcnow
from omnidesk.models import Conversation, Message
from omnidesk.models.enums import SenderType

REPLY_WINDOW = timedelta(hours=48)
OUTSIDE_WINDOW = "outside WeChat's 48-hour reply window"


def window_ends(last_inbound_at: datetime | None) -> datetime | None:
    return None if last_inbound_at is None else last_inbound_at + REPLY_WINDOW


def is_open(last_inbound_at: datetime | None, now: datetime | None = None) -> bool:
    ends = window_ends(last_inbound_at)
    return ends is not None and (now or utcnow()) < ends


async def last_inbound_at(session: AsyncSession, inbox_id: uuid.UUID,
                          contact_id: uuid.UUID) -> datetime | None:
    """When the customer last wrote to this account (any of its conversations)."""
    return await session.scalar(
        select(func.max(Message.created_at))
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.inbox_id == inbox_id, Conversation.contact_id == contact_id,
               Message.sender_type == SenderType.contact))


def window_json(last: datetime | None, now: datetime | None = None) -> dict[str, Any]:
    ends = window_ends(last)
    return {"last_inbound_at": last.isoformat() if last else None,
            "reply_window_ends_at": ends.isoformat() if ends else None,
            "open": is_open(last, now)}
