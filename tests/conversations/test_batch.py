"""Group commit writes exactly what the one path writes.

The same chat, message for message, goes once through ``receive``/``reply`` (one
transaction each) and once through ``write_batch`` (the web-chat group commit); the
stored messages, conversation counters, timeline entries, SLA clocks and owed outbox
work must be the same.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import select

from omnidesk.auth.service import Principal
from omnidesk.channels.base import InboundMessage
from omnidesk.conversations.batch import ChatIn, ChatReply, GroupWriter, write_batch, write_one
from omnidesk.conversations.views import message_json
from omnidesk.kit.db import Database
from omnidesk.kit.time import utcnow
from omnidesk.models import Activity, Conversation, Message, OutboxItem, SlaTarget
from tests.sla.test_sla_policies_api import policies

VISITORS = ["v-甲", "v-乙", "v-丙"]


def agent() -> Principal:
    return Principal(kind="user", id=uuid.uuid4(), name="Agent 王", role="agent",
                     user_id=uuid.uuid4())


def chat(inbox: str, visitor: str, body: str, conv: uuid.UUID | None,
         client_id: str | None = None) -> ChatIn:
    return ChatIn(InboundMessage(inbox_id=uuid.UUID(inbox), identities={"visitor_id": visitor},
                                 body=body, external_id=client_id, contact_name="訪客"),
                  region="CN", conversation_id=conv)


def script(inbox: str, who: Principal, convs: dict[str, uuid.UUID | None]
           ) -> list[list[ChatIn | ChatReply]]:
    """Rounds of items, one per conversation per round (as a batch holds them)."""
    rounds: list[list[ChatIn | ChatReply]] = []
    for step in range(7):
        items: list[ChatIn | ChatReply] = []
        for v in VISITORS:
            conv = convs[v]
            assert conv is not None
            if step in (0, 2, 5, 6):  # 6: a next-response clock already runs
                items.append(chat(inbox, v, f"{v} 第{step}条 message", conv, f"{v}-{step}"))
            elif step == 3:  # a retried frame: same client id as step 2
                items.append(chat(inbox, v, f"{v} 第2条 message", conv, f"{v}-2"))
            else:
                items.append(ChatReply(who, conv, f"回复 {v} {step}", client_id=f"a-{v}-{step}"))
        rounds.append(items)
    return rounds


async def open_chats(db: Database, *inboxes: str) -> dict[str, dict[str, uuid.UUID | None]]:
    """Each visitor's first message in each inbox (a first message takes the one path)."""
    convs: dict[str, dict[str, uuid.UUID | None]] = {}
    for inbox in inboxes:
        convs[inbox] = {}
        for v in VISITORS:
            async with db.transaction() as session:
                written = await write_one(session, chat(inbox, v, f"{v} 你好", None, f"{v}-x"))
            convs[inbox][v] = written.conversation_id
    return convs


async def play_one_path(db: Database, inbox: str, who: Principal,
                        convs: dict[str, uuid.UUID | None]) -> None:
    """The script through the one path, a transaction per item (the reference)."""
    for items in script(inbox, who, convs):
        for item in items:
            async with db.transaction() as session:
                await write_one(session, item)


