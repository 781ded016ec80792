"""What the bot owes, decided in the writing transaction: a conversation's first customer
message, and later ones only while a bot session serves the conversation. Messages that
arrive before the greeting is stored are answered when the greeting is."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlalchemy import func, select

from omnidesk.channels.base import InboundMessage
from omnidesk.conversations.batch import ChatIn, write_batch
from omnidesk.conversations.service import receive
from omnidesk.kit.db import Database
from omnidesk.models import BotSession, Message, OutboxItem
from tests.bot.test_bot_chat import setup_bot
from tests.conftest import LiveServer


async def bot_rows(db: Database) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxItem).where(
            OutboxItem.handler == "bot.respond")) or 0)


async def wait_for(db: Database, conversation_id: uuid.UUID, count: int) -> list[Message]:
    """The bot's messages in the conversation, once there are at least ``count``."""
    for _ in range(150):
        async with db.transaction() as session:
            said = list(await session.scalars(select(Message).where(
                Message.conversation_id == conversation_id, Message.sender_type == "bot")
                .order_by(Message.seq)))
        if len(said) >= count:
            return said
        await asyncio.sleep(0.1)
    raise AssertionError(f"the bot said {len(said)} things, expected {count}")


async def test_what_the_customer_wrote_before_the_greeting_is_answered(
        server: LiveServer, client: httpx.AsyncClient, db: Database) -> None:
    inbox = uuid.UUID(await setup_bot(client))
    before = await bot_rows(db)
    async with db.transaction() as session:  # both stored before the bot runs at all
        first = await receive(session, InboundMessage(
            inbox_id=inbox, identities={"visitor_id": "early-1"}, body="你好"), region="CN")
        second = await receive(session, InboundMessage(
            inbox_id=inbox, identities={"visitor_id": "early-1"}, body="我要开发票"),
            region="CN")
    assert second.conversation.id == first.conversation.id
    assert second.message.seq == 2
    assert await bot_rows(db) == before + 1  # only the first message waited for the bot
    said = await wait_for(db, first.conversation.id, 2)
    assert said[0].data["bot"]["kind"] == "greeting"
    assert "电子发票" in said[1].body  # the second message got its answer all the same


async def test_after_an_agent_takes_over_the_chat_owes_the_bot_nothing(
        server: LiveServer, client: httpx.AsyncClient, db: Database) -> None:
    inbox = uuid.UUID(await setup_bot(client))
    async with db.transaction() as session:
        first = await receive(session, InboundMessage(
            inbox_id=inbox, identities={"visitor_id": "busy-1"}, body="宽带断网了"),
            region="CN")
    conv_id = first.conversation.id
    await wait_for(db, conv_id, 2)  # the greeting and an answer
    r = await client.post(f"/api/v1/conversations/{conv_id}/messages",
                          json={"body": "您好，我是客服小王，马上为您查看线路"})
    assert r.status_code == 201, r.text
    async with db.transaction() as session:  # the bot notices the agent and steps aside
        await receive(session, InboundMessage(
            inbox_id=inbox, identities={"visitor_id": "busy-1"}, body="好的谢谢"), region="CN")
    for _ in range(150):
        async with db.transaction() as session:
            bot = await session.get(BotSession, conv_id)
            state = bot.state if bot else None
        if state == "ended":
            break
        await asyncio.sleep(0.1)
    assert bot is not None and bot.outcome == "handed_off"
    assert bot.handoff_reason == "agent_took_over"
    rows = await bot_rows(db)
    # A busy chat with the agent now: through the one path and through the group commit.
    async with db.transaction() as session:
        await receive(session, InboundMessage(
            inbox_id=inbox, identities={"visitor_id": "busy-1"}, body="线路还是不通"),
            region="CN")
    async with db.transaction() as session:
        results, fallback = await write_batch(session, [ChatIn(InboundMessage(
            inbox_id=inbox, identities={"visitor_id": "busy-1"}, body="光猫红灯一直亮"),
            region="CN", conversation_id=conv_id)])
    assert fallback == 0 and results[0] is not None
    assert await bot_rows(db) == rows


async def test_the_group_commit_queues_first_messages_and_active_bot_chats(
        server: LiveServer, client: httpx.AsyncClient, db: Database) -> None:
    inbox = uuid.UUID(await setup_bot(client))
    convs = []
    for visitor in ("g-1", "g-2"):
        async with db.transaction() as session:
            got = await receive(session, InboundMessage(
                inbox_id=inbox, identities={"visitor_id": visitor}, body="你好"), region="CN")
        convs.append(got.conversation.id)
        await wait_for(db, got.conversation.id, 1)
    async with db.transaction() as session:  # g-2's bot is gone (e.g. handed off)
        bot = await session.get(BotSession, convs[1])
        assert bot is not None
        bot.state = "ended"
    before = await bot_rows(db)
    async with db.transaction() as session:
        results, fallback = await write_batch(session, [
            ChatIn(InboundMessage(inbox_id=inbox, identities={"visitor_id": v}, body=body),
                   region="CN", conversation_id=c)
            for v, c, body in (("g-1", convs[0], "我想换套餐"), ("g-2", convs[1], "我想换套餐"))])
    assert fallback == 0 and all(results)
    assert await bot_rows(db) == before + 1  # g-1 only
