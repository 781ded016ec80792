"""SQLite under the async engine: its connections, transactions and write-ahead log.

How omnidesk talks to SQLite, in one place: the pragmas of every connection, the
transactions (a writer takes the lock when it begins; a GET request reads without it and
takes it at its first write), the server's connections that make one trip to aiosqlite's
worker thread per statement, the chat writer process's connection without that thread,
and the thread that checkpoints its write-ahead log. :func:`omnidesk.kit.db.make_engine`
puts them together.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import threading
from collections import deque
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import aiosqlite
from aiosqlite.context import contextmanager as aiosqlite_contextmanager
from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)


def listen(engine: Engine) -> None:
    """Every connection's pragmas and every transaction's start (see :func:`begin`)."""
    event.listen(engine, "connect", pragmas)
    event.listen(engine, "begin", begin)
    event.listen(engine, "before_cursor_execute", lock_to_write)


def pragmas(dbapi_conn: Any, _record: Any) -> None:
    # We issue BEGIN ourselves (see begin), so the driver must not.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


class _RunNow:
    """aiosqlite's request queue, served on the spot by the caller's thread."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:
            if future is not None:
                future.set_exception(exc)
        else:
            if future is not None:
                future.set_result(result)


class InlineSqlite(aiosqlite.Connection):
    """aiosqlite without its worker thread: every call runs at once on the calling thread
    (and blocks its event loop meanwhile).

    aiosqlite hands each call to a thread and wakes the loop with the result: two thread
    switches per driver call, ~70 for a chat batch. A process whose loop has nothing else
    to do while a statement runs — the chat writer process — is better off without them.
    It overrides aiosqlite's private hooks (``_tx``, ``_execute``, ``_connect``): aiosqlite
    is pinned, and tests/kit/test_inline_sqlite.py checks the thread, commit and rollback."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunNow()  # type: ignore[assignment]

    def __await__(self) -> Any:
        return self._connect().__await__()  # no thread to start

    async def _connect(self) -> InlineSqlite:
        if self._connection is None:
            self._connection = self._connector()
        return self

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    def stop(self) -> None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None


async def inline_connection(path: str, **connect_args: Any) -> InlineSqlite:
    return await InlineSqlite(partial(sqlite3.connect, path, **connect_args))


class _OneCallCursor(aiosqlite.Cursor):
    """A statement and its rows in one call on the connection's thread; created and
    closed on the caller's thread (neither touches the database file)."""

    def __init__(self, conn: aiosqlite.Connection, cursor: sqlite3.Cursor) -> None:
        super().__init__(conn, cursor)
        self._rows: deque[Any] | None = None

    def _run(self, sql: str, parameters: Any) -> deque[Any] | None:
        cursor = self._cursor
        cursor.execute(sql, parameters)
        return deque(cursor.fetchall()) if cursor.description is not None else None

    async def execute(self, sql: str, parameters: Any = None) -> aiosqlite.Cursor:
        self._rows = await self._execute(self._run, sql, [] if parameters is None
                                         else parameters)
        return self

    async def fetchone(self) -> Any:
        if self._rows is None:
            return await super().fetchone()
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        if self._rows is None:
            return list(await super().fetchmany(size))
        n = min(len(self._rows), self.arraysize if size is None else size)
        return [self._rows.popleft() for _ in range(n)]

    async def fetchall(self) -> list[Any]:
        if self._rows is None:
            return list(await super().fetchall())
        rows, self._rows = list(self._rows), deque()
        return rows

    async def close(self) -> None:
        self._rows = None
        self._cursor.close()


class ThreadedSqlite(aiosqlite.Connection):
    """aiosqlite with fewer trips to its thread: one per statement instead of four.

    Each trip hands a call to aiosqlite's worker thread and wakes the event loop with its
    result; on this project's 2-core VM that is ~80 µs. Through SQLAlchemy's adapter a
    SELECT took four (make the cursor, execute, fetch, close it), a transaction's
    ``BEGIN`` three, and the pool's reset of a returned connection one more even when no
    transaction was open: nine for a one-statement request. Here the cursor is made and
    closed on the caller's thread (the connection is opened with
    ``check_same_thread=False``; one call at a time uses it, so SQLite's own
    serialisation is never contended), a statement's rows come back with it, and
    commit/rollback skip the trip when no transaction is open: three. The statements
    themselves still run on the worker thread, so a slow one does not block the loop. It
    overrides aiosqlite's ``cursor``, ``commit`` and ``rollback``: aiosqlite is pinned, and
    tests/kit/test_threaded_sqlite.py checks threads, trips, fetching, errors and
    rollback."""

    @aiosqlite_contextmanager
    async def cursor(self) -> aiosqlite.Cursor:
        return _OneCallCursor(self, self._conn.cursor())

    async def commit(self) -> None:
        if self._conn.in_transaction:
            await super().commit()

    async def rollback(self) -> None:
        if self._conn.in_transaction:
            await super().rollback()