async def snapshot(db: Database, inbox: str) -> dict[str, Any]:
    async with db.transaction() as session:
        convs = list(await session.scalars(select(Conversation).where(
            Conversation.inbox_id == uuid.UUID(inbox)).order_by(Conversation.created_at)))
        out: dict[str, Any] = {}
        for n, c in enumerate(convs):
            stored = list(await session.scalars(
                select(Message).where(Message.conversation_id == c.id).order_by(Message.seq)))
            msgs = [(m.seq, m.sender_type, m.author_name, m.body, m.external_id, m.is_note,
                     m.data) for m in stored]
            act = await session.scalar(select(Activity).where(
                Activity.external_id == str(c.id)))
            assert act is not None
            data = dict(act.data)
            data.pop("inbox_id")
            clocks = sorted((t.metric, t.stopped_at is None, t.state) for t in
                            await session.scalars(select(SlaTarget).where(
                                SlaTarget.subject_id == c.id)))
            owed = sorted((o.event, o.handler) for o in await session.scalars(
                select(OutboxItem)) if (o.payload.get("message") or {}).get(
                    "conversation_id") == str(c.id))
            out[str(n)] = {
                "messages": msgs, "last_seq": c.last_seq, "count": c.message_count,
                "status": c.status, "answered": c.first_response_at is not None,
                "activity": (act.summary, data, act.contact_id == c.contact_id,
                             act.occurred_at == c.last_message_at == stored[-1].created_at),
                "clocks": clocks, "outbox": owed,
                "last_message_at_set": c.last_message_at is not None}
        return out


async def test_group_commit_writes_what_the_one_path_writes(
        client: httpx.AsyncClient, db: Database) -> None:
    await policies(client)  # first/next response and resolution clocks on conversations
    await client.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"})
    one_inbox, batch_inbox = [
        (await client.post("/api/v1/inboxes", json={"channel": "web_chat", "name": n})).json()[
            "id"] for n in ("one", "batch")]
    who = agent()
    convs = await open_chats(db, one_inbox, batch_inbox)
    await play_one_path(db, one_inbox, who, convs[one_inbox])
    for items in script(batch_inbox, who, convs[batch_inbox]):
        async with db.transaction() as session:
            results, fallback = await write_batch(session, items)
        assert fallback == 0, "every item of the script is on the fast path"
        assert all(r is not None for r in results)
        async with db.transaction() as session:  # what was pushed is what is stored
            for r in results:
                assert r is not None
                stored = await session.get(Message, uuid.UUID(r.message["id"]))
                conv = await session.get(Conversation, r.conversation_id)
                assert stored is not None and conv is not None
                assert r.message == message_json(stored, conv)

    one, batch = await snapshot(db, one_inbox), await snapshot(db, batch_inbox)
    assert one == batch
    first = one["0"]
    assert [m[0] for m in first["messages"]] == [1, 2, 3, 4, 5, 6, 7]  # the retry once
    assert ("next_response", True, "on_track") in first["clocks"]  # one runs, not two
    assert sum(c[:2] == ("next_response", True) for c in first["clocks"]) == 1
    assert ("next_response", False, "met") in first["clocks"]
    assert first["answered"] and first["outbox"]
    assert first["activity"][2:] == (True, True)  # the entry follows the last message


async def test_writer_falls_back_to_the_one_path_and_reports_errors(
        client: httpx.AsyncClient, db: Database) -> None:
    inbox = (await client.post("/api/v1/inboxes", json={"channel": "web_chat", "name": "w"})
             ).json()["id"]
    writer = GroupWriter(db)
    writer.start()
    try:
        first = await writer.submit(chat(inbox, "v-1", "hello", None, "c0"))
        conv = first.conversation_id
        # many at once: same conversation several times, plus a resolved conversation
        async with db.transaction() as session:
            c = await session.get(Conversation, conv)
            assert c is not None
            c.status, c.resolved_at = "resolved", utcnow()  # reopened by the next message
        got = await asyncio.gather(*(writer.submit(chat(inbox, "v-1", f"m{i}", conv, f"c{i}"))
                                     for i in range(1, 6)))
        assert sorted(w.message["seq"] for w in got) == [2, 3, 4, 5, 6]
        bad = ChatReply(agent(), uuid.uuid4(), "to nowhere")
        try:
            await writer.submit(bad)
        except Exception as exc:  # the one path's 404
            assert getattr(exc, "status", None) == 404
        else:
            raise AssertionError("a reply to an unknown conversation must fail")
    finally:
        await writer.stop()
    async with db.transaction() as session:
        c = await session.get(Conversation, conv)
        assert c is not None and c.status == "open" and c.last_seq == 6


