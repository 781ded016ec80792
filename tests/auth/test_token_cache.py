"""The in-process cache of API tokens: a revoked token is refused at once in this process
(whatever code path revoked it through the ORM) and within the cache's lifetime when
another process revoked it; team changes are seen at once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import update

from omnidesk.auth.service import TOKENS, Principal, do_create_team, do_revoke_token
from omnidesk.kit.db import Database
from omnidesk.kit.security import hash_token
from omnidesk.kit.time import utcnow
from omnidesk.models import ApiToken, TeamMember
from tests.conftest import LiveServer, make_user, token_for


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    fake = FakeClock()
    saved = TOKENS.clock
    TOKENS.clock = fake
    TOKENS.clear()
    yield fake
    TOKENS.clock = saved
    TOKENS.clear()


async def _token_id(db: Database, plain: str) -> uuid.UUID:
    async with db.transaction() as s:
        token = await s.scalar(
            ApiToken.__table__.select().where(ApiToken.token_hash == hash_token(plain)))
        assert token is not None
        return uuid.UUID(str(token))


async def test_revoked_in_this_process_is_refused_at_once(
        server: LiveServer, db: Database, clock: FakeClock) -> None:
    plain = await token_for(db, "agent", ["contacts:read"])
    h = {"Authorization": f"Bearer {plain}"}
    async with httpx.AsyncClient(base_url=server.url, headers=h) as c:
        assert (await c.get("/api/v1/contacts")).status_code == 200
        assert (await c.get("/api/v1/contacts")).status_code == 200  # from the cache
        async with db.transaction() as s:  # another Database object, same process
            await do_revoke_token(s, await _token_id(db, plain))
        r = await c.get("/api/v1/contacts")  # the clock has not moved: no expiry involved
        assert r.status_code == 401 and "revoked" in r.json()["detail"]


async def test_revoked_by_another_process_is_refused_after_the_ttl(
        server: LiveServer, db: Database, clock: FakeClock) -> None:
    plain = await token_for(db, "agent", ["contacts:read"])
    async with httpx.AsyncClient(base_url=server.url,
                                 headers={"Authorization": f"Bearer {plain}"}) as c:
        assert (await c.get("/api/v1/contacts")).status_code == 200
        # what another process does: a plain UPDATE this process's ORM never sees
        async with db.engine.begin() as conn:
            await conn.execute(update(ApiToken).where(
                ApiToken.token_hash == hash_token(plain)).values(revoked_at=utcnow()))
        assert (await c.get("/api/v1/contacts")).status_code == 200  # still cached
        clock.now += TOKENS.ttl
        assert (await c.get("/api/v1/contacts")).status_code == 401


async def test_team_change_is_seen_at_once(
        client: httpx.AsyncClient, server: LiveServer, db: Database, clock: FakeClock) -> None:
    agent = await make_user(db, "ent@omnidesk.test", "agent")
    async with db.transaction() as s:
        team = await do_create_team(s, "政企客户服务组", [])
    inbox = (await client.post("/api/v1/inboxes", json={
        "channel": "api", "name": "政企专线", "team_id": str(team.id),
        "restricted": True})).json()
    r = await client.post(f"/api/v1/inboxes/{inbox['id']}/messages", json={
        "contact": {"email": "cio@huaxin.cn"}, "body": "专线中断"})
    conv = r.json()["conversation"]["id"]
    plain = await token_for(db, "agent", user_id=agent)
    async with httpx.AsyncClient(base_url=server.url,
                                 headers={"Authorization": f"Bearer {plain}"}) as c:
        assert (await c.get(f"/api/v1/conversations/{conv}")).status_code == 404
        async with db.transaction() as s:
            s.add(TeamMember(team_id=team.id, user_id=uuid.UUID(agent)))
        assert (await c.get(f"/api/v1/conversations/{conv}")).status_code == 200


async def test_unknown_tokens_are_not_cached_and_a_stale_read_is_not_stored(
        anon: httpx.AsyncClient, clock: FakeClock) -> None:
    h = {"Authorization": "Bearer od_not-a-token"}
    assert (await anon.get("/api/v1/contacts", headers=h)).status_code == 401
    assert TOKENS.get((None, hash_token("od_not-a-token"))) is None
    principal = Principal(kind="token", id=uuid.uuid4(), name="t", role="agent")
    generation = TOKENS.generation
    TOKENS.clear()  # a token changed while this principal was being read
    TOKENS.put(("db", "hash"), principal, generation)
    assert TOKENS.get(("db", "hash")) is None
    TOKENS.put(("db", "hash"), principal, TOKENS.generation)
    assert TOKENS.get(("db", "hash")) is principal
    clock.now += TOKENS.ttl
    assert TOKENS.get(("db", "hash")) is None
