"""Writes a month of history: conversations through ``receive`` and ``reply`` (so that
sequence numbers, counters and the timeline are the product's own), calls that never
reached an agent, and business events through the event feed's ``ingest``.

``reply`` and ``do_set_status`` stamp the wall-clock time; the past is restored on the
rows they wrote: the conversation after its last turn, messages and timeline entries in
one bulk update at the end (:class:`Restamp`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.activity.service import CONVERSATION_SOURCE, add_activity
from omnidesk.channels.base import InboundMessage
from omnidesk.conversations.service import do_assign, do_set_status, receive, reply
from omnidesk.demo.business_events import EVENT_TYPES
from omnidesk.demo.specs import CallSpec, ConversationSpec, PersonSpec, TurnSpec
from omnidesk.demo.staff import AGENT_KEY, BILLING_STAFF
from omnidesk.demo.write_accounts import REGION, Written
from omnidesk.events.service import ingest
from omnidesk.models import Base, Contact, Conversation, EventType, Message, OutboxItem
from omnidesk.models.enums import ActivityKind, Channel, Outcome, SenderType

BOT_NAME = "智能助手"
IDENTITY_ORDER = {
    "web": ("app_user_id", "phone", "email"), "app": ("app_user_id",),
    "wechat": ("wechat_openid",), "voice": ("phone",), "sms": ("phone",), "api": ("phone",),
    "email": ("email",), "enterprise": ("email",),
}


class DemoDataError(RuntimeError):
    """The demo plan does not fit the services' rules (a bug in the demo data)."""


def identities_for(inbox: str, person: PersonSpec) -> dict[str, str]:
    for kind in IDENTITY_ORDER[inbox]:
        value = getattr(person, kind)
        if value:
            return {kind: value}
    raise DemoDataError(f"{person.key} has no identity usable on inbox {inbox}")


async def _customer_turn(session: AsyncSession, written: Written, spec: ConversationSpec,
                         turn: TurnSpec, conversation: Conversation | None,
                         seq: int) -> tuple[Conversation, Message]:
    person = written.persons[spec.person]
    external_id = None
    if spec.external_prefix and person.email:
        external_id = f"<{spec.external_prefix}.{seq}@{person.email.rpartition('@')[2]}>"
    received = await receive(session, InboundMessage(
        inbox_id=written.inboxes[spec.inbox].id, identities=identities_for(spec.inbox, person),
        body=turn.text, external_id=external_id, contact_name=person.name,
        subject=spec.subject, conversation_id=conversation.id if conversation else None,
        new_conversation=conversation is None, data=dict(turn.data), sent_at=turn.at,
    ), region=REGION)
    return received.conversation, received.message


