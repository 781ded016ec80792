"""The one contract between the outside world and omnidesk.

A channel adapter verifies and parses what arrives (a webhook, an SMTP session, a
websocket frame, a PBX event), turns it into an :class:`InboundMessage` and hands it to
``inbox.receive`` (``omnidesk.conversations.service.receive``), which does everything
else in one transaction. Outbound, an adapter implements :class:`ChannelAdapter.deliver`
for the messages that agents and the bot send on its channel.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.models import Conversation, Inbox, Message


@dataclass
class InboundMessage:
    """A message from a customer, as any channel adapter delivers it."""

    inbox_id: uuid.UUID
    identities: dict[str, str]
    body: str
    external_id: str | None = None  # the channel's message id: a retry is stored once
    contact_name: str | None = None
    subject: str | None = None
    thread_keys: list[str] = field(default_factory=list)  # e.g. e-mail References
    conversation_id: uuid.UUID | None = None
    new_conversation: bool = False
    attachment_ids: list[uuid.UUID] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    sent_at: datetime | None = None


@dataclass
class Received:
    message: Message
    conversation: Conversation
    contact_id: uuid.UUID
    duplicate: bool = False
    conversation_created: bool = False


class ChannelAdapter(Protocol):
    channel: str

    async def deliver(
        self, session: AsyncSession, inbox: Inbox, conversation: Conversation, message: Message
    ) -> str:
        """Send an outbound message on the channel; returns the delivery status."""
        ...
