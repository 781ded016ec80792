"""What WeChat sends, stored on the one path.

Messages (text, image, voice, video, location, link) and menu clicks go through
``inbox.receive`` as customer messages, keyed by MsgId (a click, which has none, by
FromUserName + CreateTime + Event). Every other event (subscribe, unsubscribe, scan, …)
becomes a timeline activity of kind ``event`` from source ``wechat:{inbox_id}``, stored
once per the same key. The openid is a ``wechat_openid`` identity; a UnionId in the
message is linked as ``wechat_unionid`` (merging the contacts that held them apart).
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.channels.base import InboundMessage
from omnidesk.channels.wechat.protocol import Incoming
from omnidesk.channels.wechat.window import window_ends
from omnidesk.conversations.service import green_channel, receive, reply
from omnidesk.conversations.views import conversation_json
from omnidesk.customers.service import (
    canonical_identities,
    do_add_identity,
    get_contact,
    resolve_contact,
)
from omnidesk.kit.outbox import emit
from omnidesk.kit.time import utcnow
from omnidesk.models import Activity, Conversation, Inbox
from omnidesk.models.enums import (
    ActivityKind,
    Channel,
    ConversationStatus,
    IdentityKind,
    Outcome,
)

ACTOR = "channel:wechat"
MESSAGE_EVENTS = frozenset({"click"})  # events stored as customer messages
EVENT_SUMMARIES = {
    "subscribe": "Followed the official account",
    "subscribe_scan": "Followed the official account from QR code {key}",
    "unsubscribe": "Unfollowed the official account",
    "scan": "Scanned QR code {key}",
    "view": "Opened menu link {key}",
    "location": "Shared location (latitude {Latitude}, longitude {Longitude})",
}


@dataclass
class Accepted:
    contact_id: uuid.UUID
    conversation_id: uuid.UUID | None
    text: str
    duplicate: bool


def source_of(inbox_id: uuid.UUID) -> str:
    return f"wechat:{inbox_id}"


def event_key(incoming: Incoming) -> str:
    f = incoming.fields
    return f"{f['FromUserName']}:{f['CreateTime'].strip()}:{f.get('Event') or ''}"


def sent_at(incoming: Incoming) -> datetime:
    """CreateTime, never later than now."""
    at = datetime.fromtimestamp(int(incoming.fields["CreateTime"].strip()), UTC)
    return min(at, utcnow())


def _text(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    return value.strip() if isinstance(value, str) else ""


def message_body(incoming: Incoming) -> str:
    """The message as agents read it; voice is WeChat's speech recognition."""
    f, kind = incoming.fields, incoming.msg_type
    if kind == "text":
        return _text(f, "Content") or "[empty message]"
    if kind == "voice":
        return _text(f, "Recognition") or "[voice message]"
    if kind == "image":
        return "[image]"
    if kind in ("video", "shortvideo"):
        return "[video]"
    if kind == "location":
        place = _text(f, "Label") or f"{_text(f, 'Location_X')}, {_text(f, 'Location_Y')}"
        return f"[location] {place}"
    if kind == "link":
        return "\n".join(p for p in (_text(f, "Title"), _text(f, "Description"),
                                     _text(f, "Url")) if p) or "[link]"
    if incoming.event == "click":
        return f"[menu] {_text(f, 'EventKey')}"
    return f"[{kind or 'unknown'} message]"


def _fields(incoming: Incoming) -> dict[str, Any]:
    return {k: v for k, v in incoming.fields.items() if k not in ("Encrypt", "ToUserName")}


def message_data(incoming: Incoming, at: datetime) -> dict[str, Any]:
    fields = _fields(incoming)
    data: dict[str, Any] = {"wechat": fields, "encrypted": incoming.encrypted}
    if incoming.msg_type == "location":
        with contextlib.suppress(ValueError):
            data["location"] = {"latitude": float(_text(fields, "Location_X")),
                                "longitude": float(_text(fields, "Location_Y")),
                                "label": _text(fields, "Label") or None}
    ends = window_ends(at)
    data["reply_window_ends_at"] = ends.isoformat() if ends else None
    return data


def _identities(incoming: Incoming) -> dict[str, str]:
    ids = {IdentityKind.wechat_openid.value: incoming.openid}
    unionid = _text(incoming.fields, "UnionId")
    if unionid:
        ids[IdentityKind.wechat_unionid.value] = unionid
    return ids


async def link_unionid(session: AsyncSession, contact_id: uuid.UUID, unionid: str,
                       region: str) -> None:
    """The same person on another of the company's accounts: one contact."""
    await do_add_identity(session, contact_id, IdentityKind.wechat_unionid, unionid,
                          merge=True, region=region, actor=ACTOR)


async def accept(session: AsyncSession, inbox: Inbox, incoming: Incoming,
                 region: str) -> Accepted:
    if incoming.msg_type == "event" and incoming.event not in MESSAGE_EVENTS:
        return await record_event(session, inbox, incoming, region)
    return await record_message(session, inbox, incoming, region)


