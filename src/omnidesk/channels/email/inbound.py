"""A parsed mail stored on the one path (``inbox.receive``).

The sender's address is the contact's ``email`` identity (display name → contact name);
the Message-ID is the message's ``external_id`` (a mail delivered twice — an SMTP retry,
an IMAP re-poll, two recipients on one inbox — is stored once); the conversation is
found by :mod:`.threads`. What the customer wrote now is the body; the whole text,
quoted history, signature, sanitised HTML and headers are kept in ``data["email"]``.
Bounces that name one of our messages mark it failed and leave an internal note.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.channels.base import InboundMessage
from omnidesk.channels.email import autoreply, threads
from omnidesk.channels.email.config import EmailConfig
from omnidesk.channels.email.mime import ParsedMail
from omnidesk.channels.email.noise import automatic
from omnidesk.channels.email.store import store_parts
from omnidesk.config import Settings
from omnidesk.conversations.service import MAX_BODY, receive, reply
from omnidesk.kit.time import utcnow
from omnidesk.models import Conversation, Inbox, Message

MAX_TEXT = 100_000  # the whole text kept in data (the body is capped at MAX_BODY)
_PREFIX = re.compile(
    r"^\s*((re|fw|fwd|aw|wg|sv|vs|antw|回复|回覆|答复|答覆|转发|轉寄|转寄|轉發)\s*(\[\d+\])?\s*[:：]\s*)+",
    re.IGNORECASE)


@dataclass
class Accepted:
    status: str  # stored | duplicate | bounce
    conversation_id: uuid.UUID | None
    message_id: uuid.UUID | None
    auto: str | None = None
    auto_reply_id: uuid.UUID | None = None


def clean_subject(subject: str) -> str:
    """The matter: without Re:/Fwd:/回复： prefixes and our token."""
    text = threads.TOKEN.sub("", subject)
    return " ".join(_PREFIX.sub("", text).split())[:500]


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def body_of(parsed: ParsedMail, attachments: int) -> str:
    body = parsed.body.strip() or parsed.text.strip()
    if not body and not attachments:
        body = clean_subject(parsed.subject) or "[empty message]"
    return _cap(body, MAX_BODY)


def message_data(parsed: ParsedMail, *, auto: str | None, how: str | None,
                 intent: autoreply.Intent | None, skipped: list[dict[str, Any]],
                 envelope_from: str | None, recipient: str) -> dict[str, Any]:
    email: dict[str, Any] = {
        "message_id": parsed.message_id, "has_message_id": parsed.has_message_id,
        "from": parsed.sender.json(),
        "reply_to": parsed.reply_to.json() if parsed.reply_to else None,
        "to": [a.json() for a in parsed.to], "cc": [a.json() for a in parsed.cc],
        "subject": parsed.subject, "date": parsed.date.isoformat() if parsed.date else None,
        "in_reply_to": parsed.in_reply_to, "references": parsed.references[-50:],
        "text": _cap(parsed.text, MAX_TEXT), "quoted": _cap(parsed.quoted, MAX_TEXT),
        "signature": parsed.signature, "html": parsed.html, "charset": parsed.charset,
        "headers": parsed.headers, "auto": auto, "threaded_by": how,
        "skipped_attachments": skipped, "envelope_from": envelope_from,
        "recipient": recipient, "defects": parsed.defects[:20],
    }
    if parsed.bounce is not None:
        email["bounce"] = parsed.bounce.json()
    data: dict[str, Any] = {"email": email}
    if intent is not None:
        data["intent_recognition"] = intent.json()
        if intent.confident:
            data["intent"] = intent.label  # routing rules match on it
    return data


async def _duplicate(session: AsyncSession, inbox_id: uuid.UUID,
                     external_id: str) -> Message | None:
    return await session.scalar(
        select(Message).join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.inbox_id == inbox_id, Message.external_id == external_id)
        .limit(1))


async def _bounced_message(session: AsyncSession, inbox_id: uuid.UUID,
                           original: str) -> Message | None:
    ours = threads.OUR_ID.match(original)
    condition = (Message.id == uuid.UUID(ours.group(1)) if ours
                 else Message.external_id == original)
    return await session.scalar(
        select(Message).join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.inbox_id == inbox_id, condition,
               Message.sender_type != "contact").limit(1))


async def record_bounce(session: AsyncSession, inbox: Inbox,
                        parsed: ParsedMail) -> Accepted | None:
    """A bounce of one of our messages: its delivery status, and a note for the agents."""
    bounce = parsed.bounce
    if bounce is None or not bounce.original_message_id:
        return None
    message = await _bounced_message(session, inbox.id, bounce.original_message_id)
    if message is None:
        return None
    conversation = await session.get(Conversation, message.conversation_id)
    assert conversation is not None
    if bounce.permanent:
        message.delivery_status = "failed"
    delivery = dict((message.data or {}).get("delivery") or {})
    message.data = {**message.data, "delivery": {
        **delivery, "status": "failed" if bounce.permanent else delivery.get("status"),
        "bounce": bounce.json(), "bounced_at": utcnow().isoformat()}}
    what = "failed" if bounce.permanent else f"delayed ({bounce.action})"
    lines = [f"E-mail delivery {what}: {bounce.recipient or 'recipient unknown'}"
             f" {bounce.status or ''}".rstrip()]
    if bounce.diagnostic:
        lines.append(bounce.diagnostic[:500])
    note, created = await reply(session, conversation, body="\n".join(lines),
                                sender_type="system", sender_id=None,
                                author_name="mail system", is_note=True,
                                client_id=parsed.message_id[:200])
    if created:
        note.data = {**note.data, "bounce": bounce.json(), "bounced_message_id": str(message.id)}
    return Accepted("bounce" if created else "duplicate", conversation.id, note.id,
                    auto="bounce")


async def accept(session: AsyncSession, inbox: Inbox, cfg: EmailConfig, parsed: ParsedMail,
                 sender: str, settings: Settings, *, envelope_from: str | None = None,
                 recipient: str | None = None) -> Accepted:
    """Store one parsed mail for ``inbox`` (``sender``: the canonical From address)."""
    existing = await _duplicate(session, inbox.id, parsed.message_id)
    if existing is not None:
        return Accepted("duplicate", existing.conversation_id, existing.id)
    auto = automatic(parsed)
    if parsed.bounce is not None:
        handled = await record_bounce(session, inbox, parsed)
        if handled is not None:
            return handled
    found, how = await threads.find(session, inbox.id, parsed.thread_ids, parsed.subject,
                                    sender)
    bot = await autoreply.bot_settings(session)
    intent = None
    if auto is None:
        intent = await autoreply.recognise(
            session, f"{clean_subject(parsed.subject)}\n{parsed.body}", bot)
    stored, skipped = await store_parts(session, parsed.attachments, settings)
    now = utcnow()
    received = await receive(session, InboundMessage(
        inbox_id=inbox.id, identities={"email": sender}, body=body_of(parsed, len(stored)),
        external_id=parsed.message_id, contact_name=parsed.sender.name[:200] or None,
        subject=clean_subject(parsed.subject) or None,
        conversation_id=found.id if found is not None else None,
        new_conversation=found is None, attachment_ids=[a.id for a in stored],
        data=message_data(parsed, auto=auto, how=how, intent=intent,
                          skipped=[s.json() for s in skipped], envelope_from=envelope_from,
                          recipient=recipient or cfg.address),
        sent_at=min(parsed.date, now) if parsed.date else None), region=settings.default_region)
    conversation = received.conversation
    if received.conversation_created and conversation.external_thread_id is None:
        conversation.external_thread_id = threads.token_of(conversation.id)
    result = Accepted("duplicate" if received.duplicate else "stored", conversation.id,
                      received.message.id, auto=auto)
    if (not received.duplicate and auto is None
            and autoreply.allowed(bot, inbox.id, intent)):
        assert intent is not None
        sent = await autoreply.answer(session, conversation, intent, parsed.body,
                                      cfg.public_url)
        result.auto_reply_id = sent.id if sent is not None else None
    return result
