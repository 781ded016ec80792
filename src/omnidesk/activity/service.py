"""The unified timeline: every channel, every business event, one list per contact."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import CompoundSelect, Row, and_, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.activity.reads import flush_pending, split_parts, tagged_union
from omnidesk.kit.errors import BadRequest, NotFound
from omnidesk.kit.web import decode_cursor, encode_cursor
from omnidesk.models import Activity, Contact, Conversation, Message
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


_A = Activity.__table__.c
_C = Contact.__table__.c
_CID = bindparam("cid", type_=_C.id.type)
TIMELINE_COLUMNS = (_A.id, _A.kind, _A.channel, _A.type, _A.outcome, _A.summary, _A.source,
                    _A.external_id, _A.conversation_id, _A.data, _A.occurred_at)


@lru_cache(maxsize=32)
def timeline_statement(channels: bool, kinds: bool, outcome: bool,
                        cursor: bool) -> CompoundSelect[Any]:
    """The contact and one page of its timeline, for one combination of filters (built
    once per combination: a constant statement's cache key is computed once)."""
    stmt = select(*TIMELINE_COLUMNS).where(_A.contact_id == _CID)
    if channels:
        stmt = stmt.where(_A.channel.in_(bindparam("channels", expanding=True)))
    if kinds:
        stmt = stmt.where(_A.kind.in_(bindparam("kinds", expanding=True)))
    if outcome:
        stmt = stmt.where(_A.outcome == bindparam("outcome", type_=_A.outcome.type))
    if cursor:
        at = bindparam("at", type_=_A.occurred_at.type)
        after = bindparam("after", type_=_A.id.type)
        stmt = stmt.where(or_(_A.occurred_at < at, and_(_A.occurred_at == at, _A.id < after)))
    stmt = stmt.order_by(_A.occurred_at.desc(), _A.id.desc()).limit(bindparam("size"))
    return tagged_union([
        ("contact", select(_C.id, _C.merged_into_id).where(_C.id == _CID), ()),
        ("items", stmt, (("occurred_at", True), ("id", True))),
    ])


async def list_timeline(
    session: AsyncSession, contact_id: uuid.UUID, *, channels: list[str], kinds: list[str],
    outcome: str | None, limit: int, cursor: str | None,
) -> tuple[list[Row[Any]], str | None]:
    """Newest first, keyset-paginated on (occurred_at, id), for the contact (following
    merges to the surviving record; NotFound if there is none). One statement: the
    contact and the page (rows with the activity's columns by name)."""
    params: dict[str, Any] = {"size": limit + 1}
    if channels:
        params["channels"] = channels
    if kinds:
        params["kinds"] = kinds
    if outcome:
        params["outcome"] = outcome
    if cursor:
        at_raw, id_raw = decode_cursor(cursor, 2)
        try:
            params["at"], params["after"] = datetime.fromisoformat(at_raw), uuid.UUID(id_raw)
        except ValueError as exc:
            raise BadRequest("cursor is not one this server issued") from exc
        if params["at"].tzinfo is None:
            raise BadRequest("cursor is not one this server issued")
    union = timeline_statement(bool(channels), bool(kinds), bool(outcome), bool(cursor))
    await flush_pending(session)
    wanted, seen = contact_id, set()
    while True:  # follow merges as customers.service.get_contact does
        params["cid"] = wanted
        parts = split_parts(await session.execute(union, params), ["contact", "items"])
        if not parts["contact"]:
            raise NotFound(f"contact {contact_id} not found")
        contact = parts["contact"][0]
        if contact.merged_into_id is None or contact.id in seen:
            break
        seen.add(contact.id)
        wanted = contact.merged_into_id
    rows = parts["items"]
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit and page:
        next_cursor = encode_cursor(page[-1].occurred_at.isoformat(), page[-1].id)
    return page, next_cursor


KINDS = tuple(k.value for k in ActivityKind)