async def test_a_reply_into_another_teams_restricted_inbox_is_refused_in_a_batch(
        client: httpx.AsyncClient, db: Database) -> None:
    from omnidesk.kit.errors import OmnideskError

    team = (await client.post("/api/v1/teams", json={"name": "政企客户服务组"})).json()
    inbox = (await client.post("/api/v1/inboxes", json={
        "channel": "web_chat", "name": "政企专线", "team_id": team["id"],
        "restricted": True})).json()["id"]
    async with db.transaction() as session:
        written = await write_one(session, chat(inbox, "v-政企", "专线中断", None, "z-1"))
    conv = written.conversation_id
    outsider = agent()  # an agent of no team
    member = Principal(kind="user", id=uuid.uuid4(), name="Agent 李", role="agent",
                       user_id=uuid.uuid4(), team_ids=frozenset({uuid.UUID(team["id"])}))
    async with db.transaction() as session:
        results, fallback = await write_batch(session, [
            ChatReply(outsider, conv, "我来看看", client_id="o-1")])
    assert results == [None] and fallback == 1  # the one path decides, and refuses
    try:
        async with db.transaction() as session:
            await write_one(session, ChatReply(outsider, conv, "我来看看", client_id="o-1"))
    except OmnideskError as exc:
        assert exc.status in (403, 404)
    else:
        raise AssertionError("an outsider replied into a restricted inbox")
    async with db.transaction() as session:
        results, fallback = await write_batch(session, [
            ChatReply(member, conv, "您好，专线组为您服务", client_id="m-1")])
    assert fallback == 0 and results[0] is not None
    assert results[0].message["seq"] == 2


@asynccontextmanager
async def lingering_writer(client: httpx.AsyncClient, db: Database, name: str, linger: float
                           ) -> AsyncIterator[tuple[str, list[uuid.UUID | None], GroupWriter]]:
    """A started group writer with ``linger`` and each visitor's open chat in a new inbox."""
    inbox = (await client.post("/api/v1/inboxes", json={"channel": "web_chat",
                                                        "name": name})).json()["id"]
    convs = list((await open_chats(db, inbox))[inbox].values())
    writer = GroupWriter(db, linger=linger)
    writer.start()
    try:
        yield inbox, convs, writer
    finally:
        await writer.stop()


async def test_a_busy_writer_lets_a_batch_fill_and_an_idle_one_writes_at_once(
        client: httpx.AsyncClient, db: Database) -> None:
    async with lingering_writer(client, db, "linger", 0.3) as (inbox, convs, writer):
        await writer.submit(chat(inbox, VISITORS[0], "idle", convs[0], "i-0"))
        assert writer.batches == 1  # idle: written alone, nothing to wait for

        async def later(n: int) -> None:
            await asyncio.sleep(0.02 * n)  # arrive one after another, well within the linger
            await writer.submit(chat(inbox, VISITORS[n], f"busy {n}", convs[n], f"b-{n}"))

        # right after a batch the writer counts as busy: the next batch waits for company
        await asyncio.gather(writer.submit(chat(inbox, VISITORS[0], "busy 0", convs[0], "b-0")),
                             later(1), later(2))
        assert writer.batches == 2 and writer.written == 4


async def test_a_batch_starts_at_most_once_per_linger_and_waits_only_the_rest_of_it(
        client: httpx.AsyncClient, db: Database) -> None:
    async with lingering_writer(client, db, "linger rest", 0.4) as (inbox, convs, writer):
        async def at(delay: float, n: int) -> None:
            await asyncio.sleep(delay)
            await writer.submit(chat(inbox, VISITORS[n], f"at {delay}", convs[n], f"r-{n}"))

        # 0: idle, written at once; 0.25 s later: waits out the 0.4 s since batch 0 began
        # (not 0.4 s more); 0.55 s: after that second batch began, so it is a third.
        await asyncio.gather(at(0, 0), at(0.25, 1), at(0.55, 2))
        assert writer.batches == 3 and writer.written == 3
