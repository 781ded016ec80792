"""Web chat end to end over real websockets: visitor ↔ agent, resume, bad frames."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from omnidesk.kit.db import Database
from omnidesk.kit.security import sign_value
from tests.conftest import LiveServer, make_user, token_for


async def recv(ws: ClientConnection, type_: str, timeout: float = 5) -> dict[str, Any]:
    """The next frame of the given type (other frames are skipped)."""
    return (await frames_until(ws, type_, timeout))[1]


async def start_chat(vis: ClientConnection, body: str, client_id: str) -> str:
    """A visitor's first message on a new socket; the id of the conversation it opens."""
    await recv(vis, "hello")
    await vis.send(json.dumps({"type": "message", "body": body, "client_id": client_id}))
    return str((await recv(vis, "ack"))["message"]["conversation_id"])


async def frames_until(ws: ClientConnection, type_: str, timeout: float = 5
                       ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The frames before the next frame of the given type, and that frame."""
    before = []
    async with asyncio.timeout(timeout):
        while True:
            frame = dict(json.loads(await ws.recv()))
            if frame["type"] == type_:
                return before, frame
            before.append(frame)


async def no_frame(ws: ClientConnection, type_: str, wait: float = 0.5) -> None:
    with pytest.raises(TimeoutError):
        await recv(ws, type_, timeout=wait)


async def chat_inbox(client: httpx.AsyncClient) -> str:
    r = await client.post("/api/v1/inboxes", json={"channel": "web_chat", "name": "官网"})
    return str(r.json()["id"])


async def test_visitor_and_agent_see_each_other_at_once(
    server: LiveServer, client: httpx.AsyncClient, admin_token: str
) -> None:
    inbox = await chat_inbox(client)
    async with connect(f"{server.ws_url}/ws/agent?token={admin_token}") as agent, \
            connect(f"{server.ws_url}/ws/chat?inbox_id={inbox}&visitor_id=v-42&name=Ann") as vis:
        assert (await recv(agent, "hello"))["inboxes"] == [inbox]
        assert (await recv(vis, "hello"))["conversation_id"] is None
        await vis.send(json.dumps({"type": "message", "body": "你好，寬頻斷線了",
                                   "client_id": "c1"}))
        ack = await recv(vis, "ack")
        got = await recv(agent, "message")
        assert got["message"]["body"] == "你好，寬頻斷線了"
        assert got["message"]["id"] == ack["message"]["id"]
        conv_id = got["message"]["conversation_id"]
        await agent.send(json.dumps({"type": "reply", "conversation_id": conv_id,
                                     "body": "正在为您检查线路", "client_id": "a1"}))
        assert (await recv(agent, "ack"))["message"]["sender_type"] == "agent"
        reply = await recv(vis, "message")
        assert reply["message"]["body"] == "正在为您检查线路" and reply["message"]["seq"] == 2
        # a retried frame with the same client_id is stored once
        await vis.send(json.dumps({"type": "message", "body": "你好，寬頻斷線了",
                                   "client_id": "c1"}))
        assert (await recv(vis, "ack"))["duplicate"] is True
        # internal notes never reach the visitor
        await agent.send(json.dumps({"type": "reply", "conversation_id": conv_id,
                                     "body": "note", "is_note": True}))
        await recv(agent, "ack")
        await no_frame(vis, "message")
    messages = (await client.get(f"/api/v1/conversations/{conv_id}/messages")).json()["items"]
    assert [m["seq"] for m in messages] == [1, 2, 3]
    ctx = (await client.get("/api/v1/context", params={"visitor_id": "v-42"})).json()
    assert ctx["contact"]["name"] == "Ann"


async def test_the_sender_gets_its_ack_and_its_other_tabs_the_message(
    server: LiveServer, client: httpx.AsyncClient, admin_token: str
) -> None:
    """A message reaches every socket that follows it, but the socket that sent it only
    as its ``ack`` (no echo of its own frame)."""
    inbox = await chat_inbox(client)
    base = f"{server.ws_url}/ws/chat?inbox_id={inbox}&visitor_id=v-tabs"
    async with connect(base) as tab1:
        conv_id = await start_chat(tab1, "第一條", "t0")
        agents = f"{server.ws_url}/ws/agent?token={admin_token}"
        async with connect(base) as tab2, connect(agents) as console1, \
                connect(agents) as console2:
            for ws in (tab2, console1, console2):
                await recv(ws, "hello")
            await tab1.send(json.dumps({"type": "message", "body": "我在两个标签页",
                                        "client_id": "t1"}))
            before, ack = await frames_until(tab1, "ack")
            assert [f for f in before if f["type"] == "message"] == []
            for ws in (tab2, console1, console2):
                assert (await recv(ws, "message"))["message"]["id"] == ack["message"]["id"]
            await console1.send(json.dumps({"type": "reply", "conversation_id": conv_id,
                                            "body": "Checking your line", "client_id": "r1"}))
            before, ack = await frames_until(console1, "ack")
            reply = ack["message"]
            assert [f for f in before if f["type"] == "message"] == []
            for ws in (tab1, tab2, console2):
                assert (await recv(ws, "message"))["message"]["id"] == reply["id"]
            await no_frame(tab1, "message")  # neither its own message nor the reply again
            await no_frame(console1, "message")


async def test_reconnect_with_last_seen_gets_what_was_missed_once(
    server: LiveServer, client: httpx.AsyncClient, admin_token: str
) -> None:
    inbox = await chat_inbox(client)
    base = f"{server.ws_url}/ws/chat?inbox_id={inbox}&visitor_id=v-7"
    async with connect(base) as vis:
        conv_id = await start_chat(vis, "hello", "x")
    for text in ("first answer", "second answer"):
        r = await client.post(f"/api/v1/conversations/{conv_id}/messages", json={"body": text})
        assert r.status_code == 201
    async with connect(f"{base}&last_seq=1") as vis:
        hello = await recv(vis, "hello")
        assert hello["conversation_id"] == conv_id and hello["last_seq"] == 3
        missed = [await recv(vis, "message"), await recv(vis, "message")]
        assert [m["message"]["body"] for m in missed] == ["first answer", "second answer"]
        await no_frame(vis, "message")
        # live messages still flow after the backlog
        await client.post(f"/api/v1/conversations/{conv_id}/messages", json={"body": "live"})
        assert (await recv(vis, "message"))["message"]["body"] == "live"
    # the agent console resumes after a message id
    first_id = (await client.get(f"/api/v1/conversations/{conv_id}/messages")
                ).json()["items"][0]["id"]
    async with connect(f"{server.ws_url}/ws/agent?token={admin_token}&since={first_id}") as ag:
        bodies = [(await recv(ag, "message"))["message"]["body"] for _ in range(3)]
        assert bodies == ["first answer", "second answer", "live"]
        await no_frame(ag, "message")


async def close_code(url: str, send: str | bytes | None = None) -> tuple[int, str]:
    async with connect(url) as ws:
        if send is not None:
            await recv(ws, "hello")
            await ws.send(send)
        with pytest.raises(ConnectionClosed) as info:
            for _ in range(10):
                await asyncio.wait_for(ws.recv(), 5)
    rcvd = info.value.rcvd
    assert rcvd is not None
    return rcvd.code, rcvd.reason


async def test_frames_that_are_not_the_protocol_close_with_a_reason(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    inbox = await chat_inbox(client)
    chat = f"{server.ws_url}/ws/chat?inbox_id={inbox}&visitor_id=v-1"
    assert await close_code(chat, "not json") == (4400, "frame is not JSON")
    assert (await close_code(chat, b"\x00\x01"))[0] == 1003
    code, reason = await close_code(chat, json.dumps({"type": "launch"}))
    assert code == 4400 and "unknown frame type" in reason
    code, reason = await close_code(chat, json.dumps({"type": "message"}))
    assert code == 4400 and "'body' is required" in reason
    code, _ = await close_code(chat, json.dumps({"type": "message", "body": 5}))
    assert code == 4400
    code, _ = await close_code(f"{server.ws_url}/ws/chat?inbox_id={inbox}")
    assert code == 4400
    code, _ = await close_code(
        f"{server.ws_url}/ws/chat?inbox_id=0190b0a0-0000-7000-8000-000000000000&visitor_id=v")
    assert code == 4404
    code, _ = await close_code(f"{server.ws_url}/ws/chat?inbox_id={inbox}&app_user=42.bad")
    assert code == 4401
    code, _ = await close_code(f"{server.ws_url}/ws/agent")
    assert code == 4401
    code, _ = await close_code(f"{server.ws_url}/ws/agent?token=od_wrong")
    assert code == 4401


async def test_signed_app_user_and_assignment_pushes_context(
    server: LiveServer, client: httpx.AsyncClient, db: Database
) -> None:
    r = await client.post("/api/v1/inboxes", json={"channel": "app_chat", "name": "App"})
    inbox = r.json()["id"]
    agent_id = await make_user(db, "li@omnidesk.test", "agent", name="李娜")
    agent_token = await token_for(db, "agent", user_id=agent_id)
    signed = sign_value("test-secret-key-123", "app-user-9")
    await client.post("/api/v1/events", json={
        "source": "payments", "id": "p-9", "type": "payment.failed",
        "occurred_at": "2026-11-24T03:00:00Z", "contact": {"app_user_id": "app-user-9"},
        "summary": "Payment of 199.00 CNY failed: insufficient balance",
        "data": {"reason": "insufficient balance"}})
    async with connect(f"{server.ws_url}/ws/agent?token={agent_token}") as agent, \
            connect(f"{server.ws_url}/ws/chat?inbox_id={inbox}&app_user={signed}") as vis:
        await recv(agent, "hello")
        await recv(vis, "hello")
        await vis.send(json.dumps({"type": "message", "body": "付款失败怎么办？"}))
        conv_id = (await recv(vis, "ack"))["message"]["conversation_id"]
        r = await client.post(f"/api/v1/conversations/{conv_id}/assign",
                              json={"assignee_id": agent_id})
        assert r.status_code == 200
        pop = await recv(agent, "conversation.assigned")
        assert pop["conversation"]["id"] == conv_id
        failure = pop["context"]["recent_failures"][0]
        assert failure["reason"] == "insufficient balance"
        # typing reaches the other side
        await vis.send(json.dumps({"type": "typing"}))
        assert (await recv(agent, "typing"))["sender"] == "contact"