@dataclass
class Restamp:
    """Past times for rows the services stamped with the wall clock, written in bulk."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    activities: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)

    def customers_since(self, contacts: list[Contact], now: datetime) -> None:
        """Customers have been customers for a while: back-date their records."""
        self.contacts = [{"pid": c.id, "at": now - timedelta(days=60 + i * 37 % 1800)}
                         for i, c in enumerate(contacts)]

    async def apply(self, session: AsyncSession) -> None:
        await session.flush()
        tables = Base.metadata.tables
        messages, activities, contacts = (tables["messages"], tables["activities"],
                                          tables["contacts"])
        if self.contacts:
            await session.execute(update(contacts).where(
                contacts.c.id == bindparam("pid")).values(
                created_at=bindparam("at"), updated_at=bindparam("at")), self.contacts)
        if self.messages:
            await session.execute(update(messages).where(
                messages.c.id == bindparam("mid")).values(created_at=bindparam("at")),
                self.messages)
        if self.activities:
            await session.execute(update(activities).where(
                activities.c.source == CONVERSATION_SOURCE,
                activities.c.external_id == bindparam("cid")).values(
                occurred_at=bindparam("at")), self.activities)


async def _staff_turn(session: AsyncSession, written: Written, spec: ConversationSpec,
                      turn: TurnSpec, conversation: Conversation) -> Message:
    if turn.role == "b":
        sender_type, sender_id, author = SenderType.bot, None, BOT_NAME
    else:
        user = written.users[BILLING_STAFF if turn.role == "bn" else spec.agent or AGENT_KEY]
        sender_type, sender_id, author = SenderType.agent, user.id, user.name
    message, _ = await reply(session, conversation, body=turn.text, sender_type=sender_type,
                             sender_id=sender_id, author_name=author,
                             is_note=turn.role in ("n", "bn"))
    return message


def _first_response(spec: ConversationSpec) -> datetime | None:
    return next((t.at for t in spec.turns if t.role == "a"), None)


async def write_conversation(session: AsyncSession, written: Written, spec: ConversationSpec,
                             restamp: Restamp) -> int:
    conversation: Conversation | None = None
    for seq, turn in enumerate(spec.turns, start=1):
        if turn.role == "c":
            conversation, _ = await _customer_turn(session, written, spec, turn,
                                                   conversation, seq)
            if seq == 1 and spec.assigned and spec.agent:
                await do_assign(session, conversation, assignee_id=written.users[spec.agent].id,
                                team_id=None, context=None)
        elif conversation is None:
            raise DemoDataError("a conversation starts with the customer")
        else:
            message = await _staff_turn(session, written, spec, turn, conversation)
            restamp.messages.append({"mid": message.id, "at": turn.at})
    assert conversation is not None
    if spec.status != "open":
        await do_set_status(session, conversation, spec.status)
    last_public = max(t.at for t in spec.turns if t.role not in ("n", "bn"))
    restamp.activities.append({"cid": str(conversation.id), "at": last_public})
    conversation.first_response_at = _first_response(spec)
    conversation.last_message_at = spec.turns[-1].at
    conversation.resolved_at = spec.resolved_at
    conversation.created_at = spec.turns[0].at
    conversation.updated_at = spec.resolved_at or spec.turns[-1].at
    return len(spec.turns)


def write_calls(written: Written, calls: list[CallSpec], session: AsyncSession) -> int:
    for index, call in enumerate(calls):
        minutes, seconds = divmod(call.waited_seconds, 60)
        add_activity(
            session, contact_id=written.contacts[call.person].id, kind=ActivityKind.call,
            channel=Channel.voice, source="pbx", external_id=f"demo-call-{index:03d}",
            type="call.abandoned", outcome=Outcome.abandoned,
            summary=f"来电在「{call.queue}」队列等待 {minutes} 分 {seconds} 秒后挂断",
            data={"direction": "inbound", "duration_seconds": 0,
                  "waited_seconds": call.waited_seconds, "queue": call.queue,
                  "reason": "caller hung up in queue"},
            occurred_at=call.at)
    return len(calls)


async def write_events(session: AsyncSession, events: list[dict[str, Any]]) -> int:
    """Declare the event types' outcomes first (no service: the admin endpoint stores
    them as given), then one batch through the event feed."""
    for name, outcome, description in EVENT_TYPES:
        session.add(EventType(type=name, outcome=outcome, description=description))
    await session.flush()
    results = await ingest(session, events, REGION)
    errors = [r.as_dict() for r in results if r.status == "error"]
    if errors:
        raise DemoDataError(f"demo events refused by the event feed: {errors[:3]}")
    return sum(r.status == "created" for r in results)


async def outbox_ids(session: AsyncSession) -> set[uuid.UUID]:
    return set(await session.scalars(select(OutboxItem.id)))


async def drop_owed_side_effects(session: AsyncSession, before: set[uuid.UUID]) -> None:
    """The sample history did not really happen: nothing is owed for it (no e-mail to
    send, no bot to answer, no webhook to call). Drop the outbox rows the seed wrote."""
    await session.flush()
    await session.execute(delete(OutboxItem).where(OutboxItem.id.not_in(before)))
