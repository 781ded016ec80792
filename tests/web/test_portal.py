"""The customer portal over real HTTP on SQLite and PostgreSQL: one-time codes (hashed,
expiring, limited), the portal cookie, own records only, no internal notes, uploads."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from omnidesk.kit.db import Database
from omnidesk.kit.time import utcnow
from omnidesk.models import Document, OutboxItem, PortalCode
from omnidesk.web.portal_auth import unseal_code
from tests.conftest import LiveServer

EN = {"Accept-Language": "en"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


async def request_code(web: httpx.AsyncClient, identity: str) -> httpx.Response:
    page = (await web.get("/portal/sign-in")).text
    return await web.post("/portal/sign-in", data={"identity": identity,
                                                   "csrf_token": csrf_of(page)})


def shown_code(page: str) -> str:
    found = re.search(r'id="dev-code">(\d{6})<', page)
    assert found, page
    return found.group(1)


async def sign_in(web: httpx.AsyncClient, identity: str) -> httpx.Response:
    r = await request_code(web, identity)
    assert r.status_code == 200, r.text
    return await web.post("/portal/sign-in/verify", data={
        "identity": identity, "code": shown_code(r.text), "csrf_token": csrf_of(r.text)},
        follow_redirects=False)


async def seed(client: httpx.AsyncClient) -> dict[str, Any]:
    inbox = (await client.post("/api/v1/inboxes", json={"channel": "api", "name": "客服"})).json()

    async def say(email: str, body: str, name: str) -> dict[str, Any]:
        r = await client.post(f"/api/v1/inboxes/{inbox['id']}/messages", json={
            "contact": {"email": email}, "body": body, "contact_name": name})
        data: dict[str, Any] = r.json()
        return data

    amy = await say("amy@x.cn", "宽带不通 <script>alert(1)</script>", "<b>Amy</b>")
    bob = await say("bob@x.cn", "Bob 的秘密问题", "Bob")
    conv = amy["conversation"]["id"]
    atts = []
    for name in ("报修单.txt", "note.txt"):
        up = await client.post("/api/v1/attachments", data={"conversation_id": conv},
                               files={"file": (name, name.encode(), "text/plain")})
        atts.append(up.json()["id"])
    await client.post(f"/api/v1/conversations/{conv}/messages", json={
        "body": "内部备注：客户欠费", "is_note": True, "attachment_ids": [atts[1]]})
    await client.post(f"/api/v1/conversations/{conv}/messages",
                      json={"body": "已为您报修", "attachment_ids": [atts[0]]})
    case = (await client.post("/api/v1/cases", json={
        "contact_id": amy["contact_id"], "type": "qualification",
        "subject": "企业资质审核"})).json()
    other = (await client.post("/api/v1/cases", json={
        "contact_id": bob["contact_id"], "type": "complaint", "subject": "Bob 的投诉"})).json()
    return {"amy": amy, "bob": bob, "case": case, "other_case": other, "atts": atts}


@pytest.fixture
def show_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIDESK_PORTAL_SHOW_CODE", "1")


async def test_sign_in_and_see_only_own_records(server: LiveServer, client: httpx.AsyncClient,
                                                db: Database, show_code: None) -> None:
    data = await seed(client)
    async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=EN) as web:
        r = await web.get("/portal", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/portal/sign-in"
        r = await sign_in(web, "AMY@x.cn")
        assert r.status_code == 303 and r.headers["location"] == "/portal"
        cookie = next(v for k, v in r.headers.multi_items()
                      if k == "set-cookie" and v.startswith("omnidesk_portal="))
        assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
        assert "Path=/portal" in cookie and "omnidesk_session" not in cookie

        home = (await web.get("/portal")).text
        assert "企业资质审核" in home and "Bob" not in home
        assert "&lt;b&gt;Amy&lt;/b&gt;" in home and "<b>Amy</b>" not in home
        conv = (await web.get(f"/portal/conversations/{data['amy']['conversation']['id']}")).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in conv and "<script>alert" not in conv
        assert "已为您报修" in conv and "内部备注" not in conv and "客户欠费" not in conv
        shared, noted = data["atts"]
        assert f"/portal/attachments/{shared}" in conv and "note.txt" not in conv
        got = await web.get(f"/portal/attachments/{shared}")
        assert got.status_code == 200 and got.content == "报修单.txt".encode()
        assert (await web.get(f"/portal/attachments/{noted}")).status_code == 404
        for url in (f"/portal/conversations/{data['bob']['conversation']['id']}",
                    f"/portal/cases/{data['other_case']['id']}"):
            assert (await web.get(url)).status_code == 404, url
        # the staff console does not accept the portal cookie
        r = await web.get("/agent", follow_redirects=False)
        assert r.status_code == 303 and "/agent/login" in r.headers["location"]
        r = await web.post("/portal/sign-out", data={}, follow_redirects=False)
        assert r.status_code == 403  # no CSRF token: still signed in
        assert (await web.get("/portal", follow_redirects=False)).status_code == 200
        r = await web.post("/portal/sign-out", data={"csrf_token": csrf_of(home)},
                           follow_redirects=False)
        assert r.status_code == 303
        assert (await web.get("/portal", follow_redirects=False)).status_code == 303


async def test_upload_a_document_for_a_qualification_case(
    server: LiveServer, client: httpx.AsyncClient, db: Database, show_code: None
) -> None:
    data = await seed(client)
    case_id = data["case"]["id"]
    async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=EN) as web:
        await sign_in(web, "amy@x.cn")
        page = (await web.get(f"/portal/cases/{case_id}")).text
        assert 'enctype="multipart/form-data"' in page
        files = {"file": ("营业执照.pdf", PDF, "application/pdf")}
        r = await web.post(f"/portal/cases/{case_id}/documents", data={"kind": "business_licence"},
                           files=files, follow_redirects=False)
        assert r.status_code == 403  # no CSRF token
        r = await web.post(f"/portal/cases/{case_id}/documents", files=files,
                           data={"kind": "business_licence", "csrf_token": csrf_of(page)},
                           follow_redirects=False)
        assert r.status_code == 303, r.text
        done = (await web.get(r.headers["location"])).text
        assert "营业执照.pdf" in done
        r = await web.post(f"/portal/cases/{case_id}/documents",
                           files={"file": ("x.exe", b"MZ\x90\x00" * 100, "application/pdf")},
                           data={"kind": "other", "csrf_token": csrf_of(page)})
        assert r.status_code == 415 and 'role="alert"' in r.text
        r = await web.post(f"/portal/cases/{data['other_case']['id']}/documents", files=files,
                           data={"kind": "other", "csrf_token": csrf_of(page)})
        assert r.status_code == 404
    async with db.transaction() as s:
        docs = list(await s.scalars(select(Document)))
    assert len(docs) == 1
    assert docs[0].uploaded_by == f"customer:{data['amy']['contact_id']}"


async def test_codes_are_hashed_limited_and_sent_sealed(
    server: LiveServer, client: httpx.AsyncClient, db: Database, show_code: None,
    settings: Any,
) -> None:
    await client.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook",
                                                 "event_types": ["portal.code_requested"]})
    await seed(client)
    async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=EN) as web:
        r = await request_code(web, "nobody@x.cn")
        assert r.status_code == 404 and "dev-code" not in r.text
        r = await request_code(web, "not an identity")
        assert r.status_code == 422
        r = await request_code(web, "amy@x.cn")
        code = shown_code(r.text)
        again = await request_code(web, "amy@x.cn")
        assert again.status_code == 429  # one a minute
        async with db.transaction() as s:
            row = await s.scalar(select(PortalCode))
            items = list(await s.scalars(select(OutboxItem).where(
                OutboxItem.event == "portal.code_requested")))
        assert row is not None and code not in row.code_hash and len(row.code_hash) == 64
        assert items and unseal_code(settings.secret_key, items[0].payload["sealed_code"]) == code
        assert code not in str(items[0].payload)
        assert items[0].payload["identity"] == {"kind": "email", "value": "amy@x.cn"}

        csrf = csrf_of(r.text)
        wrong = "000000" if code != "000000" else "111111"
        for attempt in range(5):
            r = await web.post("/portal/sign-in/verify", data={
                "identity": "amy@x.cn", "code": wrong, "csrf_token": csrf})
            assert r.status_code == 400
            assert ("Too many wrong codes" if attempt == 4 else "not right") in r.text
        r = await web.post("/portal/sign-in/verify", data={
            "identity": "amy@x.cn", "code": code, "csrf_token": csrf}, follow_redirects=False)
        assert r.status_code == 429  # five attempts used: even the right code is refused
        assert "omnidesk_portal=" not in r.headers.get("set-cookie", "")

        async with db.transaction() as s:  # a fresh code, then let it expire
            await s.execute(update(PortalCode).values(created_at=utcnow() - timedelta(hours=2)))
        r = await request_code(web, "amy@x.cn")
        code = shown_code(r.text)
        async with db.transaction() as s:
            await s.execute(update(PortalCode).where(PortalCode.used_at.is_(None)).values(
                expires_at=utcnow() - timedelta(seconds=1)))
        r = await web.post("/portal/sign-in/verify", data={
            "identity": "amy@x.cn", "code": code, "csrf_token": csrf})
        assert r.status_code == 400 and "has expired" in r.text

        r = await web.post("/portal/sign-in/verify", data={
            "identity": "amy@x.cn", "code": code, "csrf_token": "forged"})
        assert r.status_code == 403


async def test_rate_limit_per_hour_and_no_code_shown_by_default(
    server: LiveServer, client: httpx.AsyncClient, db: Database
) -> None:
    await seed(client)
    async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=EN) as web:
        for _ in range(5):
            r = await request_code(web, "amy@x.cn")
            assert r.status_code == 200 and "dev-code" not in r.text
            async with db.transaction() as s:  # step past the one-a-minute limit
                for row in await s.scalars(select(PortalCode)):
                    row.created_at -= timedelta(minutes=2)
        assert (await request_code(web, "amy@x.cn")).status_code == 429
        assert (await request_code(web, "bob@x.cn")).status_code == 200  # per identity


async def test_customer_opens_a_case_from_the_portal(
    server: LiveServer, client: httpx.AsyncClient, show_code: None
) -> None:
    await seed(client)
    async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=EN) as web:
        await sign_in(web, "amy@x.cn")
        home = (await web.get("/portal")).text
        r = await web.post("/portal/cases", data={"type": "complaint", "title": "网速太慢",
                                                  "description": "晚上只有 2M"},
                           follow_redirects=False)
        assert r.status_code == 403  # no CSRF token
        r = await web.post("/portal/cases", data={
            "type": "complaint", "title": "网速太慢", "description": "晚上只有 2M",
            "csrf_token": csrf_of(home)}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/portal/cases/")
        r = await web.post("/portal/cases", data={"type": "wish", "title": "x",
                                                  "csrf_token": csrf_of(home)})
        assert r.status_code == 422
    cases = (await client.get("/api/v1/cases", params={"type": "complaint"})).json()["items"]
    mine = [(c["title"], c["source"], c["channel"]) for c in cases if c["source"] == "customer"]
    assert mine == [("网速太慢", "customer", "portal")]
