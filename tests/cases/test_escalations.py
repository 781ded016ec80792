"""The escalation chain: owners, deadlines, review before the customer sees it."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import sqlalchemy as sa

from omnidesk.cases.escalations import scan_deadlines
from omnidesk.kit.db import Database
from omnidesk.kit.time import utcnow
from omnidesk.models import Escalation
from tests.cases.test_cases_api import conversation
from tests.conftest import make_user, token_for


async def test_chain_answer_review_and_missed_deadline(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, db: Database
) -> None:
    lead = await make_user(db, "lead@omnidesk.test", "supervisor", name="组长")
    sup = await make_user(db, "sup@omnidesk.test", "supervisor", name="主管")
    exe = await make_user(db, "vp@omnidesk.test", "supervisor", name="副总")
    for level, owner, hours in ((1, lead, 4), (2, sup, 8)):
        r = await client.put(f"/api/v1/escalation-levels/{level}",
                             json={"owner_id": owner, "deadline_hours": hours})
        assert r.status_code == 200
    conv = await conversation(client)
    case = (await client.post(f"/api/v1/conversations/{conv['conversation']['id']}/case",
                              json={"type": "complaint"})).json()
    # flagging escalates to level 1 (team lead)
    r = await client.patch(f"/api/v1/cases/{case['id']}", json={"flagged": True})
    assert r.json()["escalation_level"] == 1
    first = (await client.get("/api/v1/escalations", params={"status": "open"})).json()[0]
    assert first["owner_id"] == lead and first["trigger"] == "flagged"
    # the deadline passes: the case goes up to the supervisor
    async with db.transaction() as session:
        assert await scan_deadlines(session, now=utcnow() + timedelta(hours=5)) == 1
    open_now = (await client.get("/api/v1/escalations", params={"status": "open"})).json()
    assert [(e["level"], e["owner_id"]) for e in open_now] == [(2, sup)]
    # executive escalation names its own owner and a deadline in hours
    r = await client.post(f"/api/v1/cases/{case['id']}/escalate", json={
        "reason": "媒体曝光风险", "owner_id": exe, "deadline_hours": 2})
    assert r.status_code == 201 and r.json()["level_name"] == "executive"
    esc = r.json()
    deadline = datetime.fromisoformat(esc["deadline_at"])
    assert abs((utcnow() + timedelta(hours=2) - deadline).total_seconds()) < 60
    h_exe = {"Authorization": f"Bearer {await token_for(db, 'supervisor', user_id=exe)}"}
    h_sup = {"Authorization": f"Bearer {await token_for(db, 'supervisor', user_id=sup)}"}
    h_lead = {"Authorization": f"Bearer {await token_for(db, 'supervisor', user_id=lead)}"}
    url = f"/api/v1/escalations/{esc['id']}"
    assert (await anon.post(f"{url}/answer", json={"answer": "x"}, headers=h_sup)
            ).status_code == 403
    r = await anon.post(f"{url}/answer", json={"answer": "我们将全额退款并补偿一个月月租。"},
                        headers=h_exe)
    assert r.json()["status"] == "answered"
    assert (await anon.post(f"{url}/review", json={"decision": "approved"}, headers=h_exe)
            ).status_code == 403  # not one's own answer
    r = await anon.post(f"{url}/review", json={"decision": "returned"}, headers=h_sup)
    assert r.status_code == 422
    r = await anon.post(f"{url}/review", json={"decision": "returned", "note": "补充时间"},
                        headers=h_sup)
    assert r.json()["status"] == "open"
    await anon.post(f"{url}/answer", json={"answer": "三个工作日内全额退款并补偿一个月月租。"},
                    headers=h_exe)
    r = await anon.post(f"{url}/review", json={"decision": "approved"}, headers=h_lead)
    assert r.json()["status"] == "approved" and len(r.json()["reviews"]) == 2
    messages = (await client.get(
        f"/api/v1/conversations/{conv['conversation']['id']}/messages")).json()["items"]
    assert messages[-1]["body"] == "三个工作日内全额退款并补偿一个月月租。"
    r = await client.post(f"/api/v1/cases/{case['id']}/escalate", json={"reason": "again"})
    assert r.status_code == 409  # already at the top
    audit = [a["action"] for a in (await client.get(f"/api/v1/cases/{case['id']}/audit")).json()]
    assert audit.count("escalated") == 3
    async with db.transaction() as session:
        statuses = sorted(await session.scalars(sa.select(Escalation.status)))
    assert statuses == ["approved", "missed", "superseded"]


async def test_escalation_without_a_configured_owner_is_a_clear_422(
    client: httpx.AsyncClient,
) -> None:
    conv = await conversation(client)
    case = (await client.post(f"/api/v1/conversations/{conv['conversation']['id']}/case",
                              json={"type": "complaint"})).json()
    r = await client.post(f"/api/v1/cases/{case['id']}/escalate", json={"reason": "x"})
    assert r.status_code == 422 and "owner" in r.json()["detail"]
    r = await client.patch(f"/api/v1/cases/{case['id']}", json={"flagged": True})
    assert r.status_code == 200 and r.json()["flagged"] is True
