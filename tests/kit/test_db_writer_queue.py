"""SQLite's one writer: a process's transactions queue in order (no sleeping busy handler),
after-commit work runs once the turn is given up (so it may write again), and a failed
transaction gives its turn up too. PostgreSQL does not queue."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from omnidesk.kit.db import Database, after_commit
from omnidesk.models import EventType


async def test_writers_take_turns_in_arrival_order(db: Database) -> None:
    order: list[int] = []

    async def write(n: int) -> None:
        async with db.transaction() as session:
            await session.execute(select(EventType.type).limit(1))  # SQLite's lock is ours
            order.append(n)
            session.add(EventType(type=f"queue.test.{n}", outcome="info"))
            await asyncio.sleep(0.01)  # hold the turn across an await

    await asyncio.gather(*(write(n) for n in range(12)))
    if db.dialect == "sqlite":  # one writer at a time, in turn
        assert order == list(range(12))
    else:  # PostgreSQL writes concurrently: no queue
        assert sorted(order) == list(range(12)) and db._writer_lock is None
    async with db.transaction() as session:
        stored = (await session.scalars(select(EventType.type).where(
            EventType.type.like("queue.test.%")))).all()
    assert len(stored) == 12


async def test_after_commit_work_may_write_and_a_failure_gives_the_turn_up(
        db: Database) -> None:
    done = asyncio.Event()

    async def follow_up() -> None:  # runs after the commit, outside the writer's turn
        async with db.transaction() as session:
            session.add(EventType(type="queue.after", outcome="info"))
        done.set()

    async with db.transaction() as session:
        session.add(EventType(type="queue.first", outcome="info"))
        after_commit(session, follow_up)
    await asyncio.wait_for(done.wait(), timeout=5)

    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            session.add(EventType(type="queue.rolled.back", outcome="info"))
            raise RuntimeError("boom")
    async with asyncio.timeout(5), db.transaction() as session:  # the turn was given up
        found = set((await session.scalars(select(EventType.type).where(
            EventType.type.like("queue.%")))).all())
    assert found == {"queue.first", "queue.after"}
