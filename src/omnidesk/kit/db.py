"""Engine, sessions and dialect helpers.

The request (or job) owns one transaction: services never commit. Work that must only
happen once the transaction is durable (websocket pushes, waking the outbox dispatcher)
is registered with :func:`after_commit` and run by :meth:`Database.transaction` after a
successful commit; it is dropped on rollback.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import cache, partial
from pathlib import Path
from typing import Any

import orjson
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

from omnidesk.kit import sqlite
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


def make_engine(url: str, *, inline_sqlite: bool = False, **kwargs: Any) -> AsyncEngine:
    """The async engine for ``url``. SQLite's connections are
    :class:`~omnidesk.kit.sqlite.ThreadedSqlite`, or with ``inline_sqlite`` (a process that
    only writes) :class:`~omnidesk.kit.sqlite.InlineSqlite`, whose calls run on the event
    loop's own thread."""
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        connect_args = kwargs.setdefault("connect_args", {"timeout": 30})
        kwargs["async_creator"] = partial(
            sqlite.inline_connection if inline_sqlite else sqlite.threaded_connection,
            str(path), **connect_args)
    else:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
    engine = create_async_engine(async_url(url), **kwargs)
    if path is not None:
        sqlite.listen(engine.sync_engine)
    return engine


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
        # lock and take it at their first write, if any (see kit.sqlite.begin).
        self.reading_sessions = async_sessionmaker(
            self.engine.execution_options(**{sqlite.READING: True}), expire_on_commit=False)
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
