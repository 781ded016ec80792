"""A failure that repeats opens a follow-up case by itself (the scheduled scan)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from omnidesk.automation.cases import scan_repeated_failures
from omnidesk.kit.db import Database

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


async def test_two_failed_payments_in_a_week_open_one_case(client: httpx.AsyncClient,
                                                           db: Database) -> None:
    def failed(i: int, day: int) -> dict[str, object]:
        return {"source": "payments", "id": f"p{i}", "type": "payment.failed",
                "occurred_at": f"2026-11-{day:02d}T03:00:00Z",
                "contact": {"phone": "13800138000"},
                "summary": f"Payment {i} failed", "data": {"reason": "insufficient balance"}}

    contact = (await client.post("/api/v1/events", json=failed(1, 10))).json()["contact_id"]
    await client.post("/api/v1/events", json=failed(2, 20))  # 10 days later: not repeated
    await client.post("/api/v1/events", json={**failed(9, 21), "contact": {
        "phone": "13900139000"}})  # someone else's single failure
    async with db.transaction() as session:
        assert await scan_repeated_failures(session, now=NOW) == []
    await client.post("/api/v1/events", json=failed(3, 22))
    async with db.transaction() as session:
        opened = await scan_repeated_failures(session, now=NOW)
    assert len(opened) == 1
    cases = (await client.get("/api/v1/cases", params={"contact_id": contact})).json()["items"]
    assert len(cases) == 1
    case = cases[0]
    assert case["source"] == "automation" and case["priority"] == "high"
    assert case["title"] == "2× payment.failed: insufficient balance"
    detail = (await client.get(f"/api/v1/cases/{case['id']}")).json()
    assert len([lk for lk in detail["links"] if lk["kind"] == "activity"]) == 2
    await client.post("/api/v1/events", json=failed(4, 23))  # the case is open: no second
    async with db.transaction() as session:
        assert await scan_repeated_failures(session, now=NOW) == []
