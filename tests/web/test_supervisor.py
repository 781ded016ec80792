"""The supervisor's page and the reports API, over real HTTP on SQLite and PostgreSQL:
live queues, SLA at risk, escalations, and per-day figures cut in the right time zone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from omnidesk.kit.db import Database
from omnidesk.models import Case, Contact, Conversation, Inbox, Message
from omnidesk.web.reports import Period, check_period, offsets
from tests.conftest import LiveServer, make_user, token_for


async def signed_in(server: LiveServer, db: Database, role: str,
                    email: str | None = None) -> tuple[httpx.AsyncClient, str]:
    """A browser-like client with a staff session cookie, and its CSRF token."""
    email = email or f"{role}-{uuid.uuid4().hex[:6]}@omnidesk.test"
    await make_user(db, email, role, password="ui-pass-123", name=f"{role} 用户")
    web = httpx.AsyncClient(base_url=server.url, timeout=30)
    r = await web.post("/api/v1/auth/login", json={"email": email, "password": "ui-pass-123"})
    assert r.status_code == 200, r.text
    return web, r.json()["csrf_token"]


async def inbound(client: httpx.AsyncClient, inbox_id: str, email: str, body: str,
                  name: str | None = None) -> dict[str, Any]:
    r = await client.post(f"/api/v1/inboxes/{inbox_id}/messages", json={
        "contact": {"email": email}, "body": body, "contact_name": name})
    assert r.status_code in (200, 201), r.text
    data: dict[str, Any] = r.json()
    return data


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def seed_history(db: Database) -> None:
    """Conversations with fixed timestamps: days as seen in Asia/Shanghai (UTC+8)."""
    async with db.transaction() as s:
        inbox = Inbox(channel="web_chat", name="chat")
        mail = Inbox(channel="email", name="mail")
        contact = Contact(name="历史客户")
        s.add_all([inbox, mail, contact])
        await s.flush()

        def conv(box: Inbox, created: str, **kw: Any) -> Conversation:
            c = Conversation(inbox_id=box.id, contact_id=contact.id, channel=box.channel,
                             created_at=at(created), last_message_at=at(created), **kw)
            s.add(c)
            return c

        # 2026-03-01 17:30Z is 2026-03-02 01:30 in Shanghai
        a = conv(inbox, "2026-03-01T17:30:00", first_response_at=at("2026-03-01T17:40:00"),
                 status="resolved", resolved_at=at("2026-03-01T19:30:00"))
        b = conv(inbox, "2026-03-01T10:00:00", first_response_at=at("2026-03-01T10:02:00"))
        c = conv(mail, "2026-03-02T02:00:00", first_response_at=at("2026-03-02T02:30:00"))
        bot = conv(inbox, "2026-03-02T03:00:00", status="resolved",
                   resolved_at=at("2026-03-02T03:05:00"))
        await s.flush()
        for i, (cv, sender) in enumerate([(a, "contact"), (a, "agent"), (b, "agent"),
                                          (c, "agent"), (bot, "contact"), (bot, "bot")]):
            s.add(Message(conversation_id=cv.id, seq=i + 1, sender_type=sender, body="x",
                          created_at=cv.created_at + timedelta(minutes=1)))
        s.add_all([
            Case(number="C-1", contact_id=contact.id, type="inquiry", subject="s",
                 created_by="t", status="closed", closed_at=at("2026-03-02T09:00:00"),
                 follow_up={"outcome": "satisfaction", "satisfaction": 4}),
            Case(number="C-2", contact_id=contact.id, type="inquiry", subject="s",
                 created_by="t", status="closed", closed_at=at("2026-03-02T10:00:00"),
                 follow_up={"outcome": "satisfaction", "satisfaction": 5}),
            Case(number="C-3", contact_id=contact.id, type="inquiry", subject="s",
                 created_by="t", status="closed", closed_at=at("2026-03-02T10:00:00"),
                 follow_up={"outcome": "confirmed"}),
        ])


async def test_overview_counts_per_local_day(server: LiveServer, client: httpx.AsyncClient,
                                             db: Database) -> None:
    await seed_history(db)
    r = await client.get("/api/v1/reports/overview", params={
        "from": "2026-03-01", "to": "2026-03-03", "tz": "Asia/Shanghai"})
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["days"] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert rep["volume"]["channels"] == {"email": [0, 1, 0], "web_chat": [1, 2, 0]}
    assert rep["volume"]["total"] == 4
    frt = rep["first_response"]
    assert frt["median_seconds"] == [120.0, 1200.0, None]  # 10 min and 30 min on the 2nd
    assert frt["avg_seconds"][1] == 1200.0 and frt["overall"]["count"] == 3
    res = rep["resolution"]
    assert res["median_seconds"][1] == pytest.approx((7200 + 300) / 2)
    assert rep["deflection"]["self_service"] == [0, 1, 0]
    assert rep["deflection"]["handed_off"] == [1, 2, 0]
    assert rep["deflection"]["totals"]["rate"] == 0.25
    assert rep["satisfaction"]["average"] == [None, 4.5, None]
    assert rep["satisfaction"]["count"] == 2

    # the same instants seen from UTC fall on other days
    utc = (await client.get("/api/v1/reports/overview", params={
        "from": "2026-03-01", "to": "2026-03-03", "tz": "UTC"})).json()
    assert utc["volume"]["channels"]["web_chat"] == [2, 1, 0]


async def test_overview_validates_and_needs_a_supervisor(
    server: LiveServer, client: httpx.AsyncClient, db: Database
) -> None:
    url = "/api/v1/reports/overview"
    for params in ({"from": "2026-03-05", "to": "2026-03-01"}, {"from": "yesterday"},
                   {"from": "2024-01-01", "to": "2026-01-01"}, {"tz": "Mars/Olympus"}):
        r = await client.get(url, params=params)
        assert r.status_code == 422, (params, r.text)
    default = (await client.get(url)).json()
    assert len(default["days"]) == 30
    agent = await token_for(db, "agent")
    r = await client.get(url, headers={"Authorization": f"Bearer {agent}"})
    assert r.status_code == 403
    sup = await token_for(db, "supervisor")
    r = await client.get(url, headers={"Authorization": f"Bearer {sup}"})
    assert r.status_code == 200


def test_day_offsets_follow_daylight_saving() -> None:
    from zoneinfo import ZoneInfo

    p = check_period("2026-03-07", "2026-03-09", ZoneInfo("America/New_York"))
    pieces = offsets(p.zone, p.start_utc, p.end_utc)
    assert [o for _, o in pieces] == [-5 * 3600, -4 * 3600]
    assert pieces[1][0] == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 02:00 EST
    assert Period(p.start, p.end, ZoneInfo("Asia/Shanghai")).days()[0] == "2026-03-07"


async def test_daylight_saving_days_in_sql(server: LiveServer, client: httpx.AsyncClient,
                                           db: Database) -> None:
    async with db.transaction() as s:
        inbox, contact = Inbox(channel="sms", name="sms"), Contact(name="n")
        s.add_all([inbox, contact])
        await s.flush()
        # 04:30Z on 8 March is 23:30 on the 7th (EST); 04:30Z on 9 March is 00:30 (EDT)
        for created in ("2026-03-08T04:30:00", "2026-03-09T04:30:00"):
            s.add(Conversation(inbox_id=inbox.id, contact_id=contact.id, channel="sms",
                               created_at=at(created)))
    rep = (await client.get("/api/v1/reports/overview", params={
        "from": "2026-03-07", "to": "2026-03-09", "tz": "America/New_York"})).json()
    assert rep["volume"]["channels"]["sms"] == [1, 0, 1]


async def test_supervisor_page_shows_queues_risks_and_escalations(
    server: LiveServer, client: httpx.AsyncClient, db: Database
) -> None:
    inbox = (await client.post("/api/v1/inboxes", json={"channel": "api", "name": "A"})).json()
    waiting = await inbound(client, inbox["id"], "eve@x.cn", "<script>alert(1)</script>",
                            name="<img src=x onerror=alert(2)>")
    answered = await inbound(client, inbox["id"], "bob@x.cn", "hello", name="Bob 已回复")
    await client.post(f"/api/v1/conversations/{answered['conversation']['id']}/messages",
                      json={"body": "您好"})
    owner = await make_user(db, "lead@omnidesk.test", "supervisor", name="组长")
    case = (await client.post("/api/v1/cases", json={
        "contact_id": waiting["contact_id"], "type": "complaint", "subject": "投诉 <b>x</b>"})
    ).json()
    r = await client.post(f"/api/v1/cases/{case['id']}/escalate", json={
        "reason": "客户不满意", "owner_id": owner, "deadline_hours": 4})
    assert r.status_code == 201, r.text
    async with db.transaction() as s:
        from omnidesk.models import SlaPolicy, SlaTarget

        policy = SlaPolicy(name="p", targets={"first_response": 10})
        s.add(policy)
        await s.flush()
        s.add(SlaTarget(subject_kind="conversation",
                        subject_id=uuid.UUID(waiting["conversation"]["id"]),
                        metric="first_response", policy_id=policy.id, target_seconds=600,
                        started_at=datetime.now(UTC), state="breached",
                        due_at=datetime.now(UTC)))

    web, _ = await signed_in(server, db, "supervisor")
    try:
        page = (await web.get("/agent/supervisor?lang=en")).text
        queues = (await web.get("/agent/supervisor/queues?lang=en",
                                headers={"Accept-Language": "en"})).text
    finally:
        await web.aclose()
    assert "Live queues" in page and 'hx-trigger="every 10s"' in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "<script>alert(1)" not in page and "<b>x</b>" not in page
    assert f'/agent/conversations/{waiting["conversation"]["id"]}' in queues
    assert "Bob 已回复" not in queues  # answered by an agent: not waiting
    assert "Breached" in page and "客户不满意" not in page  # reason is not listed
    assert case["number"] in page and "组长" in page and "The owner's answer" in page
    assert 'id="chart-volume"' in page and "chart-4.5.1.umd.min.js" in page


async def test_supervisor_page_is_for_supervisors(server: LiveServer, db: Database) -> None:
    web, _ = await signed_in(server, db, "agent")
    try:
        assert (await web.get("/agent/supervisor")).status_code == 403
        assert (await web.get("/agent/supervisor/queues")).status_code == 403
        assert (await web.get("/api/v1/reports/overview")).status_code == 403
    finally:
        await web.aclose()
    async with httpx.AsyncClient(base_url=server.url) as anon:
        r = await anon.get("/agent/supervisor", follow_redirects=False)
        assert r.status_code == 303 and "/agent/login" in r.headers["location"]
