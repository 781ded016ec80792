"""The event feed: single, batch, exactly once, partial failure, signed webhooks."""

from __future__ import annotations

import time

import httpx
import orjson

from omnidesk.kit.db import Database
from omnidesk.kit.security import sign_webhook
from tests.conftest import token_for

PAYMENT = {
    "source": "payments", "id": "pay-20261124-0001", "type": "payment.failed",
    "occurred_at": "2026-11-24T03:00:00Z", "contact": {"phone": "+8613800138000"},
    "summary": "Payment of 199.00 CNY failed: insufficient balance",
    "data": {"amount": "199.00", "currency": "CNY", "reason": "insufficient balance",
             "order_id": "A-1001"},
}


def event(i: int, **over: object) -> dict[str, object]:
    return {**PAYMENT, "id": f"evt-{i}", **over}


async def test_single_event_creates_contact_and_retry_is_stored_once(
    client: httpx.AsyncClient,
) -> None:
    r = await client.post("/api/v1/events", json=PAYMENT)
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["outcome"] == "failed" and first["status"] == "created"
    r = await client.post("/api/v1/events", json=PAYMENT)
    assert r.status_code == 200 and r.json()["status"] == "duplicate"
    assert r.json()["id"] == first["id"]
    timeline = (await client.get(f"/api/v1/contacts/{first['contact_id']}/timeline")).json()
    assert len(timeline["items"]) == 1
    item = timeline["items"][0]
    assert item["data"]["reason"] == "insufficient balance" and item["kind"] == "event"


async def test_batch_stores_good_events_and_reports_bad_ones_by_index(
    client: httpx.AsyncClient,
) -> None:
    batch = [
        event(1),
        event(2, contact={"phone": "not a phone"}),
        event(3, occurred_at="2026-11-24T03:00:00"),  # naive time
        event(4, surprise=True),
        event(5, contact={"email": "ann@example.com"}, type="order.abandoned"),
        event(1),  # repeated inside the batch
        "not an object",
    ]
    r = await client.post("/api/v1/events", json={"events": batch})
    assert r.status_code == 200, r.text
    body = r.json()
    statuses = [x["status"] for x in body["results"]]
    assert statuses == ["created", "error", "error", "error", "created", "duplicate", "error"]
    assert body["created"] == 2 and body["error"] == 4 and body["duplicate"] == 1
    assert body["results"][1]["errors"][0]["field"] == "contact.phone"
    assert body["results"][3]["errors"][0]["field"] == "surprise"
    assert body["results"][4]["outcome"] == "abandoned"
    # the good ones were stored: a retry of the whole batch stores nothing new
    again = (await client.post("/api/v1/events", json=batch)).json()
    assert again["created"] == 0 and again["duplicate"] == 3


async def test_declared_event_type_outcome_wins(client: httpx.AsyncClient) -> None:
    r = await client.put("/api/v1/event-types/contract.expiring",
                         json={"type": "contract.expiring", "outcome": "failed"})
    assert r.status_code == 200
    r = await client.post("/api/v1/events", json=event(9, type="contract.expiring"))
    assert r.json()["outcome"] == "failed"
    r = await client.post("/api/v1/events", json=event(10, type="plan.viewed"))
    assert r.json()["outcome"] == "info"


async def test_batch_limits_and_malformed_bodies(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/events", json=[event(i) for i in range(1001)])
    assert r.status_code == 413 and "1000" in r.json()["detail"]
    r = await client.post("/api/v1/events", content=b'{"source": ',
                          headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "malformed JSON" in r.json()["detail"]
    r = await client.post("/api/v1/events", json=[])
    assert r.status_code == 400
    r = await client.post("/api/v1/events", json=event(1, contact={"phone": "123"}))
    assert r.status_code == 422 and "phone" in r.json()["detail"]
    r = await client.post("/api/v1/events", json=42)
    assert r.status_code == 400


async def test_events_need_a_token_with_the_right_role_and_scope(
    anon: httpx.AsyncClient, db: Database
) -> None:
    r = await anon.post("/api/v1/events", json=PAYMENT)
    assert r.status_code == 401
    agent = await token_for(db, "agent")
    r = await anon.post("/api/v1/events", json=PAYMENT,
                        headers={"Authorization": f"Bearer {agent}"})
    assert r.status_code == 403
    narrow = await token_for(db, "admin", scopes=["contacts:read"])
    r = await anon.post("/api/v1/events", json=PAYMENT,
                        headers={"Authorization": f"Bearer {narrow}"})
    assert r.status_code == 403 and "events:write" in r.json()["detail"]
    feed = await token_for(db, "admin", scopes=["events:write"])
    r = await anon.post("/api/v1/events", json=PAYMENT,
                        headers={"Authorization": f"Bearer {feed}"})
    assert r.status_code == 201
    r = await anon.get("/api/v1/contacts", headers={"Authorization": f"Bearer {feed}"})
    assert r.status_code == 403
    r = await anon.post("/api/v1/events", json=PAYMENT,
                        headers={"Authorization": "Bearer od_nope"})
    assert r.status_code == 401


async def test_signed_webhook_source(client: httpx.AsyncClient, anon: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/event-sources", json={"name": "billing"})
    assert r.status_code == 201
    secret = r.json()["secret"]
    body = orjson.dumps({k: v for k, v in PAYMENT.items() if k != "source"})
    ts = int(time.time())
    url = "/api/v1/events/webhook/billing"

    def headers(sig: str, stamp: int = ts) -> dict[str, str]:
        return {"Content-Type": "application/json", "X-Omnidesk-Timestamp": str(stamp),
                "X-Omnidesk-Signature": sig}

    r = await anon.post(url, content=body, headers=headers(sign_webhook(secret, ts, body)))
    assert r.status_code == 201, r.text
    r = await anon.post(url, content=body, headers=headers(sign_webhook("wrong", ts, body)))
    assert r.status_code == 401 and "does not match" in r.json()["detail"]
    old = ts - 3600
    r = await anon.post(url, content=body, headers=headers(sign_webhook(secret, old, body), old))
    assert r.status_code == 401 and "replay window" in r.json()["detail"]
    tampered = body.replace(b"199.00", b"1.00")
    r = await anon.post(url, content=tampered, headers=headers(sign_webhook(secret, ts, body)))
    assert r.status_code == 401
    r = await anon.post(url, content=body)
    assert r.status_code == 401 and "missing" in r.json()["detail"]
    r = await anon.post("/api/v1/events/webhook/nobody", content=body,
                        headers=headers(sign_webhook(secret, ts, body)))
    assert r.status_code == 404
