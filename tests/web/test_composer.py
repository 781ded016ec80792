"""The composer's canned responses (variables filled server-side, escaped for a textarea)
and attachments sent with a reply from the console form."""

from __future__ import annotations

import html

import httpx

from omnidesk.kit.db import Database
from omnidesk.models import CannedResponse
from tests.conftest import LiveServer
from tests.web.test_supervisor import signed_in


async def _conversation(client: httpx.AsyncClient, name: str) -> dict[str, str]:
    inbox = (await client.post("/api/v1/inboxes", json={"channel": "api", "name": "A"})).json()
    r = await client.post(f"/api/v1/inboxes/{inbox['id']}/messages", json={
        "contact": {"email": "amy@x.cn", "phone": "+8613800138000"}, "contact_name": name,
        "body": "你好"})
    return {"id": r.json()["conversation"]["id"], "inbox": inbox["id"]}


async def test_canned_response_filled_and_escaped(server: LiveServer, client: httpx.AsyncClient,
                                                  db: Database) -> None:
    evil = "</textarea><script>alert(1)</script>"
    c = await _conversation(client, evil)
    async with db.transaction() as s:
        row = CannedResponse(shortcut="hi", title="问候", body=(
            "您好 {{contact.name}}，我是{{ agent.name }}，回电 {{contact.phone}}。{{unknown}}"))
        s.add(row)
    web, _ = await signed_in(server, db, "agent", "mei@omnidesk.test")
    try:
        page = (await web.get(f"/agent/conversations/{c['id']}")).text
        assert 'id="canned-select"' in page and "/hi · 问候" in page
        assert 'id="reply-files"' in page and "/static/composer.js" in page
        r = await web.get(f"/agent/conversations/{c['id']}/canned", params={"response": row.id})
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
        assert "<script>" not in r.text and "</textarea>" not in r.text
        assert html.unescape(r.text) == (f"您好 {evil}，我是agent 用户，回电 +8613800138000。"
                                         "{{unknown}}")
        by_shortcut = await web.get(f"/agent/conversations/{c['id']}/canned",
                                    params={"shortcut": "/hi"})
        assert by_shortcut.text == r.text
        missing = await web.get(f"/agent/conversations/{c['id']}/canned",
                                params={"shortcut": "nope"})
        assert missing.status_code == 404
    finally:
        await web.aclose()


async def test_reply_with_attachments_from_the_composer(
    server: LiveServer, client: httpx.AsyncClient, db: Database
) -> None:
    c = await _conversation(client, "Amy")
    web, csrf = await signed_in(server, db, "agent")
    try:
        up = await web.post("/api/v1/attachments", headers={"X-CSRF-Token": csrf},
                            data={"conversation_id": c["id"]},
                            files={"file": ("报价.txt", "价格表".encode(), "text/plain")})
        assert up.status_code == 201, up.text
        att = up.json()["id"]
        r = await web.post(f"/agent/conversations/{c['id']}/reply",
                           headers={"X-CSRF-Token": csrf},
                           data={"body": "", "attachment_ids": [att], "client_id": "c-1"})
        assert r.status_code == 200, r.text
        assert f"/api/v1/attachments/{att}" in r.text and "报价.txt" in r.text
        msgs = (await client.get(f"/api/v1/conversations/{c['id']}/messages")).json()["items"]
        assert msgs[-1]["attachments"][0]["id"] == att
        bad = await web.post(f"/agent/conversations/{c['id']}/reply",
                             headers={"X-CSRF-Token": csrf},
                             data={"body": "x", "attachment_ids": ["not-an-id"]})
        assert bad.status_code == 422
        before = len(msgs)
        taken = await web.post(f"/agent/conversations/{c['id']}/reply",
                               headers={"X-CSRF-Token": csrf},
                               data={"body": "again", "attachment_ids": [att]})
        assert taken.status_code == 422  # already on another message: nothing is stored
        after = (await client.get(f"/api/v1/conversations/{c['id']}/messages")).json()
        assert len(after["items"]) == before
    finally:
        await web.aclose()
