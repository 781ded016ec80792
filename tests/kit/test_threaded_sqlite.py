"""The server's SQLite connections (kit.sqlite.ThreadedSqlite): statements still run on
aiosqlite's worker thread, but a one-statement transaction costs three trips to it
(BEGIN, the statement with its rows, COMMIT) instead of nine; results, streaming,
errors and rollbacks behave as with plain aiosqlite."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import func, select, text

from omnidesk.kit.db import Database
from omnidesk.kit.sqlite import ThreadedSqlite
from omnidesk.models import EventType
from tests.conftest import fail_on_a_duplicate


@pytest.fixture
async def lite(db: Database) -> AsyncIterator[Database]:
    if db.dialect != "sqlite":
        pytest.skip("the threaded connection is SQLite's")
    yield db


def _count_trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every call handed to a connection's worker thread, by name."""
    trips: list[str] = []
    handed = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(getattr(fn, "__name__", repr(fn)))
        return await handed(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    return trips


async def test_statements_run_on_the_worker_thread_one_trip_each(
        lite: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    async with lite.transaction() as session:  # a connection in the pool, pragmas done
        raw = await (await session.connection()).get_raw_connection()
        driver = raw.driver_connection
        assert isinstance(driver, ThreadedSqlite)
        threads: list[int] = []
        driver._conn.create_function("thread_of", 0, lambda: threads.append(
            threading.get_ident()) or 1)
    trips = _count_trips(monkeypatch)
    async with lite.transaction() as session:
        assert (await session.execute(text("SELECT thread_of()"))).scalar() == 1
    # the statement ran off the event loop's thread, on the connection's worker
    assert threads and threads[0] != threading.get_ident()
    assert threads[0] == driver._thread.ident
    # BEGIN, the statement with its rows, COMMIT; the pool's reset of a connection with no
    # transaction open costs none (plain aiosqlite through SQLAlchemy: nine)
    assert trips == ["_run", "_run", "commit"], trips


async def test_rows_come_back_whole_fetched_or_streamed(lite: Database) -> None:
    numbers = text("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                   "WHERE i < 1000) SELECT i, 'row ' || i FROM n")
    async with lite.transaction() as session:
        rows = (await session.execute(numbers)).all()
        assert [r[0] for r in rows] == list(range(1, 1001))
        assert rows[-1][1] == "row 1000"
        first = (await session.execute(numbers)).first()
        assert first is not None and tuple(first) == (1, "row 1")
        # a server-side cursor (fetchmany in partitions) sees the same rows in order
        streamed = await session.stream(numbers.execution_options(yield_per=64))
        seen = [r[0] async for r in streamed]
        assert seen == list(range(1, 1001))
        # statements without rows report their row counts
        session.add_all([EventType(type=f"threaded.{i}", outcome="info") for i in range(3)])
        await session.flush()
        changed = await session.execute(text(
            "UPDATE event_types SET outcome = 'failed' WHERE type LIKE 'threaded.%'"))
        assert changed.rowcount == 3  # type: ignore[attr-defined]


async def test_errors_roll_back_and_the_connection_goes_on(lite: Database) -> None:
    async with lite.transaction() as session:
        session.add(EventType(type="threaded.kept", outcome="info"))
    await fail_on_a_duplicate(lite, "threaded")
    with pytest.raises(Exception, match="no such table"):
        async with lite.transaction() as session:
            await session.execute(text("SELECT * FROM no_such_table"))
    for _ in range(3):  # every pooled connection is usable and sees only what committed
        async with lite.transaction() as session:
            assert await session.scalar(select(func.count()).select_from(EventType).where(
                EventType.type.like("threaded.%"))) == 1
            assert await session.scalar(select(EventType.outcome).where(
                EventType.type == "threaded.kept")) == "info"
