"""The chat writer's WAL checkpointer: a thread copies the log into the database file after
each poke, while the writer's own connections checkpoint only past the backstop."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from omnidesk.kit.db import Database
from omnidesk.kit.sqlite import WalCheckpointer

ROW = "第{n}批 訊息 message " + "x" * 3000  # about one page a row


def size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


async def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert condition()


async def write(db: Database, batch: int, rows: int = 30) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (body) VALUES (:b)"),
                           [{"b": ROW.format(n=batch)} for _ in range(rows)])


async def test_pokes_copy_the_log_that_the_writer_no_longer_copies(tmp_path: Path) -> None:
    path = tmp_path / "chat.db"
    wal = path.with_name(path.name + "-wal")
    db = Database(f"sqlite:///{path}", inline_sqlite=True)
    checkpointer = WalCheckpointer(path)
    checkpointer.hand_over(db.engine)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)"))
            backstop = (await conn.execute(text("PRAGMA wal_autocheckpoint"))).scalar()
            assert backstop == WalCheckpointer.BACKSTOP_PAGES
        for n in range(60):  # ~1,800 pages: past SQLite's own 1,000, short of the backstop
            await write(db, n)
        assert size(wal) > 1_000 * 4096, "the log is past SQLite's own threshold"
        assert size(path) < 200_000, "and the writer left it there"
        assert checkpointer.checkpoints == 0

        checkpointer.start()
        checkpointer.poke()
        await wait_for(lambda: checkpointer.checkpoints == 1)
        assert checkpointer.last is not None
        busy, pages, copied = checkpointer.last
        assert busy == 0 and pages > 1_000 and copied == pages, "the whole log was copied"
        assert size(path) > 60 * 30 * 3000

        # Copied in full, the log starts over: the next 60 batches (~1,800 pages), each
        # poked, do not grow it by more than a few batches (unpoked: by all of them).
        log_size = size(wal)
        for n in range(60, 120):
            await write(db, n)
            checkpointer.poke()
            await wait_for(lambda: checkpointer.last is not None
                           and checkpointer.last[2] == checkpointer.last[1])
        assert size(wal) < log_size + 2_000_000, "the log was reused, not grown"
        assert checkpointer.checkpoints >= 2
    finally:
        checkpointer.stop()
        await db.dispose()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (120 * 30,)
    conn.close()


async def test_the_writer_still_checkpoints_past_the_backstop(tmp_path: Path) -> None:
    """Should the thread fall behind (here: never poked), the log stays bounded."""
    path = tmp_path / "chat.db"
    db = Database(f"sqlite:///{path}", inline_sqlite=True)
    checkpointer = WalCheckpointer(path)
    checkpointer.BACKSTOP_PAGES = 500  # type: ignore[misc]  # a small log for the test
    checkpointer.hand_over(db.engine)
    checkpointer.start()
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)"))
        for n in range(100):  # ~3,000 pages
            await write(db, n)
        wal = path.with_name(path.name + "-wal")
        assert size(wal) < 3 * 500 * 4096
        assert size(path) > 50 * 30 * 3000, "the writer copied the log itself"
        assert checkpointer.checkpoints == 0
    finally:
        checkpointer.stop()
        await db.dispose()


async def test_stop_ends_the_thread(tmp_path: Path) -> None:
    checkpointer = WalCheckpointer(tmp_path / "chat.db")
    checkpointer.start()
    thread = checkpointer._thread
    assert thread is not None and thread.is_alive()
    checkpointer.stop()
    assert not thread.is_alive()
    checkpointer.stop()  # twice is fine
