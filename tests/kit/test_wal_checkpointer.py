"""The chat writer's WAL checkpointer: its process's connections stop checkpointing in
their commits, and a thread of its own copies the log into the database file meanwhile."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from omnidesk.kit.db import Database, WalCheckpointer


def size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


async def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert condition()


async def test_the_thread_checkpoints_what_the_writer_no_longer_does(tmp_path: Path) -> None:
    path = tmp_path / "chat.db"
    db = Database(f"sqlite:///{path}", inline_sqlite=True)
    checkpointer = WalCheckpointer(db, every=0.05)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)"))
            assert (await conn.execute(text("PRAGMA wal_autocheckpoint"))).scalar() == 0
        for n in range(40):  # a log far past SQLite's own 1,000-page threshold
            async with db.engine.begin() as conn:
                await conn.execute(text("INSERT INTO t (body) VALUES (:b)"),
                                   [{"b": f"第{n}批 " + "x" * 4000} for _ in range(30)])
        wal = path.with_name(path.name + "-wal")
        assert size(wal) > 1000 * 4096, "the log is past SQLite's own threshold"
        assert size(path) < 100_000, "and nothing checkpointed it into the database file"
        assert checkpointer.checkpoints == 0

        checkpointer.start()
        await wait_for(lambda: checkpointer.checkpoints >= 1 and size(path) > 40 * 30 * 4000)
        async with db.engine.begin() as conn:  # the writer goes on meanwhile
            await conn.execute(text("INSERT INTO t (body) VALUES ('最後')"))
        seen = checkpointer.checkpoints
        await wait_for(lambda: checkpointer.checkpoints >= seen + 2)
        checkpointer.stop()
    finally:
        checkpointer.stop()
        await db.dispose()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (40 * 30 + 1,)
    conn.close()


def test_only_an_sqlite_file_has_a_log_to_checkpoint() -> None:
    with pytest.raises(ValueError, match="SQLite"):
        WalCheckpointer(Database("postgresql://nobody@127.0.0.1:1/none"))
