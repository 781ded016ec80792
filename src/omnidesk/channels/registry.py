"""Outbound delivery: a reply on a channel that is not a websocket is handed to that
channel's adapter by an outbox handler, retried until the adapter succeeds."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.kit.db import Database
from omnidesk.kit.outbox import register
from omnidesk.kit.time import utcnow
from omnidesk.models import (
    Attachment,
    Contact,
    Conversation,
    Identity,
    Inbox,
    Message,
    OutboxItem,
)

HANDLER = "channels.deliver"
OUTBOUND_SENDERS = {"agent", "bot", "system"}


@dataclass
class Outbound:
    """Everything an adapter needs to send one message."""

    inbox: Inbox
    conversation: Conversation
    message: Message
    identities: dict[str, str]
    attachments: list[Attachment]
    parent_external_ids: list[str]  # earlier messages' channel ids (e-mail threading)
    # The customer's last message on this inbox (any conversation): reply windows (WeChat's
    # 48 hours) count from it, and it names the address the customer used on this inbox.
    last_inbound: Message | None = None
    contact: Contact | None = None  # consent (SMS opt-out) and preferences


@dataclass
class DeliveryResult:
    status: str  # sent | failed (failed: permanent, e.g. outside WeChat's 48-hour window)
    external_id: str | None = None
    detail: str | None = None


class OutboundAdapter(Protocol):
    channel: str

    async def deliver(self, out: Outbound) -> DeliveryResult:
        """Send; raise for a temporary failure (the outbox retries)."""
        ...


_ADAPTERS: dict[str, OutboundAdapter] = {}


def register_adapter(adapter: OutboundAdapter) -> None:
    _ADAPTERS[adapter.channel] = adapter


async def _wants(_: AsyncSession, event: str, payload: dict[str, Any]) -> bool:
    message = payload.get("message") or {}
    return (event == "message.created" and not message.get("is_note")
            and message.get("sender_type") in OUTBOUND_SENDERS
            and message.get("channel") in _ADAPTERS)


async def _load(session: AsyncSession, message_id: uuid.UUID) -> Outbound | None:
    message = await session.get(Message, message_id)
    if message is None or message.delivery_status == "sent":
        return None
    conversation = await session.get(Conversation, message.conversation_id)
    assert conversation is not None
    inbox = await session.get(Inbox, conversation.inbox_id)
    assert inbox is not None
    identities = {i.kind: i.value for i in await session.scalars(
        select(Identity).where(Identity.contact_id == conversation.contact_id))}
    attachments = list(await session.scalars(
        select(Attachment).where(Attachment.message_id == message.id)))
    parents = [e for e in await session.scalars(
        select(Message.external_id).where(Message.conversation_id == conversation.id,
                                          Message.seq < message.seq,
                                          Message.external_id.is_not(None))
        .order_by(Message.seq)) if e]
    last_inbound = await session.scalar(
        select(Message).join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.inbox_id == inbox.id,
               Conversation.contact_id == conversation.contact_id,
               Message.sender_type == "contact")
        .order_by(Message.created_at.desc()).limit(1))
    return Outbound(inbox, conversation, message, identities, attachments, parents,
                    last_inbound, await session.get(Contact, conversation.contact_id))


async def deliver(db: Database, item: OutboxItem) -> None:
    message_id = uuid.UUID(item.payload["message"]["id"])
    async with db.transaction() as session:
        out = await _load(session, message_id)
    if out is None:
        return
    adapter = _ADAPTERS[out.inbox.channel]
    result = await adapter.deliver(out)
    async with db.transaction() as session:
        message = await session.get(Message, message_id)
        if message is not None:
            message.delivery_status = result.status
            message.data = {**message.data, "delivery": {
                "status": result.status, "external_id": result.external_id,
                "detail": result.detail, "at": utcnow().isoformat()}}
            if result.external_id and not message.external_id:
                message.external_id = result.external_id


def install() -> None:
    register(HANDLER, deliver, events={"message.created"}, selector=_wants)
