"""The periodic SLA scan over 100,000 open cases, beside a plain SQL scan of the same rows.

    .venv/bin/python bench/bench_sla_scan.py [--cases 100000] [--database sqlite|postgresql|both]

Each case has a resolution clock on a Shanghai business-hours calendar (lunch break,
National Day holidays and make-up days), started at a random time in the last 10 days;
one in five is paused (waiting on the customer). The scan (`omnidesk sla scan`) computes
every clock's due time and state and stores them; the baseline fetches the same rows
with one plain SELECT through the same driver.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

from omnidesk.kit.db import Database
from omnidesk.kit.ids import new_id
from omnidesk.kit.migrate import upgrade
from omnidesk.kit.time import utcnow
from omnidesk.models import Case, Contact, SlaCalendar, SlaPolicy, SlaTarget
from omnidesk.sla.calendar import BusinessCalendar
from omnidesk.sla.scan import run_sla_scan

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql://postgres@127.0.0.1:5432/omnidesk_bench_sla"
CALENDAR = BusinessCalendar.weekdays(
    "Asia/Shanghai", hours=[("09:00", "12:00"), ("13:30", "18:00")],
    holidays=[date(2026, 10, d) for d in range(1, 8)],
    workdays=[date(2026, 9, 27), date(2026, 10, 10)]).to_dict()


async def reset_pg() -> None:
    admin = Database(PG_ADMIN, isolation_level="AUTOCOMMIT")
    async with admin.engine.connect() as conn:
        await conn.execute(sa.text("DROP DATABASE IF EXISTS omnidesk_bench_sla"))
        await conn.execute(sa.text("CREATE DATABASE omnidesk_bench_sla"))
    await admin.dispose()


async def load(db: Database, n: int) -> None:
    rng = random.Random(7)
    now = utcnow()
    async with db.transaction() as session:
        cal = SlaCalendar(name="shanghai", definition=CALENDAR)
        contact = Contact(name="bench")
        session.add_all([cal, contact])
        await session.flush()
        policy = SlaPolicy(name="standard", targets={"resolution": 16 * 60},
                           calendar_id=cal.id)
        session.add(policy)
        await session.flush()
        ids = (contact.id, policy.id)
    for start in range(0, n, 10_000):
        cases, targets = [], []
        for i in range(start, min(n, start + 10_000)):
            case_id = new_id()
            began = now - timedelta(minutes=rng.randint(1, 10 * 24 * 60))
            cases.append({"id": case_id, "number": f"B{i:07d}", "contact_id": ids[0],
                          "type": "request", "subject": "bench", "created_by": "bench",
                          "created_at": began, "updated_at": began})
            pauses = []
            if rng.random() < 0.2:
                p = began + timedelta(minutes=rng.randint(1, 600))
                pauses = [[p.isoformat(), (p + timedelta(hours=2)).isoformat()]]
            targets.append({"id": new_id(), "subject_kind": "case", "subject_id": case_id,
                            "metric": "resolution", "policy_id": ids[1],
                            "target_seconds": 16 * 3600, "started_at": began, "pauses": pauses,
                            "state": "on_track", "next_check_at": began, "notified": {},
                            "updated_at": began})
        async with db.transaction() as session:
            await session.execute(sa.insert(Case), cases)
            await session.execute(sa.insert(SlaTarget), targets)


async def baseline(db: Database) -> float:
    started = time.perf_counter()
    async with db.engine.connect() as conn:
        rows = (await conn.execute(sa.text(
            "SELECT * FROM sla_targets WHERE stopped_at IS NULL"))).all()
    assert rows
    return time.perf_counter() - started


async def run(kind: str, n: int) -> None:
    if kind == "sqlite":
        path = Path("var/bench/sla.db")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        await reset_pg()
        url = PG_URL
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    t0 = time.perf_counter()
    await load(db, n)
    load_s = time.perf_counter() - t0
    base_s = await baseline(db)
    t0 = time.perf_counter()
    report = await run_sla_scan(db, batch=25_000)
    scan_s = time.perf_counter() - t0
    async with db.transaction() as session:
        states = dict(list(await session.execute(sa.select(
            SlaTarget.state, sa.func.count()).group_by(SlaTarget.state))))
    await db.dispose()
    print(f"{kind:10s} cases={n:,} load={load_s:.1f}s")
    print(f"  sla scan : {scan_s:6.2f} s  {report.checked / scan_s:10,.0f} cases/s  "
          f"(evaluated {report.checked:,}; states {states})")
    print(f"  plain SQL: {base_s:6.2f} s  {n / base_s:10,.0f} rows/s")
    print(f"  ratio scan/plain: {scan_s / base_s:.1f}x   target: scan ≤ 10 s -> "
          f"{'met' if scan_s <= 10 else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    for kind in kinds:
        asyncio.run(run(kind, args.cases))


if __name__ == "__main__":
    main()
