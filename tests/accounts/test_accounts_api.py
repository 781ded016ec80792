"""Enterprise accounts: hand-over, roll-up, bookings, reminders, green channel, documents."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from omnidesk.accounts.service import scan_bookings, scan_expiring_products
from omnidesk.kit.db import Database
from omnidesk.kit.time import utcnow
from omnidesk.models import Reminder
from tests.conftest import make_user, token_for
from tests.conversations.test_conversations_api import PNG


async def account(client: httpx.AsyncClient, db: Database) -> dict[str, Any]:
    am1 = await make_user(db, "am1@omnidesk.test", "account_manager", name="周经理")
    am2 = await make_user(db, "am2@omnidesk.test", "account_manager", name="吳經理")
    team = (await client.post("/api/v1/teams", json={"name": "政企客户服务组"})).json()
    org = (await client.post("/api/v1/organisations", json={
        "name": "华信科技有限公司", "tier": "strategic", "account_manager_id": am1,
        "account_team_id": team["id"]})).json()
    cio = (await client.post("/api/v1/contacts", json={
        "name": "林志明", "identities": [{"kind": "email", "value": "cio@huaxin.cn"}]})).json()
    await client.post(f"/api/v1/organisations/{org['id']}/members",
                      json={"contact_id": cio["id"], "role": "decision_maker"})
    return {"am1": am1, "am2": am2, "team": team, "org": org, "cio": cio}


async def test_green_channel_and_handover_moves_everything(
    client: httpx.AsyncClient, db: Database
) -> None:
    a = await account(client, db)
    inbox = (await client.post("/api/v1/inboxes", json={"channel": "api", "name": "A"})).json()
    r = await client.post(f"/api/v1/inboxes/{inbox['id']}/messages", json={
        "contact": {"email": "cio@huaxin.cn"}, "body": "专线中断，影响全公司"})
    conv = r.json()["conversation"]
    assert conv["team_id"] == a["team"]["id"] and conv["priority"] == 3
    case = (await client.post("/api/v1/cases", json={
        "contact_id": a["cio"]["id"], "type": "fault_report", "subject": "专线中断",
        "assignee_id": a["am1"]})).json()
    assert case["organisation_id"] == a["org"]["id"] and case["tier"] == "strategic"
    await client.post(f"/api/v1/organisations/{a['org']['id']}/notes",
                      json={"kind": "visit", "body": "季度拜访，讨论 5G 专网"})
    r = await client.post(f"/api/v1/organisations/{a['org']['id']}/handover",
                          json={"to_manager_id": a["am2"], "note": "调岗"})
    assert r.status_code == 201 and r.json()["moved"]["cases"] == 1
    acc = (await client.get(f"/api/v1/organisations/{a['org']['id']}/account")).json()
    assert acc["account_manager_id"] == a["am2"]
    assert acc["cases"][0]["assignee_id"] == a["am2"]
    assert acc["notes"][0]["body"] == "季度拜访，讨论 5G 专网"
    assert acc["handovers"][0]["from"] == a["am1"]
    assert {t["type"] for t in acc["timeline"]} >= {"conversation", "case.created"}
    r = await client.post(f"/api/v1/organisations/{a['org']['id']}/handover",
                          json={"to_manager_id": a["am2"]})
    assert r.status_code == 409


async def test_booking_a_visit_with_reminder(client: httpx.AsyncClient, db: Database) -> None:
    a = await account(client, db)
    h_am = {"Authorization": f"Bearer {await token_for(db, 'account_manager', user_id=a['am1'])}"}
    start = utcnow() + timedelta(hours=20)
    r = await client.post("/api/v1/slots", headers=h_am, json={
        "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat(),
        "kinds": ["visit"]})
    assert r.status_code == 201, r.text
    slot = r.json()
    r = await client.post("/api/v1/slots", headers=h_am, json={
        "starts_at": (start + timedelta(minutes=30)).isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat()})
    assert r.status_code == 409  # overlaps
    free = (await client.get(f"/api/v1/organisations/{a['org']['id']}/slots")).json()
    assert [s["id"] for s in free] == [slot["id"]]
    url = f"/api/v1/organisations/{a['org']['id']}/bookings"
    body = {"slot_id": slot["id"], "contact_id": a["cio"]["id"], "kind": "visit",
            "topic": "5G 专网方案"}
    assert (await client.post(url, json={**body, "kind": "call"})).status_code == 422
    r = await client.post(url, json=body)
    assert r.status_code == 201 and r.json()["status"] == "confirmed"
    assert (await client.post(url, json=body)).status_code == 409
    assert (await client.get(f"/api/v1/organisations/{a['org']['id']}/slots")).json() == []
    async with db.transaction() as session:
        assert await scan_bookings(session, timedelta(hours=24)) == 1
    async with db.transaction() as session:
        assert await scan_bookings(session, timedelta(hours=24)) == 0


async def test_expiry_reminders_once_per_lead_time(client: httpx.AsyncClient,
                                                   db: Database) -> None:
    contact = (await client.post("/api/v1/contacts", json={"name": "王小明"})).json()
    await client.post(f"/api/v1/contacts/{contact['id']}/products", json={
        "product_code": "5G-199", "name": "5G 套餐 199元",
        "expires_at": (utcnow() + timedelta(days=20)).isoformat()})
    await client.post(f"/api/v1/contacts/{contact['id']}/products", json={
        "product_code": "IPTV", "name": "IPTV", "expires_at":
            (utcnow() + timedelta(days=90)).isoformat()})
    async with db.transaction() as session:
        assert await scan_expiring_products(session, [30, 7, 1]) == 1
    async with db.transaction() as session:
        assert await scan_expiring_products(session, [30, 7, 1]) == 0
        later = utcnow() + timedelta(days=14)  # 6 days left: the 7-day reminder
        assert await scan_expiring_products(session, [30, 7, 1], now=later) == 1
    async with db.transaction() as session:
        keys = sorted(k.split(":")[-1] for k in await session.scalars(sa.select(Reminder.key)))
    assert keys == ["30", "7"]
    timeline = (await client.get(f"/api/v1/contacts/{contact['id']}/timeline")).json()["items"]
    assert [t["type"] for t in timeline].count("product.expiring") == 2


async def test_qualification_documents(client: httpx.AsyncClient, db: Database,
                                       anon: httpx.AsyncClient) -> None:
    inbox = (await client.post("/api/v1/inboxes", json={"channel": "api", "name": "A"})).json()
    r = await client.post(f"/api/v1/inboxes/{inbox['id']}/messages", json={
        "contact": {"email": "boss@shop.cn"}, "body": "我要开通企业宽带"})
    conv_id = r.json()["conversation"]["id"]
    case = (await client.post(f"/api/v1/conversations/{conv_id}/case",
                              json={"type": "qualification"})).json()
    url = f"/api/v1/cases/{case['id']}/documents"
    r = await client.post(url, data={"kind": "business_licence"},
                          files={"file": ("licence.png", PNG, "image/png")})
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["content_type"] == "image/png" and doc["status"] == "pending"
    exe = b"MZ\x90\x00" + b"\x00" * 64
    r = await client.post(url, data={"kind": "business_licence"},
                          files={"file": ("x.pdf", exe, "application/pdf")})
    assert r.status_code == 415
    r = await client.post(url, data={"kind": "selfie"},
                          files={"file": ("a.png", PNG, "image/png")})
    assert r.status_code == 422
    agent = {"Authorization": f"Bearer {await token_for(db, 'agent')}"}
    assert (await anon.get(f"/api/v1/documents/{doc['id']}/file",
                           headers=agent)).status_code == 403
    reviewer_id = await make_user(db, "rev@omnidesk.test", "backoffice")
    rev = {"Authorization": f"Bearer {await token_for(db, 'backoffice', user_id=reviewer_id)}"}
    got = await anon.get(f"/api/v1/documents/{doc['id']}/file", headers=rev)
    assert got.status_code == 200 and got.content == PNG
    review = f"/api/v1/documents/{doc['id']}/review"
    assert (await anon.post(review, json={"decision": "rejected"}, headers=rev)
            ).status_code == 422
    r = await anon.post(review, json={"decision": "rejected", "reason": "照片模糊"},
                        headers=rev)
    assert r.json()["status"] == "rejected"
    assert (await anon.post(review, json={"decision": "approved"}, headers=rev)
            ).status_code == 409
    messages = (await client.get(f"/api/v1/conversations/{conv_id}/messages")).json()["items"]
    assert messages[-1]["sender_type"] == "system" and "照片模糊" in messages[-1]["body"]
    other = (await client.post("/api/v1/cases", json={
        "contact_id": case["contact_id"], "type": "inquiry", "subject": "x"})).json()
    r = await client.post(f"/api/v1/cases/{other['id']}/documents",
                          data={"kind": "id_card"}, files={"file": ("a.png", PNG, "image/png")})
    assert r.status_code == 409
