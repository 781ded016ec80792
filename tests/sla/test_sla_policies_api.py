"""SLA policies on real cases and conversations: clocks start, pause, stop and breach."""

from __future__ import annotations

from datetime import timedelta

import httpx

from omnidesk.kit.db import Database
from omnidesk.kit.time import utcnow
from omnidesk.sla.scan import run_sla_scan
from tests.cases.test_cases_api import conversation
from tests.conftest import make_user

ALWAYS = {"timezone": "Asia/Shanghai", "weekly": {
    d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}


async def policies(client: httpx.AsyncClient) -> None:
    r = await client.put("/api/v1/sla/calendars/7x24", json={"definition": ALWAYS})
    assert r.status_code == 200, r.text
    r = await client.put("/api/v1/sla/calendars/bad", json={"definition": {
        "timezone": "Mars/Olympus"}})
    assert r.status_code == 422
    r = await client.post("/api/v1/sla/policies", json={
        "name": "complaints", "position": 1, "conditions": {"case_types": ["complaint"]},
        "targets": {"resolution": 240, "stages": {"confirmed": 30}}, "calendar": "7x24"})
    assert r.status_code == 201, r.text
    r = await client.post("/api/v1/sla/policies", json={
        "name": "chat", "position": 2, "conditions": {"applies_to": ["conversation"]},
        "targets": {"first_response": 5, "next_response": 10, "resolution": 120},
        "calendar": "7x24"})
    assert r.status_code == 201
    r = await client.post("/api/v1/sla/policies", json={
        "name": "x", "targets": {"lunch": 5}})
    assert r.status_code == 422
    r = await client.post("/api/v1/sla/policies", json={
        "name": "x", "targets": {"resolution": 60, "stages": {"confirmed": 90}}})
    assert r.status_code == 422 and "after resolution" in r.json()["detail"]
    r = await client.post("/api/v1/sla/policies", json={
        "name": "x", "targets": {"stages": {"confirmed": 90, "solution": 30}}})
    assert r.status_code == 422 and "before or with" in r.json()["detail"]


async def test_case_clocks_breach_and_escalate(client: httpx.AsyncClient, db: Database) -> None:
    await policies(client)
    lead = await make_user(db, "lead@omnidesk.test", "supervisor")
    await client.put("/api/v1/escalation-levels/1", json={"owner_id": lead})
    conv = await conversation(client)
    case = (await client.post(f"/api/v1/conversations/{conv['conversation']['id']}/case",
                              json={"type": "complaint"})).json()
    clocks = {t["metric"]: t for t in (await client.get(
        f"/api/v1/sla/targets/{case['id']}")).json()}
    assert set(clocks) == {"resolution", "stage:confirmed"}
    assert clocks["resolution"]["state"] == "on_track"
    assert clocks["resolution"]["target_minutes"] == 240
    # confirming in time meets the milestone
    await client.post(f"/api/v1/cases/{case['id']}/transitions", json={"to": "confirmed"})
    clocks = {t["metric"]: t for t in (await client.get(
        f"/api/v1/sla/targets/{case['id']}")).json()}
    assert clocks["stage:confirmed"]["state"] == "met"
    # 4 hours later the resolution target is breached: event, escalation
    # (the conversation's own chat clocks run too: 5 min first response, 2 h resolution)
    report = await run_sla_scan(db, now=utcnow() + timedelta(hours=3, minutes=30))
    assert report.checked == 3 and report.breached == 2 and report.escalated == 0
    at_risk = {(t["subject_kind"], t["metric"]): t["state"]
               for t in (await client.get("/api/v1/sla/at-risk")).json()}
    assert at_risk == {("case", "resolution"): "at_risk",
                       ("conversation", "first_response"): "breached",
                       ("conversation", "resolution"): "breached"}
    report = await run_sla_scan(db, now=utcnow() + timedelta(hours=4, minutes=1))
    assert report.breached == 1 and report.escalated == 1
    detail = (await client.get(f"/api/v1/cases/{case['id']}")).json()
    assert detail["escalation_level"] == 1
    again = await run_sla_scan(db, now=utcnow() + timedelta(hours=5))
    assert again.breached == 0  # raised once


async def test_conversation_clocks_pause_while_waiting_on_customer(
    client: httpx.AsyncClient,
) -> None:
    await policies(client)
    conv = await conversation(client)
    cid = conv["conversation"]["id"]

    async def clocks() -> dict[str, dict[str, object]]:
        return {t["metric"]: t for t in (await client.get(f"/api/v1/sla/targets/{cid}")).json()}

    first = await clocks()
    assert set(first) == {"first_response", "resolution"}
    await client.post(f"/api/v1/conversations/{cid}/messages", json={"body": "在查"})
    now = await clocks()
    assert now["first_response"]["state"] == "met" and now["first_response"]["stopped_at"]
    await client.post(f"/api/v1/conversations/{cid}/status", json={"status": "pending"})
    assert (await clocks())["resolution"]["paused"] is True
    assert (await clocks())["resolution"]["state"] == "paused"
    inbox_id = conv["conversation"]["inbox_id"]
    await client.post(f"/api/v1/inboxes/{inbox_id}/messages", json={
        "contact": {"phone": "13800138000"}, "body": "还是不行"})
    now = await clocks()
    assert now["resolution"]["paused"] is False and now["resolution"]["state"] == "on_track"
    assert now["next_response"]["state"] == "on_track"
    await client.post(f"/api/v1/conversations/{cid}/status", json={"status": "resolved"})
    now = await clocks()
    assert now["resolution"]["state"] == "met"
    assert now["next_response"]["stopped_at"] is not None
