"""The bot runs after commit, from the outbox: a new chat conversation is greeted, and
each customer message gets its answer. Retries are harmless (a message is handled once)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.bot import engine
from omnidesk.kit.db import Database
from omnidesk.kit.outbox import register
from omnidesk.models import BotSession, Conversation, Message, OutboxItem

CHAT_CHANNELS = {"web_chat", "app_chat", "wechat"}


_STATES = "bot.sessions"  # session.info: conversation id → bot state (None: no bot)
_STATES_OF = select(BotSession.conversation_id, BotSession.state).where(
    BotSession.conversation_id.in_(bindparam("ids", expanding=True)))


def _is_customer_chat(message: dict[str, Any]) -> bool:
    return (message.get("sender_type") == "contact" and not message.get("is_note")
            and message.get("channel") in CHAT_CHANNELS)


async def _prefetch(session: AsyncSession, _: str, payloads: list[dict[str, Any]]) -> None:
    """The bot state of a batch's conversations, in one query."""
    ids = {str(m["conversation_id"]) for p in payloads
           if _is_customer_chat(m := p.get("message") or {}) and m.get("seq") != 1}
    if not ids:
        return
    states: dict[str, str | None] = session.info.setdefault(_STATES, {})
    rows = await (await session.connection()).execute(
        _STATES_OF, {"ids": [uuid.UUID(i) for i in ids]})
    states.update(dict.fromkeys(ids))
    states.update({str(cid): state for cid, state in rows})


async def _wants(session: AsyncSession, event: str, payload: dict[str, Any]) -> bool:
    """A conversation's first customer message (the bot may greet), and later ones while
    the bot serves the conversation. Without a bot session (bot off, nothing trained,
    never greeted) or after it ended (handed off, resolved) the bot owes nothing, so a
    busy chat with an agent costs no outbox work."""
    message = payload.get("message") or {}
    if not _is_customer_chat(message):
        return False
    if message.get("seq") == 1:
        return True
    conversation_id = str(message.get("conversation_id"))
    states: dict[str, str | None] = session.info.setdefault(_STATES, {})
    if conversation_id not in states:
        states[conversation_id] = await session.scalar(select(BotSession.state).where(
            BotSession.conversation_id == uuid.UUID(conversation_id)))
    state = states[conversation_id]
    return state is not None and state != "ended"


async def run(db: Database, item: OutboxItem) -> None:
    data = item.payload["message"]
    async with db.transaction() as session:
        message = await session.get(Message, uuid.UUID(data["id"]))
        if message is None:
            return
        conv = await session.get(Conversation, message.conversation_id)
        if conv is None:
            return
        first = message.seq == 1
        if first:
            await engine.greet(session, conv, message.body)
        await engine.on_customer_message(session, conv, message, first=first)
        if first and await session.get(BotSession, conv.id) is not None:
            # What the customer wrote before the greeting was stored did not wait for the
            # bot (no session existed yet): answer it now, in order.
            later = await session.scalars(select(Message).where(
                Message.conversation_id == conv.id, Message.seq > message.seq,
                Message.sender_type == "contact", Message.is_note.is_(False))
                .order_by(Message.seq))
            for m in list(later):
                await engine.on_customer_message(session, conv, m)


def install() -> None:
    register("bot.respond", run, events={"message.created"}, selector=_wants,
             prefetch=_prefetch)
