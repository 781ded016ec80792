"""Console pages over real HTTP: sign-in redirects, CSRF on forms, suggestions, escaping."""

from __future__ import annotations

import httpx

from omnidesk.kit.db import Database
from tests.conftest import LiveServer, make_user


async def signed_in(server: LiveServer, db: Database) -> tuple[httpx.AsyncClient, str]:
    await make_user(db, "page@omnidesk.test", "agent", password="page-pass-1")
    web = httpx.AsyncClient(base_url=server.url)
    r = await web.post("/api/v1/auth/login",
                       json={"email": "page@omnidesk.test", "password": "page-pass-1"})
    return web, r.json()["csrf_token"]


async def test_pages_need_sign_in_and_forms_need_csrf(
    server: LiveServer, client: httpx.AsyncClient, db: Database
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as anon:
        r = await anon.get("/agent", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/agent/login")
        r = await anon.post("/agent/login", data={"email": "x", "password": "y",
                                                  "csrf_token": "forged"})
        assert r.status_code == 403
    inbox = (await client.post("/api/v1/inboxes", json={"channel": "api", "name": "A"})).json()
    r = await client.post(f"/api/v1/inboxes/{inbox['id']}/messages", json={
        "contact": {"email": "a@b.cn"}, "body": "宽带上不了网，光猫红灯"})
    conv_id = r.json()["conversation"]["id"]
    web, csrf = await signed_in(server, db)
    try:
        r = await web.post(f"/agent/conversations/{conv_id}/reply", data={"body": "hi"})
        assert r.status_code == 403
        r = await web.post(f"/agent/conversations/{conv_id}/reply", data={"body": "您好"},
                           headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200 and "您好" in r.text
    finally:
        await web.aclose()


async def test_conversation_page_suggests_articles_and_escapes(
    server: LiveServer, client: httpx.AsyncClient, db: Database
) -> None:
    await client.post("/api/v1/kb/articles", json={
        "title": "宽带断网怎么办", "locale": "zh-CN", "status": "published",
        "body": "重启光猫。", "example_questions": ["光猫红灯"]})
    inbox = (await client.post("/api/v1/inboxes", json={"channel": "api", "name": "A"})).json()
    r = await client.post(f"/api/v1/inboxes/{inbox['id']}/messages", json={
        "contact": {"email": "a@b.cn"}, "contact_name": "<b>Eve</b>",
        "body": "光貓紅燈了 <script>alert(1)</script>"})
    conv_id = r.json()["conversation"]["id"]
    web, _ = await signed_in(server, db)
    try:
        page = (await web.get(f"/agent/conversations/{conv_id}")).text
    finally:
        await web.aclose()
    assert "宽带断网怎么办" in page  # suggested for a traditional-character message
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "<b>Eve</b>" not in page and "&lt;b&gt;Eve&lt;/b&gt;" in page
