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
PRESENCE = "omnidesk:presence"
PRESENCE_TTL = 90
Presence = Callable[[], set[str]]


class MemoryBroker:
    """Single process: a publish is delivered to this process's hub directly."""

    def __init__(self) -> None:
        self._deliver: Deliver | None = None

    async def start(self, deliver: Deliver, presence: Presence | None = None) -> None:
        self._deliver = deliver

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        if self._deliver is not None:
            await self._deliver(topic, message)

    async def announce(self, local: set[str]) -> None:
        return None

    async def present(self) -> set[str]:
        return set()

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
        self._presence: Presence | None = None
        self._refresher: asyncio.Task[None] | None = None

    async def start(self, deliver: Deliver, presence: Presence | None = None) -> None:
        self._deliver = deliver
        self._presence = presence
        self._redis = aioredis.from_url(self.url)
        await self._redis.ping()
        self._task = asyncio.create_task(self._listen(), name="redis-broker")
        self._refresher = asyncio.create_task(self._refresh(), name="redis-presence")
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

    async def announce(self, local: set[str]) -> None:
        """This process's online agents, under a key that expires if the process dies."""
        if self._redis is None:
            return
        key = f"{PRESENCE}:{self.origin}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            if local:
                pipe.sadd(key, *sorted(local))
                pipe.expire(key, PRESENCE_TTL)
            await pipe.execute()

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(PRESENCE_TTL / 3)
            if self._presence is not None:
                with contextlib.suppress(Exception):
                    await self.announce(self._presence())

    async def present(self) -> set[str]:
        """Every process's online agents."""
        if self._redis is None:
            return set()
        keys = [k async for k in self._redis.scan_iter(match=f"{PRESENCE}:*", count=100)]
        members = await self._redis.sunion(keys) if keys else set()
        return {m.decode() if isinstance(m, bytes) else str(m) for m in members}

    async def stop(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.delete(f"{PRESENCE}:{self.origin}")
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._redis is not None:
            await self._redis.aclose()
        self._deliver = None


Broker = MemoryBroker | RedisBroker
