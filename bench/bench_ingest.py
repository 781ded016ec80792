"""Event ingest: the batch API (real HTTP, live server) vs a raw insert of the same rows.

Every mode starts from the same empty migrated database and stores the same stream of
realistic business events (payment, order, logistics, app events identified by a phone
number; a pool of contacts smaller than the stream, so most events repeat a contact):

- ``api``      POST /api/v1/events, batches of 1,000, one client, against a uvicorn server
               running in its own process;
- ``service``  the ingest service function in this process (no HTTP, no JSON), one
               transaction per batch;
- ``raw all``  SQLAlchemy Core executemany, same async driver and engine, of exactly the
               rows the ingest writes (new contacts + their phone identities + activities),
               one transaction per batch;
- ``raw act``  the strict baseline: only the activities rows (contacts inserted beforehand,
               untimed), one transaction per batch.

Full run:   .venv/bin/python bench/bench_ingest.py                       (100,000 events)
Quick run:  .venv/bin/python bench/bench_ingest.py --events 10000 --database sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import random
import statistics
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from _common import (
    ServerProcess,
    Template,
    admin_token,
    backends,
    base_parser,
    machine_info,
    print_table,
    ratio,
)
from sqlalchemy import func, insert, select

from omnidesk.customers.identities import normalize_phone
from omnidesk.events.service import infer_outcome, ingest
from omnidesk.kit.db import Database
from omnidesk.kit.ids import new_id
from omnidesk.kit.text import search_key
from omnidesk.models import Activity, Contact, Identity

EVENT_KINDS = {
    "payments": ["payment.failed", "payment.succeeded", "refund.completed"],
    "orders": ["order.abandoned", "order.paid", "order.cancelled", "order.created"],
    "logistics": ["parcel.delivered", "delivery.failed", "parcel.shipped"],
    "app": ["app.error", "login.failed", "checkin.failed", "checkin.completed"],
    "billing": ["product.expiring", "invoice.issued", "autopay.declined"],
}
REASONS = ["insufficient balance", "card expired", "address not found", "timeout",
           "risk control", "network error", "customer cancelled"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明"]
MOBILE_PREFIXES = ["130", "131", "132", "135", "136", "137", "138", "139", "150", "151",
                   "152", "155", "156", "157", "158", "159", "186", "187", "188", "189"]
CHANNELS = [None, None, "app_chat", "web_chat", "sms", "voice"]


# --------------------------------------------------------------------------- the stream

def phone_formats(n: int) -> str:
    """A valid mainland mobile number, written the various ways systems send them."""
    digits = f"{random.choice(MOBILE_PREFIXES)}{n:08d}"
    style = n % 4
    if style == 0:
        return "+86" + digits
    if style == 1:
        return digits
    if style == 2:
        return f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}"
    return f"0086-{digits}"


def make_stream(events: int, contacts: int, seed: int) -> list[dict[str, Any]]:
    random.seed(seed)
    people = [(phone_formats(i), random.choice(SURNAMES) + "".join(random.sample(GIVEN, 2)))
              for i in range(contacts)]
    start = datetime(2026, 11, 1, tzinfo=UTC)
    run = uuid.uuid4().hex[:8]
    out = []
    for i in range(events):
        source = random.choice(list(EVENT_KINDS))
        etype = random.choice(EVENT_KINDS[source])
        phone, name = random.choice(people)
        at = start + timedelta(seconds=random.randint(0, 24 * 3600 * 24))
        amount = f"{random.randint(10, 5000)}.{random.randint(0, 99):02d}"
        data: dict[str, Any] = {"order_id": f"A-{random.randint(1, 10**9)}", "amount": amount,
                                "currency": "CNY"}
        if etype.endswith(("failed", "declined", "abandoned", "cancelled", "error")):
            data["reason"] = random.choice(REASONS)
        event: dict[str, Any] = {
            "source": source, "id": f"{source}-{run}-{i:08d}", "type": etype,
            "occurred_at": at.isoformat().replace("+00:00", "Z"),
            "contact": {"phone": phone}, "contact_name": name,
            "summary": f"{etype.replace('.', ' ')}: {amount} CNY",
            "data": data,
        }
        channel = random.choice(CHANNELS)
        if channel:
            event["channel"] = channel
        out.append(event)
    return out


@dataclass
class RawRows:
    """Exactly the rows the ingest writes for one batch, computed ahead (untimed)."""

    contacts: list[dict[str, Any]] = field(default_factory=list)
    identities: list[dict[str, Any]] = field(default_factory=list)
    activities: list[dict[str, Any]] = field(default_factory=list)


def raw_rows(batches: list[list[dict[str, Any]]]) -> list[RawRows]:
    known: dict[str, uuid.UUID] = {}
    now = datetime.now(UTC)
    out = []
    for batch in batches:
        rows = RawRows()
        for e in batch:
            phone = normalize_phone(e["contact"]["phone"], "CN")
            contact_id = known.get(phone)
            if contact_id is None:
                contact_id = known[phone] = new_id()
                rows.contacts.append({
                    "id": contact_id, "name": e["contact_name"],
                    "search_key": search_key(e["contact_name"]), "tags": [], "attributes": {},
                    "created_at": now, "updated_at": now})
                rows.identities.append({"id": new_id(), "contact_id": contact_id,
                                        "kind": "phone", "value": phone, "verified": False,
                                        "created_at": now})
            rows.activities.append({
                "id": new_id(), "contact_id": contact_id, "organisation_id": None,
                "kind": "event", "channel": e.get("channel"), "conversation_id": None,
                "source": e["source"], "external_id": e["id"], "type": e["type"],
                "outcome": infer_outcome(e["type"]), "summary": e["summary"],
                "data": e["data"],
                "occurred_at": datetime.fromisoformat(e["occurred_at"].replace("Z", "+00:00")),
                "created_at": now})
        out.append(rows)
    return out


# --------------------------------------------------------------------------- the modes

async def run_raw(url: str, rows: list[RawRows], *, activities_only: bool) -> float:
    db = Database(url)
    try:
        if activities_only:  # contacts first, untimed
            async with db.engine.begin() as conn:
                for r in rows:
                    if r.contacts:
                        await conn.execute(insert(Contact.__table__), r.contacts)
                        await conn.execute(insert(Identity.__table__), r.identities)
        t0 = time.perf_counter()
        for r in rows:
            async with db.engine.begin() as conn:
                if not activities_only and r.contacts:
                    await conn.execute(insert(Contact.__table__), r.contacts)
                    await conn.execute(insert(Identity.__table__), r.identities)
                await conn.execute(insert(Activity.__table__), r.activities)
        return time.perf_counter() - t0
    finally:
        await db.dispose()


async def run_service(url: str, batches: list[list[dict[str, Any]]],
                      profile: cProfile.Profile | None = None) -> float:
    db = Database(url)
    try:
        # copies: the service does not mutate its input, but keep runs independent anyway
        payloads = [orjson.loads(orjson.dumps(b)) for b in batches]
        if profile is not None:
            profile.enable()
        t0 = time.perf_counter()
        for batch in payloads:
            async with db.transaction() as session:
                results = await ingest(session, batch, "CN")
            assert all(r.status == "created" for r in results), results[:3]
        elapsed = time.perf_counter() - t0
        if profile is not None:
            profile.disable()
        return elapsed
    finally:
        await db.dispose()


async def run_api(url: str, batches: list[list[dict[str, Any]]], args: argparse.Namespace,
                  tag: str) -> float:
    token = await admin_token(url)
    bodies = [(orjson.dumps({"events": b}), len(b)) for b in batches]
    prof = args.data_dir / f"profile-ingest-server-{tag}.prof" if args.profile else None
    async with ServerProcess(url, args.data_dir, profile=prof) as server, httpx.AsyncClient(
            base_url=server.url, timeout=120,
            headers={"Authorization": f"Bearer {token}",
                     "Content-Type": "application/json"}) as client:
        queue = list(enumerate(bodies))

        async def worker() -> None:
            while queue:
                _, (body, size) = queue.pop(0)
                r = await client.post("/api/v1/events", content=body)
                if r.status_code != 200:
                    raise RuntimeError(f"ingest failed: {r.status_code} {r.text[:300]}")
                counts = orjson.loads(r.content)
                if counts["created"] != size:
                    raise RuntimeError(f"not all created: {r.text[:300]}")

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        elapsed = time.perf_counter() - t0
    if prof is not None:
        print(f"  server profile written to {prof}")
    return elapsed


async def counts(url: str) -> tuple[int, int]:
    db = Database(url)
    try:
        async with db.transaction() as session:
            acts = int(await session.scalar(select(func.count()).select_from(Activity)) or 0)
            people = int(await session.scalar(select(func.count()).select_from(Contact)) or 0)
        return acts, people
    finally:
        await db.dispose()


# --------------------------------------------------------------------------- driver

Mode = Callable[[], Coroutine[Any, Any, float]]


async def bench_backend(kind: str, args: argparse.Namespace,
                        batches: list[list[dict[str, Any]]], rows: list[RawRows],
                        expect: tuple[int, int]) -> dict[str, float]:
    template = Template(kind, "omnidesk_bench_ingest", args)
    url = await template.create()
    profile = cProfile.Profile() if args.profile else None
    modes: dict[str, Mode] = {
        "raw act": lambda: run_raw(url, rows, activities_only=True),
        "raw all": lambda: run_raw(url, rows, activities_only=False),
        "service": lambda: run_service(url, batches, profile),
        "api": lambda: run_api(url, batches, args, kind),
    }
    times: dict[str, list[float]] = {m: [] for m in modes}
    for round_ in range(args.rounds):
        for name, mode in modes.items():
            await template.reset()
            elapsed = await mode()
            got = await counts(url)
            if got != expect:
                raise RuntimeError(f"{kind}/{name}: stored {got}, expected {expect}")
            times[name].append(elapsed)
            print(f"  {kind:10} round {round_ + 1} {name:8} {elapsed:7.2f} s "
                  f"{args.events / elapsed:9.0f} events/s", flush=True)
    if profile is not None:
        path = args.data_dir / f"profile-ingest-service-{kind}.prof"
        profile.dump_stats(path)
        print(f"  service profile written to {path}; top functions by own time:")
        pstats.Stats(profile).sort_stats("tottime").print_stats(15)
    return {name: args.events / statistics.median(t) for name, t in times.items()}


async def main() -> None:
    parser = base_parser(__doc__ or "")
    parser.add_argument("--events", type=int, default=100_000, help="events in the stream")
    parser.add_argument("--contacts", type=int, default=0,
                        help="distinct phone numbers (default: events / 4)")
    parser.add_argument("--batch", type=int, default=1000, help="events per API request")
    parser.add_argument("--concurrency", type=int, default=1, help="API client requests in flight")
    parser.add_argument("--rounds", type=int, default=1, help="runs per mode (median is kept)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the service run and the server (written to --data-dir)")
    args = parser.parse_args()
    contacts = args.contacts or max(1, args.events // 4)
    stream = make_stream(args.events, contacts, args.seed)
    batches = [stream[i:i + args.batch] for i in range(0, len(stream), args.batch)]
    rows = raw_rows(batches)
    expect = (args.events, sum(len(r.contacts) for r in rows))
    print(await machine_info(args.pg_url if "postgresql" in backends(args) else None))
    print(f"{args.events:,} events in batches of {args.batch:,}; {expect[1]:,} distinct "
          f"contacts (of a pool of {contacts:,}); API concurrency {args.concurrency}")
    results = {kind: await bench_backend(kind, args, batches, rows, expect)
               for kind in backends(args)}
    table = []
    for kind, rate in results.items():
        for name in ("api", "service", "raw all", "raw act"):
            table.append((kind, name, f"{rate[name]:,.0f}",
                          ratio(rate[name], rate["raw act"]), ratio(rate[name], rate["raw all"])))
    print_table("Event ingest (events/s; ratio to the raw activities insert and to the raw "
                "insert of every row the ingest writes; target api ≥ 0.50 of raw all)",
                ["database", "mode", "events/s", "÷ raw act", "÷ raw all"], table)


if __name__ == "__main__":
    asyncio.run(main())
