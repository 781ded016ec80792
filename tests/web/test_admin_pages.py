"""Administration pages over real HTTP: users and roles, teams, inboxes, SLA calendars and
policies, tokens (shown once), webhooks, canned responses; CSRF and roles enforced."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from omnidesk.kit.db import Database
from omnidesk.models import ApiToken, CannedResponse, Inbox, SlaCalendar, SlaPolicy, User
from tests.conftest import LiveServer
from tests.web.test_supervisor import signed_in


async def post(web: httpx.AsyncClient, csrf: str, url: str, data: dict[str, object],
               ) -> httpx.Response:
    return await web.post(url, data={**data, "csrf_token": csrf}, follow_redirects=False)


async def test_users_roles_and_teams(server: LiveServer, db: Database) -> None:
    web, csrf = await signed_in(server, db, "admin", "root@omnidesk.test")
    try:
        r = await post(web, csrf, "/agent/admin/users", {
            "email": "new@omnidesk.test", "name": "<i>新人</i>", "password": "long-enough-1",
            "role": "agent", "locale": "zh-TW"})
        assert r.status_code == 303
        r = await post(web, csrf, "/agent/admin/users", {
            "email": "new@omnidesk.test", "name": "again", "password": "long-enough-1",
            "role": "agent"})
        assert r.status_code == 409 and "exists" in r.text and 'value="again"' in r.text
        r = await post(web, csrf, "/agent/admin/users", {
            "email": "x@omnidesk.test", "name": "x", "password": "long-enough-1",
            "role": "wizard"})
        assert r.status_code == 422 and "unknown role" in r.text
        async with db.transaction() as s:
            user = await s.scalar(select(User).where(User.email == "new@omnidesk.test"))
            me = await s.scalar(select(User).where(User.email == "root@omnidesk.test"))
        assert user is not None and me is not None and user.locale == "zh-TW"
        assert (await post(web, csrf, f"/agent/admin/users/{user.id}/role",
                           {"role": "supervisor"})).status_code == 303
        assert (await post(web, csrf, f"/agent/admin/users/{user.id}/active",
                           {"active": "false"})).status_code == 303
        r = await post(web, csrf, f"/agent/admin/users/{me.id}/active", {"active": "false"})
        assert r.status_code == 422  # not yourself
        page = (await web.get("/agent/admin/users")).text
        assert "&lt;i&gt;新人&lt;/i&gt;" in page and "<i>新人</i>" not in page
        async with db.transaction() as s:
            changed = await s.get(User, user.id)
            assert changed is not None and changed.role == "supervisor" and not changed.is_active

        r = await web.post("/agent/admin/teams", data={
            "name": "宽带组", "members": [str(me.id)], "csrf_token": csrf},
            follow_redirects=False)
        assert r.status_code == 303
        page = (await web.get("/agent/admin/teams")).text
        assert "宽带组" in page and "admin 用户" in page
    finally:
        await web.aclose()


async def test_inboxes_tokens_and_webhooks(server: LiveServer, db: Database) -> None:
    web, csrf = await signed_in(server, db, "admin")
    try:
        r = await post(web, csrf, "/agent/admin/inboxes", {
            "name": "官网客服", "channel": "web_chat", "config": "{not json"})
        assert r.status_code == 422 and "not valid JSON" in r.text
        assert "{not json" in r.text  # what was typed is kept
        r = await post(web, csrf, "/agent/admin/inboxes", {
            "name": "VIP", "channel": "email", "config": "{}", "restricted": "true"})
        assert r.status_code == 422
        r = await post(web, csrf, "/agent/admin/inboxes", {
            "name": "官网客服", "channel": "web_chat", "config": '{"reopen_days": 2}'})
        assert r.status_code == 303
        async with db.transaction() as s:
            inbox = await s.scalar(select(Inbox).where(Inbox.name == "官网客服"))
        assert inbox is not None and inbox.config == {"reopen_days": 2}

        r = await web.post("/agent/admin/tokens", data={
            "name": "计费系统", "role": "admin", "scopes": ["events:write"], "csrf_token": csrf})
        assert r.status_code == 201 and r.headers["cache-control"] == "no-store"
        found = re.search(r'id="minted-token"[^>]*value="(od_[^"]+)"', r.text) or re.search(
            r'value="(od_[^"]+)"', r.text)
        assert found, r.text
        token = found.group(1)
        async with httpx.AsyncClient(base_url=server.url) as api:
            ok = await api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert ok.status_code == 200 and ok.json()["scopes"] == ["events:write"]
        listing = (await web.get("/agent/admin/tokens")).text
        assert "计费系统" in listing and token not in listing  # shown once only
        async with db.transaction() as s:
            row = await s.scalar(select(ApiToken).where(ApiToken.name == "计费系统"))
        assert row is not None
        assert (await post(web, csrf, f"/agent/admin/tokens/{row.id}/revoke", {})
                ).status_code == 303
        async with httpx.AsyncClient(base_url=server.url) as api:
            gone = await api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert gone.status_code == 401

        r = await post(web, csrf, "/agent/admin/webhooks", {"url": "ftp://nope"})
        assert r.status_code == 422
        r = await post(web, csrf, "/agent/admin/webhooks", {
            "url": "https://crm.example.com/hook", "event_types": "case.escalated, sla.breached"})
        assert r.status_code == 201 and "whsec_" in r.text
        assert "case.escalated, sla.breached" in (await web.get("/agent/admin/webhooks")).text
    finally:
        await web.aclose()


async def test_sla_calendars_and_policies(server: LiveServer, db: Database) -> None:
    web, csrf = await signed_in(server, db, "admin")
    try:
        bad = '{"timezone": "Asia/Shanghai", "weekly": {"mon": [["09:00", "12:00"], ' \
              '["11:00", "13:00"]]}}'
        r = await post(web, csrf, "/agent/admin/sla/calendars", {"name": "工作日",
                                                                 "definition": bad})
        assert r.status_code == 422 and "overlap" in r.text and 'id="calendar-error"' in r.text
        good = '{"timezone": "Asia/Shanghai", "weekly": {"mon": [["09:00", "18:00"]]}, ' \
               '"holidays": ["2026-10-01"]}'
        r = await post(web, csrf, "/agent/admin/sla/calendars", {"name": "工作日",
                                                                 "definition": good})
        assert r.status_code == 303
        edit = (await web.get("/agent/admin/sla", params={"calendar": "工作日"})).text
        assert "2026-10-01" in edit and 'value="工作日"' in edit

        policy = {"name": "VIP", "position": "10", "calendar": "工作日",
                  "conditions": '{"tiers": ["strategic"]}', "at_risk_fraction": "0.2",
                  "active": "true"}
        r = await post(web, csrf, "/agent/admin/sla/policies", {
            **policy, "targets": '{"first_response": 600, "resolution": 60}'})
        assert r.status_code == 422 and "due after resolution" in r.text
        r = await post(web, csrf, "/agent/admin/sla/policies", {
            **policy, "conditions": '{"colour": ["red"]}', "targets": '{"resolution": 60}'})
        assert r.status_code == 422 and "unknown conditions" in r.text
        r = await post(web, csrf, "/agent/admin/sla/policies", {
            **policy, "targets": '{"first_response": 30, "resolution": 480}'})
        assert r.status_code == 303
        async with db.transaction() as s:
            row = await s.scalar(select(SlaPolicy).where(SlaPolicy.name == "VIP"))
            cal = await s.scalar(select(SlaCalendar).where(SlaCalendar.name == "工作日"))
        assert row is not None and cal is not None and row.calendar_id == cal.id
        r = await post(web, csrf, "/agent/admin/sla/policies", {
            **policy, "id": str(row.id), "targets": '{"first_response": 15}'})
        assert r.status_code == 303
        async with db.transaction() as s:
            again = await s.get(SlaPolicy, row.id)
        assert again is not None and again.targets == {"first_response": 15}
    finally:
        await web.aclose()


async def test_canned_responses_crud(server: LiveServer, db: Database) -> None:
    web, csrf = await signed_in(server, db, "admin")
    try:
        form = {"shortcut": "/hello", "title": "问候", "locale": "zh-CN",
                "body": "您好 {{contact.name}}，我是{{agent.name}}。"}
        assert (await post(web, csrf, "/agent/admin/canned", form)).status_code == 303
        r = await post(web, csrf, "/agent/admin/canned", {**form, "title": "dup"})
        assert r.status_code == 409 and "/hello" in r.text
        r = await post(web, csrf, "/agent/admin/canned", {**form, "shortcut": "with space"})
        assert r.status_code == 422
        async with db.transaction() as s:
            row = await s.scalar(select(CannedResponse))
        assert row is not None and row.shortcut == "hello"
        r = await post(web, csrf, "/agent/admin/canned", {**form, "id": str(row.id),
                                                          "title": "问候（新）"})
        assert r.status_code == 303
        page = (await web.get("/agent/admin/canned")).text
        assert "问候（新）" in page and "{{contact.name}}" in page
        assert (await post(web, csrf, f"/agent/admin/canned/{row.id}/delete", {})
                ).status_code == 303
        async with db.transaction() as s:
            assert await s.scalar(select(CannedResponse)) is None
    finally:
        await web.aclose()


async def test_forms_need_csrf_and_pages_need_an_admin(server: LiveServer,
                                                       db: Database) -> None:
    web, _ = await signed_in(server, db, "admin")
    try:
        for url, data in (("/agent/admin/users", {"email": "a@b.cn", "name": "a",
                                                  "password": "12345678", "role": "agent"}),
                          ("/agent/admin/tokens", {"name": "t", "role": "admin"}),
                          ("/agent/admin/inboxes", {"name": "n", "channel": "sms"}),
                          ("/agent/admin/sla/calendars", {"name": "c", "definition": "{}"}),
                          ("/agent/admin/canned", {"shortcut": "a", "title": "a",
                                                   "body": "a"})):
            r = await web.post(url, data=data, follow_redirects=False)
            assert r.status_code == 403, url
    finally:
        await web.aclose()
    sup, _ = await signed_in(server, db, "supervisor")
    try:
        for section in ("users", "teams", "inboxes", "sla", "canned", "tokens", "webhooks"):
            assert (await sup.get(f"/agent/admin/{section}")).status_code == 403, section
        page = (await sup.get("/agent/supervisor")).text
        assert 'href="/agent/admin"' not in page and 'href="/agent/supervisor"' in page
    finally:
        await sup.aclose()
