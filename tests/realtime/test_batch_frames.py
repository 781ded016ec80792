"""Batch frames for busy consoles: an agent socket that asks for ``batch=1`` may get the
frames that are ready together as one ``{"type": "batch", "frames": [...]}``; every frame
arrives once and in order, and a socket that did not ask never sees a batch."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from starlette.websockets import WebSocketState
from websockets.asyncio.client import ClientConnection, connect

from omnidesk.realtime.hub import BATCH_FRAMES, Connection
from tests.conftest import LiveServer
from tests.realtime.test_websockets import chat_inbox, recv


class _Socket:
    """What Connection needs of a Starlette websocket: it records the text it is sent."""

    application_state = WebSocketState.CONNECTED

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send_text(self, text: str) -> None:
        self.sent.append(text)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.application_state = WebSocketState.DISCONNECTED


async def test_waiting_frames_go_out_as_one_batch_in_order() -> None:
    ws = _Socket()
    conn = Connection(ws, batch=True)  # type: ignore[arg-type]
    for n in range(BATCH_FRAMES + 5):  # queued before the sender runs
        await conn.send_now({"type": "message", "n": n})
    await conn.finish()
    frames = [json.loads(t) for t in ws.sent]
    assert [f["type"] for f in frames] == ["batch", "batch"]
    flat = [inner["n"] for f in frames for inner in f["frames"]]
    assert flat == list(range(BATCH_FRAMES + 5))
    assert len(frames[0]["frames"]) == BATCH_FRAMES


async def test_a_connection_without_batch_sends_frame_by_frame() -> None:
    ws = _Socket()
    conn = Connection(ws)  # type: ignore[arg-type]
    for n in range(10):
        await conn.send_now({"type": "message", "n": n})
    await conn.finish()
    assert [json.loads(t)["n"] for t in ws.sent] == list(range(10))


async def messages(ws: ClientConnection, want: int, seen_types: list[str]) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(20):
        while len(got) < want:
            frame = json.loads(await ws.recv())
            seen_types.append(frame["type"])
            for f in frame["frames"] if frame["type"] == "batch" else [frame]:
                if f["type"] == "message":
                    got.append(f["message"])
    return got


async def test_a_busy_inbox_reaches_a_batching_console_whole(
        server: LiveServer, client: httpx.AsyncClient, admin_token: str) -> None:
    inbox = await chat_inbox(client)
    base = f"{server.ws_url}/ws/chat?inbox_id={inbox}"
    visitors = [await connect(f"{base}&visitor_id=busy-{i}") for i in range(30)]
    try:
        for i, vis in enumerate(visitors):  # conversations exist before the burst
            await recv(vis, "hello")
            await vis.send(json.dumps({"type": "message", "body": f"你好 {i}",
                                       "client_id": f"first-{i}"}))
            await recv(vis, "ack")
        async with connect(f"{server.ws_url}/ws/agent?token={admin_token}&batch=1") as batching, \
                connect(f"{server.ws_url}/ws/agent?token={admin_token}") as plain:
            await recv(batching, "hello")
            await recv(plain, "hello")
            for round_ in range(3):
                await asyncio.gather(*(vis.send(json.dumps({
                    "type": "message", "body": f"第{round_}条 来自 {i}",
                    "client_id": f"r{round_}-{i}"})) for i, vis in enumerate(visitors)))
            batched_types: list[str] = []
            plain_types: list[str] = []
            got = await messages(batching, 90, batched_types)
            got_plain = await messages(plain, 90, plain_types)
    finally:
        await asyncio.gather(*(v.close() for v in visitors))
    assert "batch" not in plain_types
    assert sorted(m["id"] for m in got) == sorted(m["id"] for m in got_plain)
    assert len({m["id"] for m in got}) == 90  # each once
    by_conv: dict[str, list[int]] = {}
    for m in got:
        by_conv.setdefault(m["conversation_id"], []).append(m["seq"])
    assert all(seqs == sorted(seqs) for seqs in by_conv.values())  # in order
    assert len(batched_types) < len(plain_types)  # fewer frames for the same messages
