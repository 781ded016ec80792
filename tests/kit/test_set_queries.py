"""Set-based lookups of kit.db on both databases: ``one_of`` (a list as one parameter) and
``rows_for_pairs`` (an index probe per pair), including PostgreSQL's plan for a table that
grew after it was last analysed."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event, select

from omnidesk.kit.db import PROBE_PAIRS, Database, one_of, rows_for_pairs
from omnidesk.models import Contact, Identity


async def _contacts(db: Database, names: list[str]) -> list[uuid.UUID]:
    async with db.transaction() as session:
        rows = [Contact(name=n) for n in names]
        session.add_all(rows)
        await session.flush()
        return [c.id for c in rows]


async def test_one_of_is_one_statement_whatever_the_number_of_values(db: Database) -> None:
    ids = await _contacts(db, ["王小明", "陳大文", "Alice Smith", "李四"])
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        stmt = select(Contact.name).where(one_of(db.dialect, Contact.id, "ids"))
        found = []
        for wanted in ([ids[0]], ids[1:3], [], [ids[3], uuid.uuid4()]):
            async with db.sessions() as session:
                found.append(sorted((await session.scalars(stmt, {"ids": wanted})).all()))
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    assert found == [["王小明"], sorted(["陳大文", "Alice Smith"]), [], ["李四"]]
    lookups = [s for s in seen if "contacts.name" in s]
    assert len(lookups) == 4 and len(set(lookups)) == 1  # not one SQL text per length


async def test_rows_for_pairs_finds_each_stored_pair_once(db: Database) -> None:
    a, b = await _contacts(db, ["張三", "Bob"])
    async with db.transaction() as session:
        session.add_all([Identity(contact_id=a, kind="phone", value="+8613800138000"),
                         Identity(contact_id=a, kind="email", value="zhang@example.cn"),
                         Identity(contact_id=b, kind="email", value="bob@example.com")])
    i = Identity.__table__.c
    asked: list[tuple[str | uuid.UUID, str]] = [
        ("email", "bob@example.com"), ("phone", "+8613800138000"),
        ("email", "+8613800138000"), ("wechat_openid", "o-unknown")]
    many = asked + [("external_id", f"none-{n}") for n in range(PROBE_PAIRS)]
    for pairs in (asked, many):  # probed one by one, and joined
        stmt, params = rows_for_pairs(db.dialect, Identity.__table__, i.kind, i.value, pairs,
                                      [i.kind, i.value, i.contact_id])
        async with db.sessions() as session:
            rows = sorted(tuple(r) for r in await session.execute(stmt, params))
        assert rows == [("email", "bob@example.com", b), ("phone", "+8613800138000", a)]


async def test_postgresql_probes_the_index_of_a_table_grown_since_its_plan(
        db: Database) -> None:
    """A prepared statement's generic plan is made once, for the table as it was then; a
    plain join planned on a nearly empty table scans it whole ever after."""
    if db.dialect != "postgresql":
        return  # SQLite's planner probes the unique index whatever it knows
    (owner,) = await _contacts(db, ["統計過時"])
    i = Identity.__table__.c
    stmt, _ = rows_for_pairs(db.dialect, Identity.__table__, i.kind, i.value,
                             [("external_id", "x-5")], [i.kind, i.value, i.contact_id])
    sql = str(stmt.compile(db.engine.sync_engine))
    pairs = "'{external_id,external_id}', '{x-5,x-19999}'"
    async with db.sessions() as session:
        conn = await session.connection()
        driver: Any = (await conn.get_raw_connection()).driver_connection
        grow = ("INSERT INTO identities (id, contact_id, kind, value, verified, created_at) "
                "SELECT gen_random_uuid(), $1, 'external_id', 'x-' || n, false, now() "
                "FROM generate_series($2::int, $3::int) n")
        await driver.execute("SET plan_cache_mode = force_generic_plan")
        await driver.execute(grow, owner, 1, 2000)  # a young table: a first load begins
        await driver.execute("ANALYZE identities")
        await driver.execute(f"PREPARE probe AS {sql}")
        assert len(await driver.fetch(f"EXECUTE probe({pairs})")) == 1  # the plan is made
        await driver.execute(grow, owner, 2001, 20000)  # ten times that before autovacuum
        assert len(await driver.fetch(f"EXECUTE probe({pairs})")) == 2
        plan = "\n".join(r[0] for r in await driver.fetch(f"EXPLAIN EXECUTE probe({pairs})"))
        await driver.execute("DEALLOCATE probe")
        await driver.execute("RESET plan_cache_mode")
        await session.commit()
    assert "Index Scan" in plan and "Seq Scan on identities" not in plan, plan
