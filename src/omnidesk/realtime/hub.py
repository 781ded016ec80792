"""The websocket hub of one process: topics → connections, each with its own send queue.

Topics: ``inbox:{id}`` (agents watching an inbox), ``conversation:{id}`` (the visitor's
widget), ``agent:{user_id}`` (one agent's console: assignments, screen pops).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict, deque
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketState

from omnidesk.realtime.broker import Broker, MemoryBroker

log = logging.getLogger(__name__)
QUEUE_LIMIT = 1000
SEEN_LIMIT = 2000
CLOSE_TOO_SLOW = 1013
# A batching connection sends what is waiting in its queue as one frame
# ``{"type": "batch", "frames": [...]}`` (at most this many frames / bytes).
BATCH_FRAMES = 256
BATCH_BYTES = 256 * 1024


class Connection:
    """One websocket and its send queue. With ``batch`` (clients opt in), frames that are
    waiting together go out as one ``batch`` frame: a busy agent console watching a
    thousand chats gets a few frames a second instead of thousands."""

    def __init__(self, ws: WebSocket, *, batch: bool = False) -> None:
        self.ws = ws
        self.batch = batch
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(QUEUE_LIMIT)
        self.topics: set[str] = set()
        self._seen: set[str] = set()
        self._seen_order: deque[str] = deque()
        self._held: list[tuple[dict[str, Any], bytes]] | None = None
        self._closing: asyncio.Task[None] | None = None
        self._sender = asyncio.create_task(self._send_loop())

    def mark_seen(self, message_id: str) -> bool:
        """Remember a message id; False when it was already sent on this connection."""
        if message_id in self._seen:
            return False
        self._seen.add(message_id)
        self._seen_order.append(message_id)
        if len(self._seen_order) > SEEN_LIMIT:
            self._seen.discard(self._seen_order.popleft())
        return True

    def hold(self) -> None:
        """Queue live frames aside while a backlog is being sent (keeps the order)."""
        self._held = []

    def release(self) -> None:
        held, self._held = self._held or [], None
        for message, data in held:
            self.offer(message, data)

    def offer(self, message: dict[str, Any], data: bytes) -> None:
        """A live frame from a topic: sent unless held or already sent (resume overlap)."""
        if self._held is not None:
            self._held.append((message, data))
            return
        inner = message.get("message")
        is_message = message.get("type") == "message" and isinstance(inner, dict)
        if is_message and not self.mark_seen(str(inner.get("id"))):  # type: ignore[union-attr]
            return
        self.push(data)

    async def _send_loop(self) -> None:
        while True:
            data = await self.queue.get()
            if data is None:
                return
            last = False
            if self.batch and not self.queue.empty():
                data, last = self._take_batch(data)
            try:
                await self.ws.send_text(data.decode())
            except Exception:
                return
            if last:
                return

    def _take_batch(self, first: bytes) -> tuple[bytes, bool]:
        """The frames waiting behind ``first`` joined into one; True if the queue ended."""
        parts, size = [first], len(first)
        while len(parts) < BATCH_FRAMES and size < BATCH_BYTES and not self.queue.empty():
            more = self.queue.get_nowait()
            if more is None:
                return _batch(parts), True
            parts.append(more)
            size += len(more)
        return (_batch(parts) if len(parts) > 1 else first), False

    def push(self, data: bytes) -> None:
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            log.warning("websocket client too slow; closing it")
            self._closing = asyncio.create_task(self.close(CLOSE_TOO_SLOW, "client too slow"))

    async def send_now(self, message: dict[str, Any]) -> None:
        self.push(orjson.dumps(message))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)
        if self.ws.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await self.ws.close(code, reason)

    async def finish(self) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._sender, timeout=5)


def _batch(parts: list[bytes]) -> bytes:
    return b'{"type":"batch","frames":[' + b",".join(parts) + b"]}"


class Hub:
    def __init__(self, broker: Broker | None = None) -> None:
        self.broker: Broker = broker or MemoryBroker()
        self.topics: dict[str, set[Connection]] = defaultdict(set)
        self.agents: dict[str, int] = defaultdict(int)  # user id → open consoles here

    async def agent_online(self, user_id: str) -> None:
        self.agents[user_id] += 1
        await self.broker.announce(set(self.agents))

    async def agent_offline(self, user_id: str) -> None:
        self.agents[user_id] -= 1
        if self.agents[user_id] <= 0:
            del self.agents[user_id]
        await self.broker.announce(set(self.agents))

    async def online_agents(self) -> set[str]:
        """Agents with a console open in any process (Redis joins the processes)."""
        return set(self.agents) | await self.broker.present()

    async def start(self) -> None:
        await self.broker.start(self.deliver, lambda: set(self.agents))

    async def stop(self) -> None:
        await self.broker.stop()

    def subscribe(self, conn: Connection, topic: str) -> None:
        self.topics[topic].add(conn)
        conn.topics.add(topic)

    def unsubscribe_all(self, conn: Connection) -> None:
        for topic in conn.topics:
            subs = self.topics.get(topic)
            if subs is not None:
                subs.discard(conn)
                if not subs:
                    del self.topics[topic]
        conn.topics.clear()

    async def deliver(self, topic: str, message: dict[str, Any]) -> None:
        subs = self.topics.get(topic)
        if not subs:
            return
        data = orjson.dumps(message)
        for conn in list(subs):
            conn.offer(message, data)

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        await self.broker.publish(topic, message)


_hub: Hub | None = None


def set_hub(hub: Hub | None) -> None:
    global _hub
    _hub = hub


def get_hub() -> Hub | None:
    return _hub


async def publish(topic: str, message: dict[str, Any]) -> None:
    """Publish from anywhere in this process (no-op when no hub runs here)."""
    if _hub is not None:
        await _hub.publish(topic, message)
