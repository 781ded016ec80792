"""The bot runs after commit, from the outbox: a new chat conversation is greeted, and
each customer message gets its answer. Retries are harmless (a message is handled once)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.bot import engine
from omnidesk.kit.db import Database
from omnidesk.kit.outbox import register
from omnidesk.models import Conversation, Message, OutboxItem

CHAT_CHANNELS = {"web_chat", "app_chat", "wechat"}


async def _wants(_: AsyncSession, event: str, payload: dict[str, Any]) -> bool:
    message = payload.get("message") or {}
    return (message.get("sender_type") == "contact" and not message.get("is_note")
            and message.get("channel") in CHAT_CHANNELS)


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


def install() -> None:
    register("bot.respond", run, events={"message.created"}, selector=_wants)
