"""GET requests on SQLite read without the write lock (Database.reading_sessions): they
neither wait for a writer nor hold one up, and one that writes after all takes the lock
first, waiting its turn, even when another connection committed since its first read."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select, text, update

from omnidesk.kit.db import Database, sqlite_path
from omnidesk.models import EventType


@pytest.fixture
def writer(db: Database) -> Iterator[sqlite3.Connection]:
    """Another connection to the same database file, as another process would hold it."""
    if db.dialect != "sqlite":
        pytest.skip("SQLite's write lock")
    path = sqlite_path(db.url)
    assert path is not None
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=10000")
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()


async def _seed(db: Database) -> None:
    async with db.transaction() as session:
        session.add(EventType(type="reading.one", outcome="info"))


async def test_a_read_neither_waits_for_nor_blocks_the_writer(
        db: Database, writer: sqlite3.Connection) -> None:
    await _seed(db)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE event_types SET outcome = 'failed' WHERE type = 'reading.one'")
    # the writer holds the lock, uncommitted: a reading session reads the last commit at
    # once (an immediate transaction would wait out the 10 s busy timeout and fail)
    async with db.reading_sessions() as session:
        outcome = await session.scalar(select(EventType.outcome).where(
            EventType.type == "reading.one"))
        assert outcome == "info"
        # and while it is open, the writer commits: a reader does not hold it up
        writer.execute("COMMIT")
        await session.commit()
    async with db.reading_sessions() as session:
        assert await session.scalar(select(EventType.outcome).where(
            EventType.type == "reading.one")) == "failed"


async def test_a_read_that_writes_after_another_commit_takes_the_lock_first(
        db: Database, writer: sqlite3.Connection) -> None:
    await _seed(db)
    async with db.reading_sessions() as session:
        assert await session.scalar(select(EventType.outcome).where(
            EventType.type == "reading.one")) == "info"
        # another connection commits after this transaction's first read: writing in
        # place would now fail at once ("database is locked", no busy wait)
        writer.execute("UPDATE event_types SET outcome = 'failed' WHERE type = 'reading.one'")
        session.add(EventType(type="reading.two", outcome="info"))
        await session.flush()
        # from the write on, it reads the latest commit (PostgreSQL's READ COMMITTED)
        assert await session.scalar(select(EventType.outcome).where(
            EventType.type == "reading.one")) == "failed"
        await session.commit()
    async with db.transaction() as session:
        stored = dict((await session.execute(select(EventType.type, EventType.outcome).where(
            EventType.type.like("reading.%")))).all())
    assert stored == {"reading.one": "failed", "reading.two": "info"}


async def test_a_read_that_writes_waits_its_turn_for_the_lock(
        db: Database, writer: sqlite3.Connection) -> None:
    await _seed(db)
    writer.execute("BEGIN IMMEDIATE")

    async def read_then_write() -> None:
        async with db.reading_sessions() as session:
            await session.scalar(select(EventType.outcome).where(
                EventType.type == "reading.one"))
            await session.execute(update(EventType).where(
                EventType.type == "reading.one").values(outcome="succeeded"))
            await session.commit()

    task = asyncio.create_task(read_then_write())
    await asyncio.sleep(0.3)
    assert not task.done()  # waiting for the lock, not failed
    writer.execute("UPDATE event_types SET outcome = 'failed' WHERE type = 'reading.one'")
    writer.execute("COMMIT")
    await asyncio.wait_for(task, 10)
    async with db.transaction() as session:
        assert await session.scalar(select(EventType.outcome).where(
            EventType.type == "reading.one")) == "succeeded"


async def test_a_get_request_is_served_while_a_writer_holds_the_lock(
        client: httpx.AsyncClient, writer: sqlite3.Connection) -> None:
    r = await client.post("/api/v1/contacts", json={"name": "读者 Reader", "identities": [
        {"kind": "email", "value": "reader@example.com"}]})
    assert r.status_code == 201, r.text
    contact_id = r.json()["id"]
    writer.execute("BEGIN IMMEDIATE")
    try:
        r = await client.get(f"/api/v1/contacts/{contact_id}/context")
        assert r.status_code == 200, r.text
        assert r.json()["contact"]["name"] == "读者 Reader"
    finally:
        writer.execute("COMMIT")
    # a write request still waits its turn and succeeds once the lock is free
    r = await client.patch(f"/api/v1/contacts/{contact_id}", json={"name": "Reader 2"})
    assert r.status_code == 200, r.text


async def test_a_write_in_raw_sql_takes_the_lock_too(
        db: Database, writer: sqlite3.Connection) -> None:
    await _seed(db)
    async with db.reading_sessions() as session:
        await session.scalar(select(EventType.outcome).where(EventType.type == "reading.one"))
        writer.execute("UPDATE event_types SET outcome = 'failed' WHERE type = 'reading.one'")
        await session.execute(text(
            "WITH t AS (SELECT 'reading.one' AS type) "
            "UPDATE event_types SET outcome = 'abandoned' WHERE type IN (SELECT type FROM t)"))
        await session.commit()
    async with db.transaction() as session:
        assert await session.scalar(select(EventType.outcome).where(
            EventType.type == "reading.one")) == "abandoned"
