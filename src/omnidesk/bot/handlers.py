"""The bot runs after commit, from the outbox: a new chat conversation is greeted, and
each customer message gets its answer. Retries are harmless (a message is handled once)."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.bot import engine
from omnidesk.kit.db import Database
from omnidesk.kit.outbox import register
from omnidesk.models import BotSession, Conversation, Message, OutboxItem

CHAT_CHANNELS = {"web_chat", "app_chat", "wechat"}


# Conversations whose bot session has ended (handed off, resolved): their messages owe the
# bot nothing, so a busy chat after the hand-off costs no outbox work. An ended session
# never restarts; the cache only saves work (a miss means one quick no-op run).
_ENDED: OrderedDict[str, None] = OrderedDict()
_ENDED_LIMIT = 100_000


def mark_ended(conversation_id: uuid.UUID | str) -> None:
    _ENDED[str(conversation_id)] = None
    _ENDED.move_to_end(str(conversation_id))
    while len(_ENDED) > _ENDED_LIMIT:
        _ENDED.popitem(last=False)


async def _wants(_: AsyncSession, event: str, payload: dict[str, Any]) -> bool:
    message = payload.get("message") or {}
    return (message.get("sender_type") == "contact" and not message.get("is_note")
            and message.get("channel") in CHAT_CHANNELS
            and message.get("conversation_id") not in _ENDED)


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
        bot = await session.get(BotSession, conv.id)
        if bot is None or bot.state == "ended":  # the bot will not speak here again
            mark_ended(conv.id)


def install() -> None:
    register("bot.respond", run, events={"message.created"}, selector=_wants)