async def threaded_connection(path: str, **connect_args: Any) -> ThreadedSqlite:
    conn = ThreadedSqlite(partial(sqlite3.connect, path, check_same_thread=False,
                                  **connect_args), iter_chunk_size=64)
    await conn
    return conn


class WalCheckpointer:
    """Copies an SQLite database's write-ahead log into the database file from a thread of
    its own, right after each of a busy writer's commits (:meth:`poke`): the chat writer
    process.

    Left to itself, SQLite checkpoints in the commit that takes the log past 1,000 pages,
    on the writer's own time: under a steady chat load every fourth or fifth batch, and
    each such checkpoint syncs the log and the database file to disk. On this project's
    2-core VM those syncs were about a fifth of the 1,000-visitor p95 (see
    docs/performance.md). Here a passive checkpoint, which neither waits for nor blocks
    the writer or readers, runs in SQLite's C code without the GIL, on another core if
    there is one, while the writer goes on with its next batch: the syncs leave the
    writer's path.

    A passive checkpoint cannot finish while the writer keeps appending, so SQLite would
    never start the log over; :meth:`hand_over` therefore leaves the writer's own
    checkpoint in place, at ``BACKSTOP_PAGES``: when the log passes that, the writer's
    commit copies what this thread has not (little) and the log starts over. The log
    stays under about 40 MB either way."""

    BACKSTOP_PAGES = 10_000

    def __init__(self, path: Path) -> None:
        self.path = path
        self.checkpoints = 0
        self.last: tuple[int, int, int] | None = None  # (busy, log pages, copied pages)
        self._poked = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None

    def hand_over(self, engine: AsyncEngine) -> None:
        """The writer's connections checkpoint only past ``BACKSTOP_PAGES``."""
        def _backstop(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA wal_autocheckpoint={self.BACKSTOP_PAGES}")
            cur.close()

        event.listen(engine.sync_engine, "connect", _backstop)

    def start(self) -> None:
        if self._thread is None:
            self._stop = False
            self._thread = threading.Thread(target=self._run, name="sqlite-wal-checkpoint",
                                            daemon=True)
            self._thread.start()

    def poke(self) -> None:
        """A commit happened: checkpoint now (pokes meanwhile make one checkpoint)."""
        self._poked.set()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop = True
            self._poked.set()
            thread.join()

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout=1000")
            while True:
                self._poked.wait()
                self._poked.clear()
                if self._stop:
                    return
                try:
                    busy, pages, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as exc:  # the next poke tries again
                    log.warning("WAL checkpoint failed: %s", exc)
                else:
                    self.last = (busy, pages, copied)
                    self.checkpoints += 1
        finally:
            conn.close()


READING = "omnidesk_reading"  # execution option: a request that means to read (GET)
_DEFERRED = "omnidesk.deferred"  # connection info: its transaction has no write lock yet
# a statement that writes, or may (one that starts with a WITH clause and names a write;
# taking the lock for a read that only looks like one costs two calls, nothing else)
_WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b"
                     r"|\s*WITH\b.*\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE | re.DOTALL)


def begin(conn: Any) -> None:
    """SQLite: take the write lock when the transaction starts. A deferred transaction
    that reads and then writes can fail at once with "database is locked" when another
    connection wrote meanwhile; an immediate one waits its turn (busy_timeout) instead.
    One writer at a time is SQLite's model anyway; PostgreSQL is the scale-out path.

    A session for reading (``READING``: the HTTP server's GET requests) begins deferred
    instead: in WAL mode its reads see the last commit without waiting for, or holding
    up, the writer — a screen pop does not queue behind a chat batch. Should it write
    after all, :func:`lock_to_write` takes the lock first."""
    deferred = bool(conn.get_execution_options().get(READING))
    conn.info[_DEFERRED] = deferred
    conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


def lock_to_write(conn: Any, _cursor: Any, statement: str, _parameters: Any,
                          context: Any, _executemany: bool) -> None:
    """The first write of a deferred (reading) transaction: start over as an immediate
    one, which waits its turn for the lock. Upgrading in place would fail at once when
    another connection committed since the first read (SQLite does not wait there). Nothing
    was written yet, so nothing is lost; what was read came from the last commit before,
    what is read from now on from the last commit now — the isolation PostgreSQL's READ
    COMMITTED gives every transaction, which the application is written for."""
    if not conn.info.get(_DEFERRED):
        return
    writes = context is not None and (context.isinsert or context.isupdate or context.isdelete)
    if not writes and not _WRITES.match(statement):
        return
    conn.info[_DEFERRED] = False
    if conn.in_nested_transaction():  # a savepoint would not survive starting over
        return
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute("ROLLBACK")
        cursor.execute("BEGIN IMMEDIATE")
    finally:
        cursor.close()
