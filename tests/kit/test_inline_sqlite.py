"""The writer process's SQLite connection without aiosqlite's thread: statements run on
the event loop's own thread, in transactions like any other, errors and rollbacks
included, beside the ordinary (threaded) connections of other processes."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text

from omnidesk.kit.db import Database
from omnidesk.kit.sqlite import InlineSqlite
from omnidesk.models import EventType
from tests.conftest import fail_on_a_duplicate


async def test_statements_run_on_the_loops_thread_and_commit_or_roll_back(
        db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("inline connections are SQLite's")
    inline = Database(db.url, inline_sqlite=True)
    try:
        async with inline.transaction() as session:
            raw = await (await session.connection()).get_raw_connection()
            driver = raw.driver_connection
            assert isinstance(driver, InlineSqlite)
            threads: list[int] = []
            driver._conn.create_function("thread_of", 0, lambda: threads.append(
                threading.get_ident()) or 1)
            await session.execute(text("SELECT thread_of()"))
            assert threads == [threading.get_ident()]
            assert not driver._thread.is_alive()  # aiosqlite's worker never started
            assert (await session.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            session.add(EventType(type="inline.kept", outcome="info"))
        await fail_on_a_duplicate(inline, "inline")
        # the connection is still usable after the rollback, and the threaded engine of
        # another "process" sees what the inline one committed, and only that
        async with inline.transaction() as session:
            assert await session.scalar(select(EventType.outcome).where(
                EventType.type == "inline.kept")) == "info"
        async with db.transaction() as session:
            stored = set((await session.scalars(select(EventType.type).where(
                EventType.type.like("inline.%")))).all())
        assert stored == {"inline.kept"}
    finally:
        await inline.dispose()
