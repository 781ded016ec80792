"""The chat group commit in its own process (``OMNIDESK_CHAT_WRITER=process``).

The child writes the common case; the parent publishes what the child's commit pushes and
answers the senders. The stored rows must be those of the one path, every message must be
pushed once, and a child that dies loses nothing. The websocket end-to-end tests run here
again with the writer process (the rest of the suite writes inline)."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from omnidesk.config import Settings, get_settings
from omnidesk.conversations.batch import GroupWriter
from omnidesk.conversations.writer_process import WriterProcess
from omnidesk.kit.db import Database
from omnidesk.realtime.hub import get_hub
from tests.conversations.test_batch import (
    VISITORS,
    agent,
    chat,
    open_chats,
    play_one_path,
    script,
    snapshot,
)
from tests.realtime.test_websockets import (  # noqa: F401 (collected here again)
    test_reconnect_with_last_seen_gets_what_was_missed_once,
    test_visitor_and_agent_see_each_other_at_once,
)
from tests.sla.test_sla_policies_api import policies


@pytest.fixture
def settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("OMNIDESK_CHAT_WRITER", "process")
    get_settings.cache_clear()
    return get_settings()


class Sink:
    """Stands for a websocket subscribed to a topic."""

    def __init__(self) -> None:
        self.topics: set[str] = set()
        self.got: list[dict[str, Any]] = []

    def offer(self, message: dict[str, Any], data: bytes) -> None:
        self.got.append(message)


@pytest.fixture
async def writer(db: Database, settings: Settings) -> AsyncIterator[GroupWriter]:
    process = WriterProcess(settings.database_url)
    await process.start()
    group = GroupWriter(db, linger=0.005, process=process)
    group.start()
    yield group
    await group.stop()
    assert not process.alive()


async def test_the_writer_process_writes_what_the_one_path_writes(
        client: httpx.AsyncClient, db: Database, writer: GroupWriter) -> None:
    assert writer.process is not None and writer.process.pid not in (None, os.getpid())
    await policies(client)
    await client.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"})
    one_inbox, batch_inbox = [
        (await client.post("/api/v1/inboxes", json={"channel": "web_chat", "name": n})).json()[
            "id"] for n in ("one", "process")]
    hub = get_hub()
    assert hub is not None
    agents = Sink()
    hub.subscribe(agents, f"inbox:{batch_inbox}")  # type: ignore[arg-type]
    who = agent()
    convs = await open_chats(db, one_inbox, batch_inbox)
    await play_one_path(db, one_inbox, who, convs[one_inbox])
    before = writer.written
    agents.got.clear()
    answers = []
    for items in script(batch_inbox, who, convs[batch_inbox]):
        answers += await asyncio.gather(*(writer.submit(i) for i in items))
    assert writer.written - before == len(answers) == 7 * len(VISITORS)  # all in the child
    assert sum(a.duplicate for a in answers) == len(VISITORS)  # the retried frames

    assert await snapshot(db, one_inbox) == await snapshot(db, batch_inbox)
    pushed = [m["message"]["id"] for m in agents.got
              if m["type"] == "message" and m["message"]["sender_type"] in ("contact", "agent")]
    fresh = [a.message["id"] for a in answers if not a.duplicate]
    assert sorted(pushed) == sorted(fresh)  # each stored message pushed once, after commit


async def test_a_writer_process_that_dies_loses_nothing(
        client: httpx.AsyncClient, db: Database, writer: GroupWriter) -> None:
    inbox = (await client.post("/api/v1/inboxes", json={"channel": "web_chat",
                                                        "name": "kill"})).json()["id"]
    first = await writer.submit(chat(inbox, "v-k", "第一条", None, "k-0"))
    conv = first.conversation_id
    process = writer.process
    assert process is not None and process.pid is not None
    await writer.submit(chat(inbox, "v-k", "第二条", conv, "k-1"))

    # Killed between batches: the next batch starts a new child.
    os.kill(process.pid, signal.SIGKILL)
    await asyncio.sleep(0.2)
    third = await writer.submit(chat(inbox, "v-k", "第三条", conv, "k-2"))
    assert third.message["seq"] == 3 and process.restarts == 1

    # Killed while a batch waits for it: the batch takes the one path in the parent.
    pid = process.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    pending = asyncio.gather(*(writer.submit(chat(inbox, "v-k", f"第{n}条", conv, f"k-{n}"))
                               for n in (3,)),
                             writer.submit(agent_reply := _reply(conv, "马上处理", "r-1")))
    await asyncio.sleep(0.3)
    os.kill(pid, signal.SIGKILL)
    got = await asyncio.wait_for(pending, timeout=30)
    assert sorted(w.message["seq"] for w in got) == [4, 5]
    assert agent_reply.body == "马上处理"
    # and the retries of what was stored are answered from the store, not written twice
    again = await writer.submit(chat(inbox, "v-k", "第3条", conv, "k-3"))
    assert again.duplicate and again.message["seq"] in (4, 5)
    async with db.transaction() as session:
        from omnidesk.models import Conversation

        c = await session.get(Conversation, conv)
        assert c is not None and c.last_seq == 5 and c.message_count == 5


def _reply(conv: uuid.UUID, body: str, client_id: str) -> Any:
    from omnidesk.conversations.batch import ChatReply

    return ChatReply(agent(), conv, body, client_id=client_id)
