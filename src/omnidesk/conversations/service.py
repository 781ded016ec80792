"""The one path: ``receive`` for what customers send on any channel, ``reply`` for what
agents and the bot answer; status, assignment and the pushes that follow a commit."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.activity.service import do_touch_conversation
from omnidesk.auth.service import Principal
from omnidesk.channels.base import InboundMessage, Received
from omnidesk.conversations.views import conversation_json, message_json
from omnidesk.customers.service import canonical_identities, get_contact, resolve_contact
from omnidesk.kit.db import after_commit
from omnidesk.kit.errors import BadRequest, Forbidden, NotFound, ValidationFailed
from omnidesk.kit.outbox import emit
from omnidesk.kit.time import utcnow
from omnidesk.models import (
    Attachment,
    Contact,
    Conversation,
    Inbox,
    Membership,
    Message,
    Organisation,
    Team,
    User,
)
from omnidesk.models.enums import ConversationStatus, SenderType
from omnidesk.realtime.hub import publish
from omnidesk.routing import service as routing
from omnidesk.sla import service as sla

MAX_BODY = 20_000
OPEN_STATES = (ConversationStatus.open, ConversationStatus.pending, ConversationStatus.snoozed)


async def get_inbox(session: AsyncSession, inbox_id: uuid.UUID) -> Inbox:
    inbox = await session.get(Inbox, inbox_id)
    if inbox is None:
        raise NotFound(f"inbox {inbox_id} not found")
    return inbox


async def get_conversation(
    session: AsyncSession, conversation_id: uuid.UUID, principal: Principal | None = None
) -> Conversation:
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} not found")
    if principal is not None:
        inbox = await get_inbox(session, conversation.inbox_id)
        if not principal.can_see_inbox(inbox):
            raise NotFound(f"conversation {conversation_id} not found")
    return conversation


def check_body(body: str, attachments: int = 0) -> str:
    if len(body) > MAX_BODY:
        raise ValidationFailed(f"message body over {MAX_BODY} characters", field="body")
    if not body.strip() and not attachments:
        raise ValidationFailed("a message needs a body or an attachment", field="body")
    return body


async def _find_duplicate(
    session: AsyncSession, inbox_id: uuid.UUID, external_id: str | None
) -> Message | None:
    if not external_id:
        return None
    return await session.scalar(
        select(Message).join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.inbox_id == inbox_id, Message.external_id == external_id)
    )


async def _find_conversation(
    session: AsyncSession, inbox: Inbox, contact_id: uuid.UUID, msg: InboundMessage
) -> Conversation | None:
    if msg.conversation_id is not None:
        conversation = await session.get(Conversation, msg.conversation_id)
        if conversation is None or conversation.inbox_id != inbox.id:
            raise NotFound(f"conversation {msg.conversation_id} not found in this inbox")
        return conversation
    if msg.thread_keys:
        found = await session.scalar(
            select(Conversation).where(Conversation.inbox_id == inbox.id,
                                       Conversation.external_thread_id.in_(msg.thread_keys))
            .order_by(Conversation.created_at.desc()).limit(1)
        )
        if found is not None or msg.new_conversation:
            return found
    if msg.new_conversation:
        return None
    # The contact's current conversation, or one resolved recently enough to reopen
    # (inbox config ``reopen_days``, default 3): "it broke again" belongs to the same thread.
    reopen_after = utcnow() - timedelta(days=float(inbox.config.get("reopen_days", 3)))
    return await session.scalar(
        select(Conversation).where(
            Conversation.inbox_id == inbox.id, Conversation.contact_id == contact_id,
            or_(Conversation.status.in_(OPEN_STATES), and_(
                Conversation.status == ConversationStatus.resolved,
                Conversation.resolved_at >= reopen_after)))
        .order_by(Conversation.created_at.desc()).limit(1)
    )


async def _next_seq(session: AsyncSession, conversation: Conversation, at: datetime) -> int:
    """Atomically take the next per-conversation sequence number (row-locked on PG)."""
    seq = await session.scalar(
        update(Conversation).where(Conversation.id == conversation.id)
        .values(last_seq=Conversation.last_seq + 1,
                message_count=Conversation.message_count + 1, last_message_at=at)
        .returning(Conversation.last_seq)
    )
    await session.refresh(conversation)
    return int(seq or 0)


async def _attach(session: AsyncSession, conversation: Conversation, message: Message,
                  attachment_ids: list[uuid.UUID]) -> list[Attachment]:
    out = []
    for att_id in attachment_ids:
        att = await session.get(Attachment, att_id)
        if att is None or att.conversation_id not in (None, conversation.id):
            raise ValidationFailed(f"attachment {att_id} not found", field="attachment_ids")
        if att.message_id is not None and att.message_id != message.id:
            raise ValidationFailed(f"attachment {att_id} belongs to another message",
                                   field="attachment_ids")
        att.conversation_id, att.message_id = conversation.id, message.id
        out.append(att)
    return out


async def _append(
    session: AsyncSession, conversation: Conversation, *, sender_type: str,
    body: str, sender_id: uuid.UUID | None = None, author_name: str | None = None,
    is_note: bool = False, external_id: str | None = None, data: dict[str, Any] | None = None,
    attachment_ids: list[uuid.UUID] | None = None, at: datetime | None = None,
) -> Message:
    now = at or utcnow()
    seq = await _next_seq(session, conversation, now)
    message = Message(conversation_id=conversation.id, seq=seq, sender_type=sender_type,
                      sender_id=sender_id, author_name=author_name, body=body, is_note=is_note,
                      external_id=external_id, data=data or {}, created_at=now)
    session.add(message)
    await session.flush()
    attachments = await _attach(session, conversation, message, attachment_ids or [])
    await do_touch_conversation(session, conversation, message)
    payload = message_json(message, conversation, attachments)
    await emit(session, "message.created", {"message": payload})
    push_after_commit(session, conversation, {"type": "message", "message": payload},
                       to_visitor=not is_note)
    return message


def push_after_commit(session: AsyncSession, conversation: Conversation,
                       frame: dict[str, Any], *, to_visitor: bool) -> None:
    inbox_topic = f"inbox:{conversation.inbox_id}"
    conv_topic = f"conversation:{conversation.id}"

    async def _push() -> None:
        await publish(inbox_topic, frame)
        if to_visitor:
            await publish(conv_topic, frame)

    after_commit(session, _push)


TIER_PRIORITY = {"strategic": 3, "key": 2, "standard": 0, "small_business": 0}
PRIORITY_NAMES = {0: "normal", 1: "high", 2: "high", 3: "urgent"}


def tier_of(contact: Contact, priority: int) -> str | None:
    if contact.tier:
        return contact.tier
    if priority >= 2:
        return {3: "strategic", 2: "key"}[min(priority, 3)]
    return f"vip{contact.vip_level}" if contact.vip_level else None


async def _conversation_subject(session: AsyncSession,
                                conversation: Conversation) -> sla.Subject:
    contact = await session.get(Contact, conversation.contact_id)
    assert contact is not None
    return sla.Subject(kind="conversation", id=conversation.id,
                       tier=tier_of(contact, conversation.priority),
                       priority=PRIORITY_NAMES.get(conversation.priority, "normal"),
                       case_type=None, channel=conversation.channel)
GREEN_TIERS = ("strategic", "key")


async def green_channel(session: AsyncSession, contact_id: uuid.UUID,
                        vip_level: int | None) -> tuple[uuid.UUID | None, int]:
    """Tier drives priority; strategic and key accounts go straight to their account team."""
    rows = list(await session.execute(
        select(Organisation.tier, Organisation.account_team_id)
        .join(Membership, Membership.organisation_id == Organisation.id)
        .where(Membership.contact_id == contact_id)))
    rows.sort(key=lambda r: -TIER_PRIORITY.get(r[0], 0))
    priority = max([TIER_PRIORITY.get(r[0], 0) for r in rows] + [1 if (vip_level or 0) >= 3
                                                                   else 0])
    team = next((r[1] for r in rows if r[0] in GREEN_TIERS and r[1] is not None), None)
    return team, priority


async def _route(session: AsyncSession, conversation: Conversation, msg: InboundMessage,
                 ids: dict[str, str], tier: str | None) -> None:
    """Routing rules (channel, inbox, sender domain, keywords, intent, tier) for a new
    conversation; the green channel already chose the account team, rules may refine."""
    found = await routing.route(session, routing.Facts(
        channel=conversation.channel, inbox_id=conversation.inbox_id,
        text=f"{msg.subject or ''} {msg.body}", identities=ids, tier=tier,
        intent=msg.data.get("intent") if isinstance(msg.data.get("intent"), str) else None))
    if found is None:
        return
    rule, actions = found
    conversation.team_id = actions.team_id or conversation.team_id
    conversation.assignee_id = actions.assignee_id or conversation.assignee_id
    if actions.priority is not None:
        conversation.priority = max(conversation.priority, actions.priority)
    conversation.routing_rule = rule.name


async def receive(session: AsyncSession, msg: InboundMessage, *, region: str) -> Received:
    """Everything a customer sends, from any channel, in one transaction."""
    inbox = await get_inbox(session, msg.inbox_id)
    check_body(msg.body, len(msg.attachment_ids))
    duplicate = await _find_duplicate(session, inbox.id, msg.external_id)
    if duplicate is not None:
        conversation = await get_conversation(session, duplicate.conversation_id)
        return Received(duplicate, conversation, conversation.contact_id, duplicate=True)
    ids = canonical_identities(msg.identities, region)
    contact, _ = await resolve_contact(session, ids, name=msg.contact_name)
    found = await _find_conversation(session, inbox, contact.id, msg)
    created = found is None
    if found is None:
        green_team, priority = await green_channel(session, contact.id, contact.vip_level)
        conversation = Conversation(
            inbox_id=inbox.id, contact_id=contact.id, channel=inbox.channel,
            subject=msg.subject, team_id=green_team or inbox.team_id, priority=priority,
            external_thread_id=msg.thread_keys[0] if msg.thread_keys else None,
        )
        session.add(conversation)
        await _route(session, conversation, msg, ids, tier_of(contact, priority))
        await session.flush()
        await sla.start(session, sla.Subject(
            kind="conversation", id=conversation.id, tier=tier_of(contact, priority),
            priority=PRIORITY_NAMES.get(priority, "normal"), case_type=None,
            channel=conversation.channel), ["first_response", "resolution"],
            at=msg.sent_at or utcnow())
        await emit(session, "conversation.created", {"conversation": conversation_json(
            conversation)})
    else:
        conversation = found
    if not created and conversation.status != ConversationStatus.open:
        if conversation.status == ConversationStatus.pending:
            await sla.set_paused(session, conversation.id, False)
        if conversation.status == ConversationStatus.resolved:
            await sla.restart(session, conversation.id, ["resolution"])
        conversation.status = ConversationStatus.open
        conversation.snoozed_until = conversation.resolved_at = None
    if not created and conversation.first_response_at is not None and not await sla.running(
            session, conversation.id, ["next_response"]):
        await sla.start(session, await _conversation_subject(session, conversation),
                        ["next_response"], at=msg.sent_at or utcnow())
    message = await _append(
        session, conversation, sender_type=SenderType.contact, body=msg.body,
        sender_id=contact.id, author_name=contact.name, external_id=msg.external_id,
        data=msg.data, attachment_ids=msg.attachment_ids, at=msg.sent_at,
    )
    return Received(message, conversation, contact.id, conversation_created=created)


async def reply(
    session: AsyncSession, conversation: Conversation, *, body: str, sender_type: str,
    sender_id: uuid.UUID | None, author_name: str | None, is_note: bool = False,
    client_id: str | None = None, attachment_ids: list[uuid.UUID] | None = None,
    data: dict[str, Any] | None = None,
) -> tuple[Message, bool]:
    """An agent's (or the bot's) answer or internal note; retried ``client_id`` → stored once.
    ``data`` (e.g. the bot's options) travels with the message to every screen."""
    check_body(body, len(attachment_ids or []))
    if client_id:
        existing = await session.scalar(select(Message).where(
            Message.conversation_id == conversation.id, Message.external_id == client_id))
        if existing is not None:
            return existing, False
    message = await _append(
        session, conversation, sender_type=sender_type, body=body, sender_id=sender_id,
        author_name=author_name, is_note=is_note, external_id=client_id,
        attachment_ids=attachment_ids, data=data,
    )
    if not is_note and sender_type == SenderType.agent:
        conversation.first_response_at = conversation.first_response_at or message.created_at
        await sla.stop(session, conversation.id, ["first_response", "next_response"],
                       at=message.created_at)
    return message, True


async def do_set_status(
    session: AsyncSession, conversation: Conversation, status: str,
    snoozed_until: datetime | None = None,
) -> Conversation:
    if status not in ConversationStatus.__members__:
        raise ValidationFailed(f"unknown status {status!r}", field="status")
    if status == ConversationStatus.snoozed and (
        snoozed_until is None or snoozed_until <= utcnow()
    ):
        raise ValidationFailed("snoozing needs a future snoozed_until", field="snoozed_until")
    previous = conversation.status
    if status == ConversationStatus.pending and previous != status:
        await sla.set_paused(session, conversation.id, True)
    elif previous == ConversationStatus.pending and status != previous:
        await sla.set_paused(session, conversation.id, False)
    if status == ConversationStatus.resolved:
        await sla.stop(session, conversation.id, ["resolution", "next_response"])
    elif previous == ConversationStatus.resolved:
        await sla.restart(session, conversation.id, ["resolution"])
    conversation.status = status
    conversation.snoozed_until = snoozed_until if status == ConversationStatus.snoozed else None
    conversation.resolved_at = utcnow() if status == ConversationStatus.resolved else None
    await do_touch_conversation(session, conversation, None)
    data = conversation_json(conversation)
    await emit(session, "conversation.status_changed",
               {"conversation": data, "previous": previous})
    push_after_commit(session, conversation, {"type": "conversation.updated",
                                               "conversation": data}, to_visitor=False)
    return conversation


async def do_assign(
    session: AsyncSession, conversation: Conversation, *, assignee_id: uuid.UUID | None,
    team_id: uuid.UUID | None, context: dict[str, Any] | None,
) -> Conversation:
    """Assign to an agent and/or a team; the agent's console receives the customer context."""
    if assignee_id is not None:
        user = await session.get(User, assignee_id)
        if user is None or not user.is_active:
            raise ValidationFailed(f"user {assignee_id} is not an active agent",
                                   field="assignee_id")
    if team_id is not None and await session.get(Team, team_id) is None:
        raise ValidationFailed(f"team {team_id} not found", field="team_id")
    conversation.assignee_id = assignee_id
    if team_id is not None:
        conversation.team_id = team_id
    data = conversation_json(conversation)
    await emit(session, "conversation.assigned", {"conversation": data})
    frame = {"type": "conversation.assigned", "conversation": data, "context": context}
    push_after_commit(session, conversation, {"type": "conversation.updated",
                                               "conversation": data}, to_visitor=False)
    if assignee_id is not None:
        topic = f"agent:{assignee_id}"

        async def _pop() -> None:
            await publish(topic, frame)

        after_commit(session, _pop)
    return conversation


async def check_contact(session: AsyncSession, contact_id: uuid.UUID) -> uuid.UUID:
    return (await get_contact(session, contact_id)).id


def check_can_write(principal: Principal, inbox: Inbox) -> None:
    if not principal.can_see_inbox(inbox):
        raise Forbidden("this inbox is restricted to its team")


def check_snooze(status: str, snoozed_until: datetime | None) -> None:
    if snoozed_until is not None and status != ConversationStatus.snoozed:
        raise BadRequest("snoozed_until only goes with status 'snoozed'")
