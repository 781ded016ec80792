"""Sign-in with cookies and CSRF, roles, scoped tokens and restricted team inboxes."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from omnidesk.kit.db import Database
from tests.conftest import LiveServer, make_user, token_for


async def test_cookie_login_csrf_and_logout(server: LiveServer, db: Database) -> None:
    await make_user(db, "agent@omnidesk.test", "agent", password="correct horse")
    async with httpx.AsyncClient(base_url=server.url) as web:
        r = await web.post("/api/v1/auth/login",
                           json={"email": "agent@omnidesk.test", "password": "wrong pass"})
        assert r.status_code == 401
        r = await web.post("/api/v1/auth/login",
                           json={"email": "AGENT@omnidesk.test", "password": "correct horse"})
        assert r.status_code == 200
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
        csrf = r.json()["csrf_token"]
        assert (await web.get("/api/v1/me")).json()["role"] == "agent"
        r = await web.post("/api/v1/contacts", json={"name": "x"})
        assert r.status_code == 403 and "CSRF" in r.json()["detail"]
        r = await web.post("/api/v1/contacts", json={"name": "x"},
                           headers={"X-CSRF-Token": csrf})
        assert r.status_code == 201
        r = await web.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 204
        assert (await web.get("/api/v1/me")).status_code == 401


async def test_passwords_are_hashed_with_argon2_and_tokens_hashed(db: Database) -> None:
    await make_user(db, "x@omnidesk.test", "agent", password="secret-password")
    plain = await token_for(db, "admin")
    async with db.transaction() as session:
        pw = await session.scalar(sa.text("SELECT password_hash FROM users"))
        hashes = list(await session.scalars(sa.text("SELECT token_hash FROM api_tokens")))
    assert pw.startswith("$argon2") and "secret-password" not in pw
    assert plain not in hashes and len(hashes[0]) == 64


async def test_roles_are_checked_on_every_endpoint(anon: httpx.AsyncClient, db: Database) -> None:
    backoffice = await token_for(db, "backoffice")
    agent = await token_for(db, "agent")
    h_back = {"Authorization": f"Bearer {backoffice}"}
    h_agent = {"Authorization": f"Bearer {agent}"}
    assert (await anon.get("/api/v1/contacts", headers=h_back)).status_code == 200
    assert (await anon.post("/api/v1/contacts", json={}, headers=h_back)).status_code == 403
    assert (await anon.post("/api/v1/contacts", json={}, headers=h_agent)).status_code == 201
    assert (await anon.post("/api/v1/inboxes", json={"channel": "api", "name": "x"},
                            headers=h_agent)).status_code == 403
    assert (await anon.post("/api/v1/tokens", json={"name": "x", "role": "admin"},
                            headers=h_agent)).status_code == 403
    assert (await anon.get("/api/v1/users", headers=h_agent)).status_code == 403
    assert (await anon.get("/api/v1/contacts")).status_code == 401
    r = await anon.get("/api/v1/contacts", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401


async def test_tokens_minted_by_api_and_revoked(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/tokens", json={"name": "crm", "role": "agent",
                                                  "scopes": ["contacts:read"]})
    assert r.status_code == 201
    token = r.json()["token"]
    h = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/contacts", headers=h)).status_code == 200
    r = await client.post("/api/v1/tokens", json={"name": "x", "role": "king"})
    assert r.status_code == 422
    r = await client.post("/api/v1/tokens", json={"name": "x", "role": "agent",
                                                  "scopes": ["everything"]})
    assert r.status_code == 422
    tokens = (await client.get("/api/v1/tokens")).json()
    tid = next(t["id"] for t in tokens if t["name"] == "crm")
    assert "token" not in tokens[0] and "token_hash" not in tokens[0]
    assert (await client.delete(f"/api/v1/tokens/{tid}")).status_code == 200
    assert (await client.get("/api/v1/contacts", headers=h)).status_code == 401


async def test_restricted_inbox_is_invisible_to_other_teams(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, db: Database
) -> None:
    ent_agent = await make_user(db, "ent@omnidesk.test", "agent")
    other_agent = await make_user(db, "front@omnidesk.test", "agent")
    team = (await client.post("/api/v1/teams", json={"name": "政企客户服务组",
                                                     "members": [ent_agent]})).json()
    inbox = (await client.post("/api/v1/inboxes", json={
        "channel": "api", "name": "政企专线", "team_id": team["id"], "restricted": True})).json()
    r = await client.post(f"/api/v1/inboxes/{inbox['id']}/messages", json={
        "contact": {"email": "cio@huaxin.cn"}, "body": "专线中断"})
    conv_id = r.json()["conversation"]["id"]
    h_ent = {"Authorization": f"Bearer {await token_for(db, 'agent', user_id=ent_agent)}"}
    h_other = {"Authorization": f"Bearer {await token_for(db, 'agent', user_id=other_agent)}"}
    assert (await anon.get(f"/api/v1/conversations/{conv_id}", headers=h_ent)).status_code == 200
    r = await anon.get(f"/api/v1/conversations/{conv_id}", headers=h_other)
    assert r.status_code == 404
    listed = (await anon.get("/api/v1/conversations", headers=h_other)).json()["items"]
    assert listed == []
    r = await anon.post(f"/api/v1/conversations/{conv_id}/messages", json={"body": "hi"},
                        headers=h_other)
    assert r.status_code == 404
    inboxes = (await anon.get("/api/v1/inboxes", headers=h_other)).json()
    assert inbox["id"] not in [i["id"] for i in inboxes]
