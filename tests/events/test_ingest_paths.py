"""The batch ingest's fast paths keep the feed's semantics: whole-list validation with
per-index errors, one lookup per batch, identities shared between contacts, a concurrent
writer (IntegrityError retry), the outbox event, and time-ordered identifiers."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from omnidesk.events import service
from omnidesk.kit.db import Database
from omnidesk.kit.ids import new_id
from omnidesk.models import Activity, Contact, Identity, OutboxItem

BASE = {"source": "orders", "type": "order.abandoned", "occurred_at": "2026-11-24T03:00:00Z",
        "summary": "Cart of 3 items abandoned", "data": {"cart": "C-1", "items": 3}}


def ev(i: int | str, **over: Any) -> dict[str, Any]:
    return {**BASE, "id": f"ord-{i}", "contact": {"phone": f"+86 139 0000 {int(i) % 10000:04d}"}
            if isinstance(i, int) else {"email": f"{i}@example.com"}, **over}


async def count(db: Database, model: Any) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements sent on ``db``'s engine meanwhile (executemany counts once)."""
    seen: list[str] = []

    def listen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sa_event.listen(db.engine.sync_engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        sa_event.remove(db.engine.sync_engine, "before_cursor_execute", listen)


async def test_a_large_clean_batch_is_stored_once_and_retried_as_duplicates(
    client: httpx.AsyncClient, db: Database
) -> None:
    batch = [ev(i) for i in range(1000)]
    r = await client.post("/api/v1/events", json={"events": batch})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["created"], body["duplicate"], body["error"]) == (1000, 0, 0)
    assert [x["index"] for x in body["results"]] == list(range(1000))
    first = {x["index"]: x for x in body["results"]}
    assert first[0]["outcome"] == "abandoned"
    assert await count(db, Activity) == 1000 and await count(db, Contact) == 1000
    assert await count(db, Identity) == 1000

    again = (await client.post("/api/v1/events", json={"events": batch})).json()
    assert (again["created"], again["duplicate"]) == (0, 1000)
    for x in again["results"]:  # the stored event's id, contact and outcome
        want = first[x["index"]]
        assert (x["id"], x["contact_id"], x["outcome"]) == (
            want["id"], want["contact_id"], want["outcome"])
    assert await count(db, Activity) == 1000 and await count(db, Contact) == 1000


async def test_one_bad_item_falls_back_to_item_by_item_with_errors_by_index(
    client: httpx.AsyncClient, db: Database
) -> None:
    batch = [ev(1), ev(2, occurred_at="yesterday"), ev(3), ev(4, source="no spaces"),
             ev(5, contact={}), ev(6, contact={"phone": "+86 139 0000 0001"}), ev(1),
             ev(7, contact_name=None, outcome=None, channel=None), None, []]
    r = await client.post("/api/v1/events", json=batch)
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert [x["status"] for x in res] == ["created", "error", "created", "error", "error",
                                          "created", "duplicate", "created", "error", "error"]
    assert res[1]["errors"][0]["field"] == "occurred_at"
    assert res[3]["errors"][0]["field"] == "source"
    assert res[4]["errors"][0]["field"] == "contact"
    assert res[8]["errors"] and res[9]["errors"]
    # the same number written another way is the same contact; a repeat is the first one
    assert res[5]["contact_id"] == res[0]["contact_id"]
    assert res[6]["id"] == res[0]["id"]
    assert await count(db, Activity) == 4 and await count(db, Contact) == 3


async def test_optional_fields_and_time_zones(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/events", json={
        "source": "app", "id": "e-1", "type": "checkin.failed",
        "occurred_at": "2026-11-24T11:00:00+08:00", "contact": {"app_user_id": "u-9"}})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["outcome"] == "failed"
    contact = (await client.get(f"/api/v1/contacts/{made['contact_id']}")).json()
    assert contact["name"] is None
    item = (await client.get(f"/api/v1/contacts/{made['contact_id']}/timeline")).json()[
        "items"][0]
    assert item["id"] == made["id"] and item["summary"] == "" and item["data"] == {}
    assert item["occurred_at"].startswith("2026-11-24T03:00:00")
    assert item["channel"] is None