async def record_message(session: AsyncSession, inbox: Inbox, incoming: Incoming,
                         region: str) -> Accepted:
    msg_id = _text(incoming.fields, "MsgId")
    at = sent_at(incoming)
    body = message_body(incoming)
    received = await receive(session, InboundMessage(
        inbox_id=inbox.id, identities=_identities(incoming), body=body,
        external_id=msg_id if msg_id and msg_id != "0" else event_key(incoming),
        data=message_data(incoming, at), sent_at=at), region=region)
    unionid = _text(incoming.fields, "UnionId")
    if unionid and not received.duplicate:
        await link_unionid(session, received.contact_id, unionid, region)
    return Accepted(received.contact_id, received.conversation.id, body, received.duplicate)


async def latest_conversation(session: AsyncSession, inbox_id: uuid.UUID,
                              contact_id: uuid.UUID) -> Conversation | None:
    return await session.scalar(
        select(Conversation).where(Conversation.inbox_id == inbox_id,
                                   Conversation.contact_id == contact_id)
        .order_by(Conversation.created_at.desc()).limit(1))


def _summary(incoming: Incoming) -> str:
    event = incoming.event or "event"
    template = EVENT_SUMMARIES.get(event, "WeChat event " + event)
    values = {k: v for k, v in incoming.fields.items() if isinstance(v, str)}
    key = _text(incoming.fields, "EventKey").removeprefix("qrscene_")
    try:
        return template.format(key=key, **values)
    except (KeyError, IndexError, ValueError):
        return "WeChat event " + event


async def record_event(session: AsyncSession, inbox: Inbox, incoming: Incoming,
                       region: str) -> Accepted:
    source, key = source_of(inbox.id), event_key(incoming)
    existing = await session.scalar(select(Activity).where(
        Activity.source == source, Activity.external_id == key))
    if existing is not None:
        return Accepted(existing.contact_id, existing.conversation_id, "", duplicate=True)
    contact, _ = await resolve_contact(session, canonical_identities(_identities(incoming),
                                                                     region))
    unionid = _text(incoming.fields, "UnionId")
    if unionid:
        await link_unionid(session, contact.id, unionid, region)
    conversation = await latest_conversation(session, inbox.id, contact.id)
    activity = Activity(
        contact_id=contact.id, kind=ActivityKind.event, channel=Channel.wechat,
        conversation_id=conversation.id if conversation else None, source=source,
        external_id=key, type=f"wechat.{incoming.event or 'event'}", outcome=Outcome.info,
        summary=_summary(incoming), occurred_at=sent_at(incoming),
        data={"inbox_id": str(inbox.id), "wechat": _fields(incoming)},
    )
    try:
        async with session.begin_nested():
            session.add(activity)
    except IntegrityError:  # the same event, stored a moment ago by a concurrent retry
        return Accepted(contact.id, activity.conversation_id, "", duplicate=True)
    await emit(session, "event.received", {"event": _event_json(activity)})
    return Accepted(contact.id, activity.conversation_id, "", duplicate=False)


def _event_json(a: Activity) -> dict[str, Any]:
    return {"id": str(a.id), "source": a.source, "external_id": a.external_id,
            "type": a.type, "outcome": a.outcome, "contact_id": str(a.contact_id),
            "summary": a.summary, "data": a.data, "occurred_at": a.occurred_at.isoformat()}


async def _conversation_for_reply(session: AsyncSession, inbox: Inbox,
                                  accepted: Accepted) -> Conversation:
    """Where an answer to an event goes: the follower's latest conversation here, else a
    new one, resolved (out of the queues) until the customer writes and reopens it."""
    if accepted.conversation_id is not None:
        found = await session.get(Conversation, accepted.conversation_id)
        if found is not None:
            return found
    found = await latest_conversation(session, inbox.id, accepted.contact_id)
    if found is not None:
        return found
    contact = await get_contact(session, accepted.contact_id)
    team_id, priority = await green_channel(session, contact.id, contact.vip_level)
    conversation = Conversation(
        inbox_id=inbox.id, contact_id=contact.id, channel=inbox.channel,
        team_id=team_id or inbox.team_id, priority=priority,
        status=ConversationStatus.resolved, resolved_at=utcnow())
    session.add(conversation)
    await session.flush()
    await emit(session, "conversation.created",
               {"conversation": conversation_json(conversation)})
    return conversation


async def store_passive_reply(session: AsyncSession, inbox: Inbox, accepted: Accepted,
                              text: str, sender_type: str) -> uuid.UUID:
    """Record the answer given in the callback's response: already delivered, so the
    outbox adapter leaves it alone."""
    conversation = await _conversation_for_reply(session, inbox, accepted)
    message, _ = await reply(session, conversation, body=text, sender_type=sender_type,
                             sender_id=None, author_name=None)
    message.delivery_status = "sent"
    message.data = {**message.data, "delivery": {
        "status": "sent", "via": "passive", "external_id": None, "detail": None,
        "at": utcnow().isoformat()}}
    return conversation.id
