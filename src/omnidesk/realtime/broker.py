"""Realtime fan-out: an in-memory broker for one process, Redis pub/sub between many."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import redis.asyncio as aioredis

log = logging.getLogger(__name__)
Deliver = Callable[[str, dict[str, Any]], Awaitable[None]]
CHANNEL = "omnidesk:realtime"


class MemoryBroker:
    """Single process: a publish is delivered to this process's hub directly."""

    def __init__(self) -> None:
        self._deliver: Deliver | None = None

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        if self._deliver is not None:
            await self._deliver(topic, message)

    async def stop(self) -> None:
        self._deliver = None


class RedisBroker:
    """Many processes: deliver locally at once, and to the others through Redis pub/sub.

    Each process tags what it publishes with its origin id and ignores its own echo."""

    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        self.url = url
        self.channel = channel
        self.origin = uuid.uuid4().hex
        self._redis: aioredis.Redis | None = None
        self._task: asyncio.Task[None] | None = None
        self._deliver: Deliver | None = None
        self._ready = asyncio.Event()

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver
        self._redis = aioredis.from_url(self.url)
        await self._redis.ping()
        self._task = asyncio.create_task(self._listen(), name="redis-broker")
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def _listen(self) -> None:
        assert self._redis is not None
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self._ready.set()
                async for raw in pubsub.listen():
                    await self._on_raw(raw)
            except asyncio.CancelledError:
                await pubsub.aclose()
                raise
            except Exception:
                log.exception("redis subscription lost; reconnecting")
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _on_raw(self, raw: dict[str, Any]) -> None:
        if raw.get("type") != "message" or self._deliver is None:
            return
        try:
            envelope = orjson.loads(raw["data"])
        except orjson.JSONDecodeError:
            return
        if envelope.get("origin") == self.origin:
            return
        await self._deliver(envelope["topic"], envelope["message"])

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        if self._deliver is not None:
            await self._deliver(topic, message)
        if self._redis is not None:
            envelope = {"origin": self.origin, "topic": topic, "message": message}
            await self._redis.publish(self.channel, orjson.dumps(envelope))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._redis is not None:
            await self._redis.aclose()
        self._deliver = None


Broker = MemoryBroker | RedisBroker