async def test_known_identity_decides_the_contact_and_new_ones_join_it(
    client: httpx.AsyncClient, db: Database
) -> None:
    first = (await client.post("/api/v1/events", json=ev("ann"))).json()
    # phone unknown, e-mail known: the event goes to the e-mail's contact, which gets the phone
    both = {"phone": "+8613900009999", "email": "ann@example.com"}
    r = (await client.post("/api/v1/events", json={"events": [
        ev(10, contact=both), ev(11, contact={"phone": "13900009999"})]})).json()
    assert {x["contact_id"] for x in r["results"]} == {first["contact_id"]}
    assert await count(db, Contact) == 1 and await count(db, Identity) == 2
    contact = (await client.get(f"/api/v1/contacts/{first['contact_id']}")).json()
    assert {i["value"] for i in contact["identities"]} == {"ann@example.com",
                                                             "+8613900009999"}


async def test_a_batch_costs_the_same_statements_whatever_its_size(db: Database) -> None:
    async def run(batch: list[dict[str, Any]]) -> list[str]:
        with statements(db) as seen:
            async with db.transaction() as session:
                results = await service.ingest(session, batch, "CN")
        assert all(r.status == "created" for r in results)
        # the statements' kinds and tables written (a lookup of a few pairs probes the
        # index pair by pair on PostgreSQL, of many joins them: the same count)
        return [s.split()[0] + (" " + s.split()[2] if s.startswith("INSERT") else "")
                for s in seen if not s.startswith(("BEGIN", "SAVEPOINT", "RELEASE"))]

    one = await run([ev(1)])
    many = await run([ev(i) for i in range(100, 400)] + [ev("bob")])
    assert one == many, (one, many)
    assert len(many) <= 7  # stored events, identities, types, 3 inserts (+ outbox check)


async def test_a_concurrent_writer_is_retried_and_leaves_no_orphans(
    client: httpx.AsyncClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = (await client.post("/api/v1/events", json=ev(1))).json()
    lookups = 0
    real = service._existing_keys

    async def blind_once(session: Any, keys: set[tuple[str, str]]) -> Any:
        nonlocal lookups
        lookups += 1
        if lookups == 1:  # as if another request stored ev(1) just after our lookup
            return {}
        return await real(session, keys)

    monkeypatch.setattr(service, "_existing_keys", blind_once)
    r = await client.post("/api/v1/events", json={"events": [ev(1), ev("new")]})
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert lookups == 2
    assert [x["status"] for x in res] == ["duplicate", "created"]
    assert res[0]["id"] == stored["id"]
    # the first attempt's rows (the new contact, its identity) were rolled back
    assert await count(db, Activity) == 2 and await count(db, Contact) == 2
    assert await count(db, Identity) == 2


async def test_event_received_is_owed_only_when_someone_subscribes(
    client: httpx.AsyncClient, db: Database
) -> None:
    await client.post("/api/v1/events", json={"events": [ev(1), ev(2)]})
    async with db.transaction() as session:
        assert not (await session.scalars(select(OutboxItem))).all()
    r = await client.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook",
                                                    "event_types": ["event.received"]})
    assert r.status_code == 201
    made = (await client.post("/api/v1/events", json={"events": [ev(3), ev(3), ev(1)]})).json()
    async with db.transaction() as session:
        items = [i for i in (await session.scalars(select(OutboxItem))).all()
                 if i.event == "event.received"]
    assert len(items) == 1  # the new event only: not its repeat, not the stored one
    payload = items[0].payload["event"]
    assert payload["id"] == made["results"][0]["id"] and payload["external_id"] == "ord-3"
    assert payload["contact_id"] == made["results"][0]["contact_id"]
    assert payload["occurred_at"].startswith("2026-11-24T03:00:00")


def test_identifiers_are_uuid7_strictly_increasing_and_near_the_clock() -> None:
    before = time.time_ns() // 1_000_000
    ids = [new_id() for _ in range(20_000)]
    after = time.time_ns() // 1_000_000
    assert len(set(ids)) == len(ids) and ids == sorted(ids)
    assert all(isinstance(i, uuid.UUID) and i.version == 7 and i.variant == uuid.RFC_4122
               for i in ids)
    stamps = [i.int >> 80 for i in ids]
    assert before <= stamps[0] and stamps[-1] <= after + 50
