"""Customer context ("screen pop") at scale: the API and get_context() vs the bare queries.

A migrated database is bulk-loaded (PostgreSQL: asyncpg COPY; SQLite: executemany in big
transactions) with 100,000 contacts and 2,000,000 timeline entries, phone/e-mail/WeChat
identities, organisations with memberships, products held by contacts and organisations,
and conversations. The dataset is kept and reused by later runs of the same size (row
counts are checked). Then, for the same random contacts (one client, sequential):

- ``GET /api/v1/context?phone=…``, ``GET /api/v1/contacts/{id}/context`` and
  ``GET /api/v1/contacts/{id}/timeline`` over real HTTP (uvicorn in its own process) with
  a lean keep-alive HTTP/1.1 client, and ``/context?phone=`` again with httpx (a
  general-purpose client costs ~1 ms more per request on this side);
- ``get_context()`` / ``get_context_by_identity()`` in this process (one transaction,
  no HTTP);
- two bare-SQL baselines, run directly with the driver the application uses (asyncpg /
  aiosqlite), inside one transaction: the plain queries one would write by hand, one per
  part of the context (same rows, same order), and the very statement the application
  sends (compiled by SQLAlchemy once, same parameters);
- ``GET /health`` with each client: the floor of the client and the server's HTTP stack
  (no database, no authentication), to read the HTTP lines against.

Every call runs once per contact, interleaved contact by contact in a rotating order, so
that a noisy moment on a shared machine falls on every line alike. Each HTTP/service line
is reported against both baselines (p95 ÷ p95).

Full run:   .venv/bin/python bench/bench_context.py          (100,000 contacts, 2M entries)
Quick run:  .venv/bin/python bench/bench_context.py --contacts 10000 --activities 200000 \
                --samples 300
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiosqlite
import asyncpg
import httpx
import orjson
from _common import (
    ServerProcess,
    admin_token,
    backends,
    base_parser,
    fresh_database,
    machine_info,
    ms,
    percentile,
    pg_connect,
    pg_ensure_database,
    print_table,
    ratio,
    sqlite_url,
)
from sqlalchemy.engine import Dialect, make_url

from omnidesk.activity.context import (
    FAILURE_WINDOW,
    STATEMENT_BY_ID,
    STATEMENT_BY_IDENTITY,
    get_context,
    get_context_by_identity,
)
from omnidesk.activity.service import timeline_statement
from omnidesk.kit.db import Database
from omnidesk.kit.migrate import upgrade
from omnidesk.kit.text import search_key

Row = tuple[Any, ...]
COLUMNS = {
    "users": ("id", "email", "name", "password_hash", "role", "locale", "timezone",
              "is_active", "created_at"),
    "inboxes": ("id", "channel", "name", "config", "restricted", "created_at"),
    "organisations": ("id", "name", "search_key", "tier", "account_manager_id",
                      "billing_mode", "external_id", "attributes", "tags", "created_at",
                      "updated_at"),
    "contacts": ("id", "name", "search_key", "locale", "vip_level", "tier", "tags",
                 "attributes", "created_at", "updated_at"),
    "identities": ("id", "contact_id", "kind", "value", "verified", "created_at"),
    "memberships": ("id", "organisation_id", "contact_id", "role", "title", "created_at"),
    "product_holdings": ("id", "contact_id", "organisation_id", "product_code", "name",
                         "status", "started_at", "expires_at", "attributes", "created_at"),
    "conversations": ("id", "inbox_id", "contact_id", "channel", "status", "subject",
                      "priority", "last_seq", "message_count", "last_message_at",
                      "resolved_at", "created_at", "updated_at"),
    "activities": ("id", "contact_id", "organisation_id", "kind", "channel",
                   "conversation_id", "source", "external_id", "type", "outcome", "summary",
                   "data", "occurred_at", "created_at"),
}
EVENT_TYPES = [  # (source, type, outcome, channel)
    ("payments", "payment.failed", "failed", None),
    ("payments", "payment.succeeded", "succeeded", None),
    ("orders", "order.abandoned", "abandoned", "web_chat"),
    ("orders", "order.paid", "succeeded", None),
    ("logistics", "parcel.delivered", "succeeded", None),
    ("logistics", "delivery.failed", "failed", None),
    ("app", "app.error", "failed", "app_chat"),
    ("app", "checkin.failed", "failed", "app_chat"),
    ("app", "login.succeeded", "succeeded", "app_chat"),
    ("billing", "invoice.issued", "info", None),
    ("billing", "product.expiring", "info", "sms"),
]
OTHER_KINDS = [("call", "voice", "call.answered", "succeeded"),
               ("call", "voice", "call.missed", "abandoned"),
               ("bot_session", "web_chat", "bot.resolved", "succeeded"),
               ("bot_session", "app_chat", "bot.handed_off", "info")]
TIERS = ["strategic", "key", "standard", "standard", "small_business"]
ROLES = ["decision_maker", "key_person", "administrator", "member", "member", "member"]
PRODUCTS = [("BB-500", "宽带 500M"), ("MOB-5G", "5G 畅享套餐"), ("IPTV", "IPTV 高清"),
            ("CLOUD-1", "云电脑"), ("ENT-LINE", "企业专线"), ("SEC-PLUS", "安全加")]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超霞平刚桂"


# --------------------------------------------------------------------------- the dataset

def uuid7_at(at: datetime) -> uuid.UUID:
    """A UUID v7 whose timestamp is ``at`` (time-ordered like the application's ids)."""
    millis = int(at.timestamp() * 1000) & ((1 << 48) - 1)
    value = (millis << 80) | (0x7 << 76) | (random.getrandbits(12) << 64) \
        | (0b10 << 62) | random.getrandbits(62)
    return uuid.UUID(int=value)


def phone_of(i: int) -> str:
    return f"+86{138 + i % 2}{i:08d}"


class Dataset:
    """Generates the rows (Python values) table by table, deterministic for a seed."""

    def __init__(self, contacts: int, activities: int, seed: int) -> None:
        self.n_contacts, self.n_activities = contacts, activities
        self.rng = random.Random(seed)
        random.seed(seed)
        self.now = datetime.now(UTC)
        self.contact_ids: list[uuid.UUID] = []
        self.org_ids: list[uuid.UUID] = []
        self.user_ids: list[uuid.UUID] = []
        self.inboxes: list[tuple[uuid.UUID, str]] = []
        self.member_org: dict[int, uuid.UUID] = {}
        self.conversations: list[tuple[uuid.UUID, int, str, datetime]] = []

    def ago(self, days: float) -> datetime:
        return self.now - timedelta(seconds=self.rng.random() * days * 86400)

    def users(self) -> list[Row]:
        rows = []
        for i in range(20):
            uid = uuid7_at(self.ago(400))
            self.user_ids.append(uid)
            rows.append((uid, f"am{i}@bench.example", f"客户经理{i}", "!", "account_manager",
                         "zh-CN", "Asia/Shanghai", True, self.now))
        return rows

    def inbox_rows(self) -> list[Row]:
        rows = []
        for channel in ("web_chat", "app_chat", "email", "voice", "wechat"):
            iid = uuid7_at(self.ago(400))
            self.inboxes.append((iid, channel))
            rows.append((iid, channel, f"bench {channel}", {}, False, self.now))
        return rows

    def organisations(self) -> list[Row]:
        rows = []
        for i in range(max(1, self.n_contacts // 50)):
            oid = uuid7_at(self.ago(800))
            self.org_ids.append(oid)
            name = f"基准企业{i}有限公司"
            rows.append((oid, name, search_key(name), self.rng.choice(TIERS),
                         self.rng.choice(self.user_ids), self.rng.choice(["prepaid", "postpaid"]),
                         f"ORG-{i}", {"industry": "manufacturing"}, ["enterprise"],
                         self.now, self.now))
        return rows

    def contacts(self) -> Iterator[Row]:
        for _ in range(self.n_contacts):
            cid = uuid7_at(self.ago(900))
            self.contact_ids.append(cid)
            name = self.rng.choice(SURNAMES) + "".join(self.rng.sample(GIVEN, 2))
            vip = self.rng.choice([None, None, None, 1, 2, 3])
            tags = self.rng.choice([[], [], ["vip"], ["complained"], ["5g", "family"]])
            yield (cid, name, search_key(name), "zh-CN", vip, None, tags,
                   {"city": self.rng.choice(["上海", "北京", "广州", "深圳"])},
                   self.now, self.now)

    def identities(self) -> Iterator[Row]:
        for i, cid in enumerate(self.contact_ids):
            yield (uuid7_at(self.now), cid, "phone", phone_of(i), True, self.now)
            if i % 2 == 0:
                yield (uuid7_at(self.now), cid, "email", f"c{i}@mail.example", False, self.now)
            if i % 3 == 0:
                yield (uuid7_at(self.now), cid, "wechat_openid", f"o{i:012d}", False, self.now)

    def memberships(self) -> Iterator[Row]:
        for i, cid in enumerate(self.contact_ids):
            if self.rng.random() < 0.3:
                oid = self.rng.choice(self.org_ids)
                self.member_org[i] = oid
                yield (uuid7_at(self.now), oid, cid, self.rng.choice(ROLES), None, self.now)

    def products(self) -> Iterator[Row]:
        def one(cid: uuid.UUID | None, oid: uuid.UUID | None) -> Row:
            code, name = self.rng.choice(PRODUCTS)
            started = self.ago(700)
            expires = self.now + timedelta(days=self.rng.uniform(-60, 400))
            status = "active" if expires > self.now else "expired"
            return (uuid7_at(started), cid, oid, code, name, status, started, expires,
                    {"monthly_fee": self.rng.choice([59, 99, 199, 599])}, self.now)

        for cid in self.contact_ids:
            for _ in range(self.rng.choice([0, 1, 1, 1, 2, 2])):
                yield one(cid, None)
        for oid in self.org_ids:
            for _ in range(3):
                yield one(None, oid)

    def conversation_rows(self) -> Iterator[Row]:
        for i, cid in enumerate(self.contact_ids):
            for _ in range(self.rng.choice([0, 1, 1, 1, 2])):
                inbox, channel = self.rng.choice(self.inboxes)
                created = self.ago(365)
                last = min(self.now, created + timedelta(minutes=self.rng.randint(1, 600)))
                open_ = self.rng.random() < 0.1
                status = self.rng.choice(["open", "pending"]) if open_ else "resolved"
                conv = uuid7_at(created)
                self.conversations.append((conv, i, channel, last))
                count = self.rng.randint(1, 30)
                yield (conv, inbox, cid, channel, status, None, 0, count, count, last,
                       None if open_ else last, created, last)

    def activities(self) -> Iterator[Row]:
        """Conversation entries first, then events/calls/bot sessions up to the total,
        spread over contacts with a heavy tail (a few contacts have hundreds)."""
        now = self.now
        for conv, i, channel, last in self.conversations:
            yield (uuid7_at(last), self.contact_ids[i], self.member_org.get(i), "conversation",
                   channel, conv, "conversation", str(conv), "conversation", "info",
                   "您好，我的宽带又断了，麻烦尽快处理", {"status": "resolved"}, last, now)
        left = max(0, self.n_activities - len(self.conversations))
        weights = [self.rng.lognormvariate(0, 1) for _ in self.contact_ids]
        total = sum(weights)
        counts = [int(w / total * left) for w in weights]
        short = left - sum(counts)
        for k in self.rng.sample(range(len(counts)), short):
            counts[k] += 1
        n = 0
        for i, count in enumerate(counts):
            cid, oid = self.contact_ids[i], self.member_org.get(i)
            for _ in range(count):
                n += 1
                at = self.ago(365)
                if self.rng.random() < 0.8:
                    source, etype, outcome, channel = self.rng.choice(EVENT_TYPES)
                    kind = "event"
                else:
                    kind, channel, etype, outcome = self.rng.choice(OTHER_KINDS)
                    source = kind
                data = {"order_id": f"A-{n}", "amount": f"{self.rng.randint(10, 999)}.00"}
                if outcome in ("failed", "abandoned"):
                    data["reason"] = self.rng.choice(["余额不足", "timeout", "card expired"])
                yield (uuid7_at(at), cid, oid, kind, channel, None, source, f"b{n}", etype,
                       outcome, f"{etype} {data['amount']} CNY", data, at, now)


def tables_in_order(ds: Dataset) -> Iterator[tuple[str, Iterable[Row]]]:
    yield "users", ds.users()
    yield "inboxes", ds.inbox_rows()
    yield "organisations", ds.organisations()
    yield "contacts", ds.contacts()
    yield "identities", ds.identities()
    yield "memberships", ds.memberships()
    yield "product_holdings", ds.products()
    yield "conversations", ds.conversation_rows()
    yield "activities", ds.activities()


def chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, uuid.UUID):
        return v.hex
    if isinstance(v, datetime):
        return v.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(v, dict | list):
        return orjson.dumps(v).decode()
    if isinstance(v, bool):
        return int(v)
    return v


def _pg_value(v: Any) -> Any:
    if isinstance(v, dict | list):
        return orjson.dumps(v).decode()
    return v


def load_sqlite(path: Path, ds: Dataset) -> None:
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA synchronous=OFF")
        con.execute("PRAGMA cache_size=-1000000")
        for table, rows in tables_in_order(ds):
            cols = COLUMNS[table]
            sql = (f"INSERT INTO {table} ({', '.join(cols)}) "
                   f"VALUES ({', '.join('?' * len(cols))})")
            t0, count = time.perf_counter(), 0
            for chunk in chunks(rows, 200_000):
                con.execute("BEGIN")
                con.executemany(sql, [tuple(_sqlite_value(v) for v in r) for r in chunk])
                con.execute("COMMIT")
                count += len(chunk)
            print(f"    {table:17} {count:>10,} rows in {time.perf_counter() - t0:6.1f} s",
                  flush=True)
        con.execute("ANALYZE")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


async def load_postgresql(url: str, ds: Dataset) -> None:
    conn = await pg_connect(url)
    try:
        for table, rows in tables_in_order(ds):
            t0, count = time.perf_counter(), 0
            for chunk in chunks(rows, 200_000):
                await conn.copy_records_to_table(
                    table, records=[tuple(_pg_value(v) for v in r) for r in chunk],
                    columns=list(COLUMNS[table]))
                count += len(chunk)
            print(f"    {table:17} {count:>10,} rows in {time.perf_counter() - t0:6.1f} s",
                  flush=True)
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


async def table_counts(kind: str, url: str) -> tuple[int, int]:
    # reminders: rows the server's expiry scan may have added to a reused dataset
    query = ("SELECT (SELECT count(*) FROM contacts), "
             "(SELECT count(*) FROM activities WHERE source <> 'reminders')")
    try:
        if kind == "sqlite":
            path = url.removeprefix("sqlite:///")
            if not Path(path).exists():
                return 0, 0
            async with aiosqlite.connect(path) as con:
                row = await (await con.execute(query)).fetchone()
        else:
            conn = await pg_connect(url)
            try:
                row = await conn.fetchrow(query)
            finally:
                await conn.close()
    except Exception:  # no schema yet
        return 0, 0
    assert row is not None
    return int(row[0]), int(row[1])


async def ensure_dataset(kind: str, args: argparse.Namespace) -> str:
    name = f"{args.db_prefix}_{args.contacts}_{args.activities}"
    if kind == "sqlite":
        url = sqlite_url(args.data_dir / f"{name}.db")
    else:
        url = await pg_ensure_database(args.pg_url, name)
    have = await table_counts(kind, url)
    if have == (args.contacts, args.activities) and not args.reload:
        print(f"  {kind}: reusing the loaded dataset ({have[0]:,} contacts, "
              f"{have[1]:,} activities); migrating it to the current head")
        await asyncio.to_thread(upgrade, url)
        return url
    print(f"  {kind}: loading {args.contacts:,} contacts and {args.activities:,} "
          f"activities …", flush=True)
    url = await fresh_database(kind, name, args)
    ds = Dataset(args.contacts, args.activities, args.seed)
    t0 = time.perf_counter()
    if kind == "sqlite":
        await asyncio.to_thread(load_sqlite, Path(url.removeprefix("sqlite:///")), ds)
    else:
        await load_postgresql(url, ds)
    print(f"  {kind}: loaded in {time.perf_counter() - t0:.0f} s")
    return url


# --------------------------------------------------------------------------- bare queries

class Bare:
    """The context's and the timeline's SELECTs run with the raw driver, two ways:

    - ``by_id`` / ``by_phone`` / ``timeline``: one plain query per part (the contact, its
      identities, organisations, products, failures, open conversations, open cases, the
      latest entry per channel, the recent entries), as one would write them by hand;
    - ``app_by_id`` / ``app_by_phone`` / ``app_timeline``: the very statement the
      application sends (compiled by SQLAlchemy for this dialect once, here), with the
      same parameters.

    Both in a transaction (BEGIN … COMMIT), like the application's request."""

    def __init__(self, kind: str, url: str, dialect: Dialect) -> None:
        self.kind, self.url = kind, url
        self.p = "?" if kind == "sqlite" else "$"
        self._pg: Any = None
        self._lite: aiosqlite.Connection | None = None
        since = datetime.now(UTC)
        self._by_id = STATEMENT_BY_ID.params(cid=uuid.UUID(int=0), since=since).compile(
            dialect=dialect)
        self._by_identity = STATEMENT_BY_IDENTITY.params(
            kind="phone", value="", since=since).compile(dialect=dialect)
        timeline = timeline_statement(False, False, False, False)
        self._timeline = timeline.params(cid=uuid.UUID(int=0), size=51).compile(
            dialect=dialect)

    async def _app(self, compiled: Any, **params: Any) -> list[Sequence[Any]]:
        state = compiled.construct_expanded_state(params)
        return await self.fetch(state.statement, *state.positional_parameters)

    def _sql(self, sql: str) -> str:
        return re.sub(r"\$\d+", "?", sql) if self.kind == "sqlite" else sql

    async def open(self) -> None:
        if self.kind == "sqlite":
            self._lite = await aiosqlite.connect(self.url.removeprefix("sqlite:///"),
                                                 isolation_level=None)
        else:  # prepared statements are cached whatever their size, as SQLAlchemy's are
            self._pg = await asyncpg.connect(
                make_url(self.url).set(drivername="postgresql").render_as_string(
                    hide_password=False), max_cacheable_statement_size=1 << 20)

    async def close(self) -> None:
        if self._lite is not None:
            await self._lite.close()
        if self._pg is not None:
            await self._pg.close()

    def _key(self, value: Any) -> Any:
        if self.kind == "sqlite":
            if isinstance(value, uuid.UUID):
                return value.hex
            if isinstance(value, datetime):
                return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        return value

    async def fetch(self, sql: str, *params: Any) -> list[Sequence[Any]]:
        values = [self._key(p) for p in params]
        if self._lite is not None:
            cur = await self._lite.execute(self._sql(sql), values)
            return list(await cur.fetchall())
        return list(await self._pg.fetch(sql, *values))

    async def begin(self) -> None:
        if self._lite is not None:
            await self._lite.execute("BEGIN")
        else:
            await self._pg.execute("BEGIN")

    async def commit(self) -> None:
        if self._lite is not None:
            await self._lite.execute("COMMIT")
        else:
            await self._pg.execute("COMMIT")

    async def by_phone(self, phone: str) -> uuid.UUID:
        await self.begin()
        rows = await self.fetch(
            "SELECT contact_id FROM identities WHERE kind = $1 AND value = $2", "phone", phone)
        contact_id = rows[0][0]
        contact_id = uuid.UUID(hex=contact_id) if isinstance(contact_id, str) else contact_id
        await self._context(contact_id)
        await self.commit()
        return contact_id

    async def by_id(self, contact_id: uuid.UUID) -> None:
        await self.begin()
        await self._context(contact_id)
        await self.commit()

    async def _context(self, cid: uuid.UUID) -> None:
        await self.fetch("SELECT * FROM contacts WHERE id = $1", cid)
        await self.fetch("SELECT * FROM identities WHERE contact_id = $1 ORDER BY created_at",
                         cid)
        orgs = await self.fetch(
            "SELECT m.role, m.title, o.*, u.name FROM memberships m "
            "JOIN organisations o ON o.id = m.organisation_id "
            "LEFT JOIN users u ON u.id = o.account_manager_id WHERE m.contact_id = $1", cid)
        org_ids = [r[2] for r in orgs]
        if org_ids:
            marks = ", ".join(f"${i + 2}" for i in range(len(org_ids)))
            await self.fetch(f"SELECT * FROM product_holdings WHERE contact_id = $1 "
                             f"OR organisation_id IN ({marks}) ORDER BY expires_at",
                             cid, *org_ids)
        else:
            await self.fetch("SELECT * FROM product_holdings WHERE contact_id = $1 "
                             "ORDER BY expires_at", cid)
        await self.fetch(
            "SELECT * FROM activities WHERE contact_id = $1 AND outcome IN ('failed', "
            "'abandoned') AND occurred_at >= $2 ORDER BY occurred_at DESC LIMIT 10",
            cid, datetime.now(UTC) - FAILURE_WINDOW)
        await self.fetch(
            "SELECT * FROM conversations WHERE contact_id = $1 AND status <> 'resolved' "
            "ORDER BY last_message_at DESC LIMIT 10", cid)
        await self.fetch(
            "SELECT * FROM cases WHERE contact_id = $1 AND status = 'open' "
            "ORDER BY created_at DESC LIMIT 10", cid)
        await self.fetch(
            "SELECT a.* FROM activities a JOIN (SELECT id, row_number() OVER (PARTITION BY "
            "channel ORDER BY occurred_at DESC, id DESC) AS rn FROM activities WHERE "
            "contact_id = $1 AND channel IS NOT NULL) r ON r.id = a.id WHERE r.rn = 1", cid)
        await self.fetch(
            "SELECT * FROM activities WHERE contact_id = $1 "
            "ORDER BY occurred_at DESC, id DESC LIMIT 10", cid)

    async def timeline(self, cid: uuid.UUID) -> None:
        await self.begin()
        await self.fetch("SELECT * FROM contacts WHERE id = $1", cid)
        await self.fetch("SELECT * FROM activities WHERE contact_id = $1 "
                         "ORDER BY occurred_at DESC, id DESC LIMIT 51", cid)
        await self.commit()

    async def app_by_id(self, cid: uuid.UUID) -> None:
        await self.begin()
        rows = await self._app(self._by_id, cid=cid, since=datetime.now(UTC) - FAILURE_WINDOW)
        assert rows, cid
        await self.commit()

    async def app_by_phone(self, phone: str) -> None:
        await self.begin()
        rows = await self._app(self._by_identity, kind="phone", value=phone,
                               since=datetime.now(UTC) - FAILURE_WINDOW)
        assert rows, phone
        await self.commit()

    async def app_timeline(self, cid: uuid.UUID) -> None:
        await self.begin()
        rows = await self._app(self._timeline, cid=cid, size=51)
        assert rows, cid
        await self.commit()


# --------------------------------------------------------------------------- measuring

async def sample_contacts(kind: str, url: str, n: int, seed: int) -> list[tuple[uuid.UUID, str]]:
    query = "SELECT contact_id, value FROM identities WHERE kind = 'phone'"
    if kind == "sqlite":
        async with aiosqlite.connect(url.removeprefix("sqlite:///")) as con:
            rows = [(uuid.UUID(hex=r[0]), r[1]) for r in await con.execute_fetchall(query)]
    else:
        conn = await pg_connect(url)
        try:
            rows = [(r[0], r[1]) for r in await conn.fetch(query)]
        finally:
            await conn.close()
    rows.sort()
    return random.Random(seed).sample(rows, min(n, len(rows)))


class LeanHTTP:
    """A minimal HTTP/1.1 client: one keep-alive TCP connection, GET only, the body read
    by its Content-Length (or chunks). Real HTTP to the real server, without the ~1 ms a
    general-purpose client (httpx) spends per request in this process; the /health lines
    show both clients' floors."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.headers = "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> LeanHTTP:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._writer is not None:
            self._writer.close()

    async def get(self, path: str, params: dict[str, str] | None = None) -> tuple[int, bytes]:
        assert self._reader is not None and self._writer is not None
        if params:
            path += "?" + urlencode(params)
        self._writer.write(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: "
                           + self.host.encode() + b"\r\n" + self.headers + b"\r\n")
        head = await self._reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = {k.strip().lower(): v.strip() for k, _, v in
                  (line.partition(":") for line in lines[1:] if line)}
        if "content-length" in fields:
            return status, await self._reader.readexactly(int(fields["content-length"]))
        body = b""
        while True:  # chunked
            size = int((await self._reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await self._reader.readexactly(size + 2)
            if size == 0:
                return status, body
            body += chunk[:-2]


Call = Callable[[uuid.UUID, str], Awaitable[Any]]


async def measure(sample: list[tuple[uuid.UUID, str]], calls: dict[str, Call],
                  seed: int) -> dict[str, list[float]]:
    """Every call once per contact, interleaved (contact by contact, in a rotating
    order), so that a noisy moment on a shared machine hits every line alike."""
    out: dict[str, list[float]] = {name: [] for name in calls}
    names = list(calls)
    rng = random.Random(seed)
    for cid, phone in sample:
        rng.shuffle(names)
        for name in names:
            t0 = time.perf_counter()
            await calls[name](cid, phone)
            out[name].append(time.perf_counter() - t0)
    for name in calls:
        print(f"    {name:42} p50 {ms(percentile(out[name], 50)):>7} ms  p95 "
              f"{ms(percentile(out[name], 95)):>7} ms", flush=True)
    return out


async def bench_backend(kind: str, args: argparse.Namespace) -> dict[str, list[float]]:
    url = await ensure_dataset(kind, args)
    sample = await sample_contacts(kind, url, args.samples, args.seed)
    token = await admin_token(url)
    db = Database(url)
    bare = Bare(kind, url, db.engine.dialect)
    prof = args.data_dir / f"profile-context-server-{kind}.prof" if args.profile else None
    # The periodic scans (SLA, expiry reminders) are background work, not the screen pop;
    # on this dataset the first expiry scan writes ~10,000 reminders in one transaction.
    quiet = {"OMNIDESK_SCAN_SECONDS": str(args.scan_seconds)}
    try:
        await bare.open()
        auth = {"Authorization": f"Bearer {token}"}
        async with ServerProcess(url, args.data_dir, profile=prof,
                                 extra_env=quiet) as server, httpx.AsyncClient(
                base_url=server.url, timeout=30, headers=auth) as client, LeanHTTP(
                "127.0.0.1", server.port, auth) as lean:

            async def get(path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
                status, body = await lean.get(path, params)
                if status != 200:
                    raise RuntimeError(f"{path}: {status} {body[:200]!r}")
                return dict(orjson.loads(body))

            async def get_httpx(path: str, params: dict[str, str] | None = None) -> None:
                r = await client.get(path, params=params)
                if r.status_code != 200:
                    raise RuntimeError(f"{path}: {r.status_code} {r.text[:200]}")
                orjson.loads(r.content)

            async def httpx_phone(_: uuid.UUID, phone: str) -> None:
                await get_httpx("/api/v1/context", {"phone": phone})

            async def httpx_health(_: uuid.UUID, __: str) -> None:
                await get_httpx("/health")

            async def http_phone(cid: uuid.UUID, phone: str) -> None:
                body = await get("/api/v1/context", {"phone": phone})
                assert body["contact"]["id"] == str(cid)

            async def http_id(cid: uuid.UUID, _: str) -> None:
                await get(f"/api/v1/contacts/{cid}/context")

            async def http_timeline(cid: uuid.UUID, _: str) -> None:
                await get(f"/api/v1/contacts/{cid}/timeline")

            async def http_health(_: uuid.UUID, __: str) -> None:
                await get("/health")

            async def svc(cid: uuid.UUID, _: str) -> None:
                async with db.transaction() as session:
                    await get_context(session, cid)

            async def svc_phone(_: uuid.UUID, phone: str) -> None:
                async with db.transaction() as session:
                    await get_context_by_identity(session, "phone", phone)

            calls: dict[str, Call] = {
                "bare SQL by id": lambda cid, _: bare.by_id(cid),
                "bare SQL by phone": lambda _, phone: bare.by_phone(phone),
                "bare SQL timeline": lambda cid, _: bare.timeline(cid),
                "bare app statement by id": lambda cid, _: bare.app_by_id(cid),
                "bare app statement by phone": lambda _, phone: bare.app_by_phone(phone),
                "bare app statement timeline": lambda cid, _: bare.app_timeline(cid),
                "get_context() by id": svc,
                "get_context() by phone": svc_phone,
                "HTTP /health (floor: client + HTTP stack)": http_health,
                "HTTP /context?phone=": http_phone,
                "HTTP /contacts/{id}/context": http_id,
                "HTTP /contacts/{id}/timeline": http_timeline,
                "httpx client: /health (its floor)": httpx_health,
                "httpx client: /context?phone=": httpx_phone,
            }
            print(f"  {kind}: warming up (every call once per contact) …", flush=True)
            for cid, phone in sample:  # caches (database pages, statements) alike for all
                for call in calls.values():
                    await call(cid, phone)
            print(f"  {kind}: {len(sample):,} random contacts, one client, sequential, "
                  "every call once per contact, interleaved")
            return await measure(sample, calls, args.seed)
    finally:
        await bare.close()
        await db.dispose()


async def main() -> None:
    parser = base_parser(__doc__ or "")
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--activities", type=int, default=2_000_000)
    parser.add_argument("--samples", type=int, default=1000, help="random contacts measured")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--reload", action="store_true", help="load the dataset again")
    parser.add_argument("--db-prefix", default="omnidesk_bench_ctx",
                        help="name of the dataset's PostgreSQL database and SQLite file "
                             "(the sizes are appended); must start with omnidesk_bench")
    parser.add_argument("--scan-seconds", type=float, default=86400,
                        help="the server's periodic scan interval (default: no scan during "
                             "the run; 30 is the product default)")
    parser.add_argument("--profile", action="store_true",
                        help="run the server under cProfile (stats written to --data-dir)")
    args = parser.parse_args()
    print(await machine_info(args.pg_url if "postgresql" in backends(args) else None))
    all_results = {kind: await bench_backend(kind, args) for kind in backends(args)}
    # (plain queries, the app's statement) each line is compared with
    baseline_of = {
        "get_context() by id": ("bare SQL by id", "bare app statement by id"),
        "get_context() by phone": ("bare SQL by phone", "bare app statement by phone"),
        "HTTP /context?phone=": ("bare SQL by phone", "bare app statement by phone"),
        "HTTP /contacts/{id}/context": ("bare SQL by id", "bare app statement by id"),
        "HTTP /contacts/{id}/timeline": ("bare SQL timeline", "bare app statement timeline"),
        "httpx client: /context?phone=": ("bare SQL by phone", "bare app statement by phone"),
    }
    rows = []
    for kind, res in all_results.items():
        for name, values in res.items():
            bases = baseline_of.get(name)
            p95 = percentile(values, 95)
            plain, same = ((ratio(p95, percentile(res[b], 95)) for b in bases) if bases
                           else ("-", "-"))
            rows.append((kind, name, ms(percentile(values, 50)), ms(p95),
                         ms(percentile(values, 99)), plain, same))
    print_table(f"Customer context: {args.contacts:,} contacts, {args.activities:,} activities"
                f" (ms; target p95 ≤ 25 ms and ≤ 3× the bare queries)",
                ["database", "call", "p50", "p95", "p99", "p95 ÷ bare plain queries",
                 "p95 ÷ bare app statement"], rows)


if __name__ == "__main__":
    asyncio.run(main())
