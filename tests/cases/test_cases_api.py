"""Cases as closed loops, with work orders for back-office departments."""

from __future__ import annotations

from typing import Any

import httpx

from omnidesk.kit.db import Database
from tests.conftest import make_user, token_for


async def conversation(client: httpx.AsyncClient) -> dict[str, Any]:
    inbox = (await client.post("/api/v1/inboxes", json={"channel": "api", "name": "A"})).json()
    r = await client.post(f"/api/v1/inboxes/{inbox['id']}/messages", json={
        "contact": {"phone": "13800138000"}, "body": "宽带断网三天了，我要投诉"})
    return dict(r.json())


async def move(client: httpx.AsyncClient, case_id: str, to: str, **extra: Any) -> httpx.Response:
    return await client.post(f"/api/v1/cases/{case_id}/transitions", json={"to": to, **extra})


async def test_closed_loop_from_conversation_with_work_order(
    client: httpx.AsyncClient, db: Database, anon: httpx.AsyncClient
) -> None:
    conv = await conversation(client)
    r = await client.post(f"/api/v1/conversations/{conv['conversation']['id']}/case",
                          json={"type": "complaint", "priority": "high"})
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["stage"] == "discovery" and case["links"][0]["kind"] == "conversation"
    cid = case["id"]
    r = await move(client, cid, "solution")  # skipping needs a recorded reason
    assert r.status_code == 409 and r.json()["rule"] == "skip-needs-reason"
    assert (await move(client, cid, "confirmed")).status_code == 200
    assert (await move(client, cid, "solution")).status_code == 200
    assert (await move(client, cid, "execution")).status_code == 200
    # back office: the network department works a work order
    tech = await make_user(db, "tech@omnidesk.test", "backoffice")
    team = (await client.post("/api/v1/teams", json={"name": "网络部", "members": [tech]})).json()
    dept = (await client.post("/api/v1/departments",
                              json={"name": "network", "team_id": team["id"]})).json()
    r = await client.post(f"/api/v1/cases/{cid}/work-orders", json={
        "department_id": dept["id"], "instructions": "检查 OLT 端口并派单上门",
        "due_at": "2026-11-26T10:00:00+08:00"})
    assert r.status_code == 201
    order = r.json()
    r = await move(client, cid, "follow_up")
    assert r.status_code == 409 and "work order" in r.json()["detail"]
    h_tech = {"Authorization": f"Bearer {await token_for(db, 'backoffice', user_id=tech)}"}
    queue = (await anon.get(f"/api/v1/departments/{dept['id']}/work-orders",
                            headers=h_tech)).json()
    assert [o["id"] for o in queue] == [order["id"]]
    url = f"/api/v1/work-orders/{order['id']}/actions"
    assert (await anon.post(url, json={"action": "accept"}, headers=h_tech)).json()[
        "assignee_id"] == tech
    r = await anon.post(url, json={"action": "done"}, headers=h_tech)
    assert r.status_code == 422  # a result is required
    r = await anon.post(f"/api/v1/work-orders/{order['id']}/complete",
                        json={"result": "端口更换，已恢复"}, headers=h_tech)
    assert r.json()["status"] == "done"
    assert (await move(client, cid, "follow_up")).status_code == 200
    r = await move(client, cid, "closed")
    assert r.status_code == 409 and r.json()["rule"] == "close-needs-follow-up"
    r = await move(client, cid, "closed", follow_up={"outcome": "satisfaction",
                                                      "satisfaction": 5})
    assert r.status_code == 200 and r.json()["status"] == "closed"
    # reopening is possible, needs a reason, and is counted
    assert (await move(client, cid, "solution")).status_code == 409
    r = await move(client, cid, "solution", reason="断网复发")
    assert r.json()["reopen_count"] == 1 and r.json()["status"] == "open"
    audit = (await client.get(f"/api/v1/cases/{cid}/audit")).json()
    actions = [a["action"] for a in audit]
    assert actions[0] == "created" and "reopened" in actions and "done" in actions
    timeline = (await client.get(f"/api/v1/contacts/{case['contact_id']}/timeline",
                                 params={"kind": "case"})).json()["items"]
    assert {"case.created", "case.stage_changed", "case.reopened",
            "work_order.done"} <= {t["type"] for t in timeline}


async def test_case_rules_and_access(client: httpx.AsyncClient, db: Database,
                                     anon: httpx.AsyncClient) -> None:
    conv = await conversation(client)
    contact_id = conv["contact_id"]
    r = await client.post("/api/v1/cases", json={"contact_id": contact_id, "type": "wish",
                                                 "subject": "x"})
    assert r.status_code == 422
    r = await client.post("/api/v1/cases", json={"contact_id": contact_id,
                                                 "type": "fault_report", "title": "断网"})
    assert r.json()["title"] == "断网" and r.json()["sla"] == []
    cid = r.json()["id"]
    r = await move(client, cid, "execution", reason="known outage, fix in progress")
    assert r.status_code == 200
    assert r.json()["transitions"][-1]["skipped"] == ["confirmed", "solution"]
    assert (await move(client, cid, "execution")).status_code == 409
    r = await move(client, cid, "closed", reason="skip",
                   follow_up={"outcome": "failed_contact"})
    assert r.status_code == 409  # attempts must be documented
    r = await move(client, cid, "closed", reason="skip", follow_up={
        "outcome": "failed_contact", "attempts": ["2026-11-24T09:00:00+08:00"]})
    assert r.status_code == 200
    other = await make_user(db, "x@omnidesk.test", "backoffice")
    h = {"Authorization": f"Bearer {await token_for(db, 'backoffice', user_id=other)}"}
    dept = (await client.post("/api/v1/departments", json={"name": "billing"})).json()
    assert (await anon.get(f"/api/v1/departments/{dept['id']}/work-orders",
                           headers=h)).status_code == 403
    assert (await anon.post("/api/v1/cases", headers=h, json={
        "contact_id": contact_id, "type": "inquiry", "subject": "x"})).status_code == 403
    listed = (await client.get("/api/v1/cases", params={"contact_id": contact_id})).json()
    assert len(listed["items"]) == 1
