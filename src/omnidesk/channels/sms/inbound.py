"""What an SMS gateway posts: inbound messages (long ones in parts) and delivery receipts.

Bodies are JSON or form-encoded. Field names are this gateway contract's own (``from``,
``to``, ``text``, ``message_id``, ``ref``/``total``/``part``; receipts ``message_id``,
``status``, ``error``) or those of common gateways (Vonage: ``msisdn``, ``messageId``,
``concat-ref``/``concat-total``/``concat-part``, ``err-code``; Twilio: ``From``, ``Body``,
``MessageSid``, ``MessageStatus``).
"""

from __future__ import annotations

import hashlib
import urllib.parse
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.channels.base import InboundMessage
from omnidesk.channels.sms.consent import consent_change, do_record_consent
from omnidesk.channels.voice.webhook import Handled, find_event, record_event
from omnidesk.conversations.service import receive
from omnidesk.customers.service import (
    canonical_identities,
    find_contact_by_identity,
    resolve_contact,
)
from omnidesk.kit.errors import BadRequest, ValidationFailed
from omnidesk.kit.time import utcnow
from omnidesk.models import Contact, Conversation, Inbox, Message, SmsPart
from omnidesk.models.enums import IdentityKind, SenderType

MAX_PARTS = 255
ALIASES = {
    "sender": ("from", "msisdn", "From"),
    "to": ("to", "To"),
    "text": ("text", "Body", "body"),
    "message_id": ("message_id", "messageId", "MessageSid", "id"),
    "ref": ("ref", "concat-ref", "concat_ref"),
    "total": ("total", "concat-total", "concat_total"),
    "part": ("part", "concat-part", "concat_part"),
    "at": ("at", "message-timestamp", "timestamp"),
    "status": ("status", "MessageStatus"),
    "error": ("error", "err-code", "ErrorCode", "error_code"),
}


def parse_body(body: bytes, content_type: str | None) -> dict[str, Any]:
    """A flat dict from a JSON object or a form body; 400 for anything else."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype == "application/x-www-form-urlencoded":
        try:
            return dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True,
                                               strict_parsing=bool(body)))
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadRequest(f"malformed form body: {exc}") from exc
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise BadRequest("send one JSON object (or a form body)")
    return parsed


def field(raw: dict[str, Any], name: str) -> str | None:
    for alias in ALIASES[name]:
        value = raw.get(alias)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    return None


def _int(raw: dict[str, Any], name: str) -> int:
    value = field(raw, name)
    try:
        return int(value or "")
    except ValueError as exc:
        raise ValidationFailed(f"{name} must be a whole number", field=name) from exc


def parse_at(value: str | None) -> datetime:
    """The gateway's time (ISO 8601, or Vonage's ``YYYY-MM-DD HH:MM:SS`` in UTC), never
    later than now; now when absent or unreadable."""
    if not value:
        return utcnow()
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return utcnow()
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    return min(at, utcnow())


@dataclass
class Sms:
    sender: str  # E.164
    to: str | None
    text: str
    message_id: str
    at: datetime
    ref: str | None = None
    total: int = 1
    part: int = 1
    raw: dict[str, Any] | None = None


def parse_sms(raw: dict[str, Any], region: str) -> Sms:
    sender = field(raw, "sender")
    message_id = field(raw, "message_id")
    if not sender:
        raise ValidationFailed("an inbound SMS needs the sender's number ('from')", field="from")
    if not message_id or len(message_id) > 200:
        raise ValidationFailed("an inbound SMS needs the gateway's 'message_id' (up to 200 "
                               "characters): retries are recognised by it", field="message_id")
    phone = canonical_identities({IdentityKind.phone.value: sender},
                                 region)[IdentityKind.phone.value]
    body = next((raw[a] for a in ALIASES["text"] if a in raw), "")
    if not isinstance(body, str):
        raise ValidationFailed("text must be a string", field="text")
    sms = Sms(sender=phone, to=field(raw, "to"), text=body, message_id=message_id,
              at=parse_at(field(raw, "at")), raw=raw)
    concat = [field(raw, n) for n in ("ref", "total", "part")]
    if any(concat):
        if not all(concat):
            raise ValidationFailed("a part of a long SMS needs ref, total and part together",
                                   field="ref")
        sms.ref, sms.total, sms.part = concat[0], _int(raw, "total"), _int(raw, "part")
        if not 1 <= sms.part <= sms.total <= MAX_PARTS:
            raise ValidationFailed(f"part must be 1..total and total at most {MAX_PARTS}",
                                   field="part")
    return sms


async def _lock_set(session: AsyncSession, inbox_id: uuid.UUID, sender: str, ref: str) -> None:
    """Serialise the parts of one long message (SQLite writers are serial already)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"{inbox_id}:{sender}:{ref}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def _collect(session: AsyncSession, inbox: Inbox, sms: Sms) -> list[SmsPart] | None:
    """Store this part; all parts in order once the message is complete, else None."""
    assert sms.ref is not None
    await _lock_set(session, inbox.id, sms.sender, sms.ref)
    where = (SmsPart.inbox_id == inbox.id, SmsPart.sender == sms.sender,
             SmsPart.ref == sms.ref)
    parts = list(await session.scalars(select(SmsPart).where(*where).order_by(SmsPart.part)))
    if any(p.total != sms.total or p.part == sms.part for p in parts):
        # the phone reused the reference for a new message: the old set will never finish
        await session.execute(delete(SmsPart).where(*where))
        parts = []
    part = SmsPart(inbox_id=inbox.id, sender=sms.sender, ref=sms.ref, total=sms.total,
                   part=sms.part, text=sms.text, message_id=sms.message_id,
                   data={"to": sms.to, "at": sms.at.isoformat()}, created_at=sms.at)
    session.add(part)
    await session.flush()
    parts = sorted([*parts, part], key=lambda p: p.part)
    if len(parts) < sms.total:
        return None
    await session.execute(delete(SmsPart).where(*where))
    return parts


