"""A failure that repeats opens a case by itself (through the outbox, after commit)."""

from __future__ import annotations

import asyncio

import httpx


async def test_two_failed_payments_in_a_week_open_one_case(client: httpx.AsyncClient) -> None:
    def failed(i: int, day: int) -> dict[str, object]:
        return {"source": "payments", "id": f"p{i}", "type": "payment.failed",
                "occurred_at": f"2026-11-{day:02d}T03:00:00Z",
                "contact": {"phone": "13800138000"},
                "summary": f"Payment {i} failed", "data": {"reason": "insufficient balance"}}

    first = (await client.post("/api/v1/events", json=failed(1, 10))).json()
    contact = first["contact_id"]
    await client.post("/api/v1/events", json=failed(2, 20))  # 10 days later: not repeated
    await asyncio.sleep(1.0)
    assert (await client.get("/api/v1/cases", params={"contact_id": contact})).json()[
        "items"] == []
    await client.post("/api/v1/events", json=failed(3, 22))
    for _ in range(50):
        cases = (await client.get("/api/v1/cases", params={"contact_id": contact})).json()
        if cases["items"]:
            break
        await asyncio.sleep(0.1)
    assert len(cases["items"]) == 1
    case = cases["items"][0]
    assert case["source"] == "automation" and case["priority"] == "high"
    assert "insufficient balance" in case["title"]
    await client.post("/api/v1/events", json=failed(4, 23))  # still open: no second case
    await asyncio.sleep(1.0)
    cases = (await client.get("/api/v1/cases", params={"contact_id": contact})).json()
    assert len(cases["items"]) == 1
