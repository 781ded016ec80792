"""Conversations through the one path: api inbox, replies, notes, statuses, assignment,
attachments."""

from __future__ import annotations

from typing import Any

import httpx

from omnidesk.kit.db import Database
from tests.conftest import make_user

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")


async def api_inbox(client: httpx.AsyncClient) -> dict[str, Any]:
    r = await client.post("/api/v1/inboxes", json={"channel": "api", "name": "Partner API"})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_inbound_message_opens_conversation_and_retry_is_stored_once(
    client: httpx.AsyncClient,
) -> None:
    inbox = await api_inbox(client)
    msg = {"contact": {"app_user_id": "u-1001"}, "contact_name": "Grace Lin",
           "body": "帳單金額不對，多扣了 30 元", "external_id": "m-1"}
    r = await client.post(f"/api/v1/inboxes/{inbox['id']}/messages", json=msg)
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["conversation"]["status"] == "open" and first["message"]["seq"] == 1
    r = await client.post(f"/api/v1/inboxes/{inbox['id']}/messages", json=msg)
    assert r.status_code == 200 and r.json()["duplicate"] is True
    assert r.json()["message"]["id"] == first["message"]["id"]
    r = await client.post(f"/api/v1/inboxes/{inbox['id']}/messages",
                          json={**msg, "external_id": "m-2", "body": "還有，網路很慢"})
    assert r.json()["conversation"]["id"] == first["conversation"]["id"]
    assert r.json()["message"]["seq"] == 2
    messages = (await client.get(
        f"/api/v1/conversations/{first['conversation']['id']}/messages")).json()["items"]
    assert [m["body"] for m in messages] == ["帳單金額不對，多扣了 30 元", "還有，網路很慢"]


async def test_reply_note_status_cycle_and_timeline_grouping(client: httpx.AsyncClient) -> None:
    inbox = await api_inbox(client)
    r = await client.post(f"/api/v1/inboxes/{inbox['id']}/messages", json={
        "contact": {"phone": "13800138000"}, "body": "My broadband is down since last night"})
    conv = r.json()["conversation"]
    contact_id = r.json()["contact_id"]
    url = f"/api/v1/conversations/{conv['id']}"
    r = await client.post(f"{url}/messages", json={"body": "Checking the line now.",
                                                  "client_id": "c-1"})
    assert r.status_code == 201 and r.json()["sender_type"] == "agent"
    r = await client.post(f"{url}/messages", json={"body": "Checking the line now.",
                                                  "client_id": "c-1"})
    assert r.status_code == 200  # retried: stored once
    r = await client.post(f"{url}/messages", json={"body": "OLT alarm in zone 3",
                                                  "is_note": True},
                          headers={"Idempotency-Key": "note-1"})
    assert r.status_code == 201 and r.json()["is_note"] is True
    assert (await client.get(url)).json()["first_response_at"] is not None
    r = await client.post(f"{url}/status", json={"status": "resolved"})
    assert r.status_code == 200 and r.json()["resolved_at"]
    r = await client.post(f"{url}/status", json={"status": "snoozed"})
    assert r.status_code == 422
    r = await client.post(f"{url}/status", json={"status": "closed"})
    assert r.status_code == 422
    # a new customer message reopens the conversation
    r = await client.post(f"/api/v1/inboxes/{inbox['id']}/messages", json={
        "contact": {"phone": "+8613800138000"}, "body": "It is down again"})
    assert r.json()["conversation"]["id"] == conv["id"]
    assert r.json()["conversation"]["status"] == "open"
    timeline = (await client.get(f"/api/v1/contacts/{contact_id}/timeline")).json()["items"]
    assert len(timeline) == 1  # messages are grouped per conversation
    assert timeline[0]["summary"] == "It is down again"
    assert timeline[0]["data"]["message_count"] == 4


async def test_assignment_and_bad_assignee(client: httpx.AsyncClient, db: Database) -> None:
    agent_id = await make_user(db, "mei@omnidesk.test", "agent")
    inbox = await api_inbox(client)
    r = await client.post(f"/api/v1/inboxes/{inbox['id']}/messages", json={
        "contact": {"email": "a@b.cn"}, "body": "hi"})
    url = f"/api/v1/conversations/{r.json()['conversation']['id']}"
    r = await client.post(f"{url}/assign", json={"assignee_id": agent_id})
    assert r.status_code == 200 and r.json()["assignee_id"] == agent_id
    r = await client.post(f"{url}/assign",
                          json={"assignee_id": "0190b0a0-0000-7000-8000-000000000000"})
    assert r.status_code == 422
    listed = (await client.get("/api/v1/conversations",
                               params={"assignee_id": agent_id})).json()["items"]
    assert len(listed) == 1


async def test_attachments_are_sniffed_and_limited(
    client: httpx.AsyncClient, monkeypatch: Any
) -> None:
    inbox = await api_inbox(client)
    r = await client.post(f"/api/v1/inboxes/{inbox['id']}/messages", json={
        "contact": {"email": "a@b.cn"}, "body": "screenshot follows"})
    conv_id = r.json()["conversation"]["id"]
    r = await client.post("/api/v1/attachments", data={"conversation_id": conv_id},
                          files={"file": ("shot.png", PNG, "image/png")})
    assert r.status_code == 201, r.text
    att = r.json()
    assert att["content_type"] == "image/png"
    r = await client.post(f"/api/v1/conversations/{conv_id}/messages",
                          json={"body": "", "attachment_ids": [att["id"]]})
    assert r.status_code == 201
    got = await client.get(att["url"])
    assert got.status_code == 200 and got.content == PNG
    # an executable declared as an image is refused by its bytes
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 100
    r = await client.post("/api/v1/attachments", files={"file": ("cat.png", exe, "image/png")})
    assert r.status_code == 415
    big = b"a" * (10 * 1024 * 1024 + 1)
    r = await client.post("/api/v1/attachments", files={"file": ("big.txt", big, "text/plain")})
    assert r.status_code == 413
    r = await client.post("/api/v1/attachments", files={"file": ("empty.txt", b"", "text/plain")})
    assert r.status_code == 422


async def test_inbound_on_non_api_inbox_and_bad_payloads(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/inboxes", json={"channel": "web_chat", "name": "Web"})
    web = r.json()
    r = await client.post(f"/api/v1/inboxes/{web['id']}/messages",
                          json={"contact": {"visitor_id": "v1"}, "body": "x"})
    assert r.status_code == 400
    inbox = await api_inbox(client)
    r = await client.post(f"/api/v1/inboxes/{inbox['id']}/messages",
                          json={"contact": {"visitor_id": "v1"}, "body": "   "})
    assert r.status_code == 422
    r = await client.post("/api/v1/inboxes", json={"channel": "pigeon", "name": "x"})
    assert r.status_code == 422
    r = await client.post("/api/v1/inboxes", json={"channel": "email", "name": "x",
                                                   "restricted": True})
    assert r.status_code == 422
    r = await client.get("/api/v1/conversations/not-a-uuid")
    assert r.status_code == 422