async def handle_inbound(session: AsyncSession, inbox: Inbox, sms: Sms, *, signature: str,
                         region: str) -> Handled:
    key = f"sms:{sms.message_id}"
    if await find_event(session, inbox.id, key) is not None:
        return Handled(200, {"status": "duplicate", "message_id": sms.message_id})
    record_event(session, inbox.id, key, signature, sms.raw or {}, subject=sms.sender)
    text, external_id, ids = sms.text, f"sms:{sms.message_id}", [sms.message_id]
    if sms.total > 1:
        parts = await _collect(session, inbox, sms)
        if parts is None:
            return Handled(202, {"status": "part_stored", "message_id": sms.message_id,
                                 "ref": sms.ref, "part": sms.part, "total": sms.total})
        text = "".join(p.text for p in parts)
        ids = [p.message_id for p in parts]
        external_id = f"sms:{sms.sender}:{sms.ref}:{ids[0]}"
    contact = await find_contact_by_identity(session, IdentityKind.phone, sms.sender)
    change = consent_change(text, contact)
    if change is not None:
        if contact is None:
            contact = await _contact_for(session, sms)
        activity = await do_record_consent(session, contact, change, inbox_id=inbox.id,
                                           message_id=sms.message_id, text=text, at=sms.at)
        return Handled(200, {"status": "consent", "consent": change,
                             "contact_id": str(contact.id), "activity_id": str(activity.id)})
    received = await receive(session, InboundMessage(
        inbox_id=inbox.id, identities={IdentityKind.phone.value: sms.sender},
        body=text if text.strip() else "[empty SMS]", external_id=external_id,
        data={"sms": {"from": sms.sender, "to": sms.to, "message_ids": ids,
                      "parts": len(ids)}}, sent_at=sms.at), region=region)
    return Handled(200 if received.duplicate else 201, {
        "status": "duplicate" if received.duplicate else "accepted",
        "message_id": str(received.message.id), "conversation_id": str(received.conversation.id),
        "contact_id": str(received.contact_id), "parts": len(ids)})


async def _contact_for(session: AsyncSession, sms: Sms) -> Contact:
    contact, _ = await resolve_contact(session, {IdentityKind.phone.value: sms.sender})
    return contact


RECEIPT_STATUS = {  # the gateway's word → the message's delivery_status
    "delivered": "delivered", "delivrd": "delivered",
    "failed": "failed", "undelivered": "failed", "rejected": "failed", "expired": "failed",
    "undeliv": "failed", "rejectd": "failed",
    "accepted": "sent", "buffered": "sent", "sent": "sent", "queued": "sent",
    "enroute": "sent", "sending": "sent",
}
FINAL = frozenset({"delivered", "failed"})


async def _outbound(session: AsyncSession, inbox: Inbox, gateway_id: str) -> Message | None:
    return await session.scalar(
        select(Message).join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.inbox_id == inbox.id, Message.external_id == gateway_id,
               Message.sender_type != SenderType.contact).limit(1))


def _apply_receipt(message: Message, raw: dict[str, Any], status: str, word: str) -> bool:
    """Set the delivery status; a late "sent" never undoes "delivered" or "failed"."""
    current = message.delivery_status
    changed = not (current in FINAL and status not in FINAL)
    if changed:
        message.delivery_status = status
    delivery = dict((message.data or {}).get("delivery") or {})
    receipts = [*delivery.get("receipts", []), {
        "status": word, "error": field(raw, "error"), "at": utcnow().isoformat()}]
    delivery.update(status=message.delivery_status, receipts=receipts[-10:])
    if status == "failed":
        delivery["detail"] = f"gateway receipt: {word}" + (
            f" (error {field(raw, 'error')})" if field(raw, "error") else "")
    message.data = {**(message.data or {}), "delivery": delivery}
    return changed


async def handle_receipt(session: AsyncSession, inbox: Inbox, raw: dict[str, Any], *,
                         signature: str) -> Handled:
    gateway_id, word = field(raw, "message_id"), (field(raw, "status") or "").lower()
    if not gateway_id:
        raise ValidationFailed("a delivery receipt needs 'message_id'", field="message_id")
    if word not in RECEIPT_STATUS:
        raise ValidationFailed(f"unknown receipt status {word!r}; one of "
                               f"{', '.join(sorted(RECEIPT_STATUS))}", field="status")
    key = f"receipt:{gateway_id}:{word}"
    seen = await find_event(session, inbox.id, key)
    if seen is not None and seen.status != "quarantined":
        return Handled(200, {"status": "duplicate", "message_id": gateway_id})
    message = await _outbound(session, inbox, gateway_id)
    if message is None:
        reason = f"no message sent from this inbox has gateway id {gateway_id!r}"
        if seen is None:
            record_event(session, inbox.id, key, signature, raw, subject=gateway_id,
                         status="quarantined", reason=reason)
        return Handled(404, {"type": "unknown-message", "title": "Unknown message",
                             "detail": reason + "; quarantined (send it again later)",
                             "quarantined": True})
    if seen is not None:  # a retry of a receipt that came before its message was recorded
        seen.status, seen.reason = "accepted", f"{seen.reason}; applied on a retry"
    else:
        record_event(session, inbox.id, key, signature, raw, subject=gateway_id)
    changed = _apply_receipt(message, raw, RECEIPT_STATUS[word], word)
    return Handled(200, {"status": "accepted" if changed else "ignored",
                         "message": str(message.id),
                         "delivery_status": message.delivery_status})
