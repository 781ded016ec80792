"""Transactional outbox: side effects are rows written in the same transaction as the
change that owes them, then run after commit, retried with back-off until they succeed.

Handlers must be idempotent (a crash after the effect but before ``done_at`` is written
runs them again). On the embedded default a dispatcher runs inside the server process;
at scale ``omnidesk worker`` processes claim rows with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.kit.db import Database, after_commit
from omnidesk.kit.ids import new_id
from omnidesk.kit.time import utcnow
from omnidesk.models import OutboxItem

log = logging.getLogger(__name__)

Handler = Callable[[Database, OutboxItem], Awaitable[None]]
# Given the session, the event name and its payload: does the handler want it? (cheap)
Selector = Callable[[AsyncSession, str, dict[str, Any]], Awaitable[bool]]
# Before a batch of payloads is offered to the selector: load what it needs in one query.
Prefetch = Callable[[AsyncSession, str, list[dict[str, Any]]], Awaitable[None]]


@dataclass
class _Registration:
    name: str
    handler: Handler
    events: frozenset[str]
    selector: Selector | None
    prefetch: Prefetch | None = None

    def takes(self, event: str) -> bool:
        return "*" in self.events or event in self.events


_HANDLERS: dict[str, _Registration] = {}
_wakers: list[Callable[[], None]] = []


def register(
    name: str, handler: Handler, events: set[str] | None = None,
    selector: Selector | None = None, prefetch: Prefetch | None = None,
) -> None:
    """Register a handler for some events (None: every event). ``selector`` decides per
    payload whether the handler owes anything; ``prefetch`` lets it load, once per batch
    (:func:`emit_many`), what the selector will look at."""
    _HANDLERS[name] = _Registration(name, handler, frozenset(events or {"*"}), selector,
                                    prefetch)


async def interested(session: AsyncSession, event: str, payload: dict[str, Any]) -> bool:
    """Would :func:`emit` write anything for this event? (Lets bulk jobs skip building
    payloads nobody wants.)"""
    for reg in _HANDLERS.values():
        if not reg.takes(event):
            continue
        if reg.selector is None or await reg.selector(session, event, payload):
            return True
    return False


async def emit(session: AsyncSession, event: str, payload: dict[str, Any]) -> int:
    """Owe the event's side effects: one outbox row per interested handler."""
    count = 0
    for reg in _HANDLERS.values():
        if not reg.takes(event):
            continue
        if reg.selector is not None and not await reg.selector(session, event, payload):
            continue
        session.add(OutboxItem(event=event, handler=reg.name, payload=payload))
        count += 1
    if count:
        _wake_after_commit(session)
    return count


_INSERT = insert(cast(Table, OutboxItem.__table__))


async def emit_many(session: AsyncSession, event: str, payloads: list[dict[str, Any]]) -> int:
    """:func:`emit` for a batch: selectors prefetch once, and the rows are one insert."""
    regs = [reg for reg in _HANDLERS.values() if reg.takes(event)]
    for reg in regs:
        if reg.prefetch is not None and payloads:
            await reg.prefetch(session, event, payloads)
    rows: list[dict[str, Any]] = []
    now = utcnow()
    for payload in payloads:
        for reg in regs:
            if reg.selector is not None and not await reg.selector(session, event, payload):
                continue
            rows.append({"id": new_id(), "event": event, "handler": reg.name,
                         "payload": payload, "attempts": 0, "available_at": now,
                         "created_at": now})
    if rows:
        await (await session.connection()).execute(_INSERT, rows)
        _wake_after_commit(session)
    return len(rows)


def add_waker(waker: Callable[[], None]) -> None:
    """Call ``waker`` whenever outbox work was committed in this process."""
    _wakers.append(waker)


def wake_all() -> None:
    """Outbox rows were committed elsewhere for this process (the chat writer child)."""
    for waker in list(_wakers):
        waker()


def _wake_after_commit(session: AsyncSession) -> None:
    if not session.info.get("outbox.wake"):
        session.info["outbox.wake"] = True

        async def _wake() -> None:
            wake_all()

        after_commit(session, _wake)


def backoff(attempts: int) -> timedelta:
    base = min(2 ** min(attempts, 12), 3600)
    return timedelta(seconds=base * (0.75 + random.random() / 2))


class Dispatcher:
    """Claims due outbox rows and runs their handlers."""

    def __init__(self, db: Database, *, batch: int = 50, lease_seconds: int = 60,
                 poll_seconds: float = 1.0, max_attempts: int = 25) -> None:
        self.db = db
        self.batch = batch
        self.lease = timedelta(seconds=lease_seconds)
        self.poll_seconds = poll_seconds
        self.max_attempts = max_attempts
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    async def claim(self) -> list[OutboxItem]:
        now = utcnow()
        async with self.db.transaction() as session:
            due = (
                select(OutboxItem.id)
                .where(OutboxItem.done_at.is_(None), OutboxItem.failed_at.is_(None),
                       OutboxItem.available_at <= now,
                       or_(OutboxItem.locked_until.is_(None), OutboxItem.locked_until < now))
                .order_by(OutboxItem.available_at).limit(self.batch)
                .with_for_update(skip_locked=True)
            )
            ids = list(await session.scalars(due))
            if not ids:
                return []
            await session.execute(
                update(OutboxItem).where(OutboxItem.id.in_(ids))
                .values(locked_until=now + self.lease, locked_by=self.worker_id)
            )
            rows = await session.scalars(select(OutboxItem).where(OutboxItem.id.in_(ids)))
            return list(rows)

    async def run_item(self, item: OutboxItem) -> bool:
        reg = _HANDLERS.get(item.handler)
        error: str | None = None
        if reg is None:
            error = f"no handler named {item.handler!r} in this process"
        else:
            try:
                await reg.handler(self.db, item)
            except Exception as exc:
                log.warning("outbox %s/%s failed: %s", item.handler, item.id, exc)
                error = f"{type(exc).__name__}: {exc}"[:2000]
        async with self.db.transaction() as session:
            values: dict[str, Any] = {"locked_until": None, "locked_by": None,
                                      "attempts": item.attempts + 1}
            if error is None:
                values["done_at"] = utcnow()
            else:
                values["last_error"] = error
                values["available_at"] = utcnow() + backoff(item.attempts)
                if item.attempts + 1 >= self.max_attempts:
                    values["failed_at"] = utcnow()
            await session.execute(
                update(OutboxItem).where(OutboxItem.id == item.id,
                                         OutboxItem.locked_by == self.worker_id).values(**values)
            )
        return error is None

    async def run_once(self) -> int:
        """Run every due item (in batches); returns how many ran."""
        total = 0
        while not self._stop.is_set():
            items = await self.claim()
            if not items:
                break
            for item in items:
                await self.run_item(item)
            total += len(items)
        return total

    async def run_forever(self) -> None:
        _wakers.append(self.wake)
        try:
            while not self._stop.is_set():
                try:
                    await self.run_once()
                except Exception:
                    log.exception("outbox dispatcher pass failed; retrying")
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
        finally:
            _wakers.remove(self.wake)
