"""Engine, sessions and dialect helpers.

The request (or job) owns one transaction: services never commit. Work that must only
happen once the transaction is durable (websocket pushes, waking the outbox dispatcher)
is registered with :func:`after_commit` and run by :meth:`Database.transaction` after a
successful commit; it is dropped on rollback.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import threading
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import cache, partial
from pathlib import Path
from typing import Any

import aiosqlite
import orjson
from aiosqlite.context import contextmanager as aiosqlite_contextmanager
from sqlalchemy import (
    ARRAY,
    JSON,
    DateTime,
    Dialect,
    MetaData,
    Select,
    String,
    Uuid,
    and_,
    any_,
    bindparam,
    cast,
    column,
    event,
    exists,
    func,
    literal,
    literal_column,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.expression import ColumnElement, FromClause
from sqlalchemy.types import TypeDecorator

from omnidesk.kit.time import ensure_utc

log = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]
_AFTER_COMMIT = "omnidesk.after_commit"


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes; stored in UTC (SQLite keeps them naive, we re-attach UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; attach a time zone")
        value = ensure_utc(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else ensure_utc(value)


JSONType = JSON().with_variant(JSONB(), "postgresql")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[str]: JSONType,
        list[Any]: JSONType,
        uuid.UUID: Uuid(),
    }


def async_url(url: str) -> str:
    """Choose the async driver from a plain URL (``sqlite:///…``, ``postgresql://…``)."""
    u = make_url(url)
    backend = u.get_backend_name()
    if backend == "sqlite":
        return str(u.set(drivername="sqlite+aiosqlite"))
    if backend in ("postgresql", "postgres"):
        return u.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:/// or postgresql://")


def sync_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path | None:
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # We issue BEGIN ourselves (see _sqlite_begin), so the driver must not.
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


async def _inline_sqlite(path: str, **connect_args: Any) -> InlineSqlite:
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


async def _threaded_sqlite(path: str, **connect_args: Any) -> ThreadedSqlite:
    conn = ThreadedSqlite(partial(sqlite3.connect, path, check_same_thread=False,
                                  **connect_args), iter_chunk_size=64)
    await conn
    return conn


def make_engine(url: str, *, inline_sqlite: bool = False, **kwargs: Any) -> AsyncEngine:
    """The async engine for ``url``; ``inline_sqlite``: SQLite calls run on the event
    loop's own thread (:class:`InlineSqlite`), for a process that only writes."""
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        connect_args = kwargs.setdefault("connect_args", {"timeout": 30})
        kwargs["async_creator"] = partial(_inline_sqlite if inline_sqlite else _threaded_sqlite,
                                          str(path), **connect_args)
    else:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
    engine = create_async_engine(async_url(url), **kwargs)
    if path is not None:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        event.listen(engine.sync_engine, "before_cursor_execute", _sqlite_lock_to_write)
    return engine


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


def _sqlite_begin(conn: Any) -> None:
    """SQLite: take the write lock when the transaction starts. A deferred transaction
    that reads and then writes can fail at once with "database is locked" when another
    connection wrote meanwhile; an immediate one waits its turn (busy_timeout) instead.
    One writer at a time is SQLite's model anyway; PostgreSQL is the scale-out path.

    A session for reading (``READING``: the HTTP server's GET requests) begins deferred
    instead: in WAL mode its reads see the last commit without waiting for, or holding
    up, the writer — a screen pop does not queue behind a chat batch. Should it write
    after all, :func:`_sqlite_lock_to_write` takes the lock first."""
    deferred = bool(conn.get_execution_options().get(READING))
    conn.info[_DEFERRED] = deferred
    conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


def _sqlite_lock_to_write(conn: Any, _cursor: Any, statement: str, _parameters: Any,
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


def after_commit(session: AsyncSession, fn: AfterCommit) -> None:
    """Run ``fn`` once the current transaction has committed (dropped on rollback)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(fn)


async def run_after_commit(session: AsyncSession) -> None:
    callbacks: list[AfterCommit] = session.info.pop(_AFTER_COMMIT, [])
    for fn in callbacks:
        try:
            await fn()
        except Exception:  # a push that fails must not fail the committed request
            log.exception("after-commit callback failed")


_HOLDING: ContextVar[frozenset[int]] = ContextVar("omnidesk_db_writer", default=frozenset())


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str, *, inline_sqlite: bool = False, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, inline_sqlite=inline_sqlite, **engine_kwargs)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # Sessions that mostly read (GET requests): on SQLite they begin without the write
        # lock and take it at their first write, if any (see _sqlite_begin).
        self.reading_sessions = async_sessionmaker(
            self.engine.execution_options(**{READING: True}), expire_on_commit=False)
        self._queue_writers = is_sqlite(url)
        self._writer_lock: asyncio.Lock | None = None
        self._writer_loop: asyncio.AbstractEventLoop | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work commits on success and rolls back on error.

        On SQLite (one writer at a time) this process's transactions queue on an asyncio
        lock, first come first served, instead of in SQLite's busy handler, which sleeps
        and retries and so gives a waiting writer seconds of tail latency under load.
        Other processes still meet at SQLite's own lock. A transaction opened while the
        same task already holds one does not queue again (it waits in SQLite, as before)."""
        async with self.writer_turn(), self.sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                session.info.pop(_AFTER_COMMIT, None)
                raise
            after = session.info.pop(_AFTER_COMMIT, [])
        session.info[_AFTER_COMMIT] = after  # after the turn is given up: pushes, etc.
        await run_after_commit(session)

    @asynccontextmanager
    async def writer_turn(self) -> AsyncIterator[None]:
        """This process's turn to write (SQLite; a no-op on PostgreSQL): held by
        :meth:`transaction`, and by work that writes through another connection."""
        held = _HOLDING.get()
        if not self._queue_writers or id(self) in held:
            yield
            return
        loop = asyncio.get_running_loop()
        if self._writer_lock is None or self._writer_loop is not loop:  # one per event loop
            self._writer_lock, self._writer_loop = asyncio.Lock(), loop
        async with self._writer_lock:
            token = _HOLDING.set(held | {id(self)})
            try:
                yield
            finally:
                _HOLDING.reset(token)

    async def dispose(self) -> None:
        await self.engine.dispose()


def json_array_contains(dialect: str, column: Any, value: str) -> Any:
    """``value`` is an element of the JSON array in ``column`` (JSONB ``@>`` on PostgreSQL)."""
    if dialect == "postgresql":
        return column.op("@>")(func.jsonb_build_array(value))
    each = func.json_each(column).table_valued("value")
    return exists(select(literal(1)).select_from(each).where(each.c.value == value))


class _JsonList(TypeDecorator[list[Any]]):
    """A list sent to SQLite as one JSON array (UUIDs as the 32 hex digits it stores)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: list[Any] | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return orjson.dumps([v.hex if isinstance(v, uuid.UUID) else v for v in value]).decode()


def one_of(dialect: str, column: Any, name: str) -> ColumnElement[bool]:
    """``column IN (…)`` with the list as one parameter ``name``: the same SQL whatever the
    list's length, so a statement run with a different number of values each time (a chat
    batch) is compiled, prepared and planned once, not once per length."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    values = func.json_each(bindparam(name, type_=_JsonList)).table_valued("value")
    return column.in_(select(values.c.value))


def pairs_table(dialect: str, *, uuid_first: bool = False
                ) -> tuple[FromClause, ColumnElement[Any], ColumnElement[Any]]:
    """A table of pairs sent as one or two parameters (:func:`pairs_params`), to join on a
    two-column index.

    The statement is the same whatever the number of pairs (prepared once; no list of
    thousands of parameters to expand), and it is an index probe per pair. The obvious
    ``a IN (…) AND b IN (…)`` probes every combination (500 pairs: 250,000 probes), and
    a row-value ``IN`` list is not joined on the index by PostgreSQL with stale
    statistics. ``uuid_first``: the first element is a UUID column (SQLite stores those
    as 32 hex digits)."""
    if dialect == "postgresql":
        k = func.unnest(
            bindparam("firsts", type_=ARRAY(Uuid() if uuid_first else String())),
            bindparam("seconds", type_=ARRAY(String()))
        ).table_valued("first", "second").render_derived(name="k")
        return k, k.c.first, k.c.second
    j = func.json_each(bindparam("pairs", type_=String)).table_valued("value").alias("k")
    return (j, func.json_extract(j.c.value, "$[0]", type_=String),
            func.json_extract(j.c.value, "$[1]", type_=String))


def pairs_params(dialect: str, pairs: Sequence[tuple[str | uuid.UUID, str]]
                 ) -> dict[str, Any]:
    """The parameters of :func:`pairs_table` for these pairs."""
    if dialect == "postgresql":
        return {"firsts": [a for a, _ in pairs], "seconds": [b for _, b in pairs]}
    return {"pairs": orjson.dumps([(a.hex if isinstance(a, uuid.UUID) else a, b)
                                   for a, b in pairs]).decode()}


PROBE_PAIRS = 64  # rows_for_pairs: up to this many pairs, one index probe each


def rows_for_pairs(dialect: str, table: FromClause,
                   first: ColumnElement[Any], second: ColumnElement[Any],
                   pairs: Sequence[tuple[str | uuid.UUID, str]],
                   columns: Sequence[ColumnElement[Any]], *, uuid_first: bool = False,
                   probe_up_to: int = PROBE_PAIRS) -> tuple[Select[Any], dict[str, Any]]:
    """``SELECT columns FROM table WHERE (first, second) IN pairs`` for a unique
    ``(first, second)`` of ``table``, the pairs sent as one parameter (see
    :func:`pairs_table`): the statement (built once) and its parameters.

    On PostgreSQL, for up to ``probe_up_to`` pairs, each pair is a ``LATERAL`` subquery
    with ``LIMIT 1`` (the pair is unique, so the limit changes no answer), which the
    planner cannot flatten into a join. A plain join of a few pairs with the table gets, as
    a prepared statement's generic plan made while the table is young (a new install's
    first thousand rows), a hash join over a scan of the whole table, kept while the table
    grows until autovacuum next analyses it (seen in the chat benchmark: 0.02 → 2 ms per
    batch in eight seconds). The probe's plan is an index probe unless the table was all
    but empty (a few hundred rows) when it was made. More pairs (an event batch of 1,000)
    are joined: there a hash join costs about what a thousand probes do, and measured
    ~10 % faster on a young table (event ingest, 20,000 events). A chat batch, a few dozen
    messages against a table of millions, probes at any size."""
    probe = dialect == "postgresql" and len(pairs) <= probe_up_to
    return (_pairs_select(dialect, table, first, second, tuple(columns), uuid_first, probe),
            pairs_params(dialect, pairs))


@cache
def _pairs_select(dialect: str, table: FromClause, first: ColumnElement[Any],
                  second: ColumnElement[Any], columns: tuple[ColumnElement[Any], ...],
                  uuid_first: bool, probe: bool) -> Select[Any]:
    k, a, b = pairs_table(dialect, uuid_first=uuid_first)
    if probe:
        lateral = (select(*columns).where(first == a, second == b)
                   .limit(literal_column("1")).lateral("p"))  # a constant, known to any plan
        return select(*lateral.c).select_from(k).join(lateral, true())
    return select(*columns).select_from(k).join(table, and_(first == a, second == b))


class _JsonRows(TypeDecorator[list[dict[str, Any]]]):
    """Rows sent as one JSON array of objects (see :func:`json_rows`)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: list[dict[str, Any]] | None, dialect: Dialect
                           ) -> str | None:
        return None if value is None else orjson.dumps(value).decode()


def json_rows(dialect: str, name: str, columns: Sequence[tuple[str, Any]]) -> FromClause:
    """A table ``v`` of rows sent as one parameter ``name``: a list of dicts keyed by the
    ``(name, type)`` ``columns``, written as stored (UUIDs as ``uuid.hex``, which
    PostgreSQL reads as well; no datetimes — bind those as scalars).

    Writing a batch's rows with ``INSERT … SELECT`` / ``UPDATE … FROM`` this table is one
    statement, the same whatever the number of rows: no per-row parameter processing in
    SQLAlchemy and, on PostgreSQL, no per-row execution (asyncpg's ``executemany`` binds
    and executes every row: 150 rows took 8–10 ms, most of a chat batch)."""
    param = bindparam(name, type_=_JsonRows)
    if dialect == "postgresql":
        return (func.json_to_recordset(cast(param, JSON))
                .table_valued(*(column(n, t) for n, t in columns))
                .render_derived(name="v", with_types=True))
    each = func.json_each(param).table_valued("value").alias("v_each")
    return (select(*(func.json_extract(each.c.value, f"$.{n}", type_=t).label(n)
                     for n, t in columns)).select_from(each).subquery("v"))
