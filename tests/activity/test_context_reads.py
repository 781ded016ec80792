"""The screen pop and the timeline read with one statement each: the same content as the
straightforward ORM reads they replaced (kept here as the reference), merges followed,
pending changes of the caller's transaction seen, bad input refused with a 4xx."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.activity.context import (
    EXPIRY_WINDOW,
    FAILURE_WINDOW,
    TIER_RANK,
    activity_json,
    contact_json,
    get_context,
    get_context_by_identity,
)
from omnidesk.customers.service import get_contact, list_identities
from omnidesk.kit.db import Database
from omnidesk.kit.errors import NotFound
from omnidesk.kit.time import utcnow
from omnidesk.models import (
    Activity,
    Case,
    Contact,
    Conversation,
    Identity,
    Inbox,
    Membership,
    Organisation,
    ProductHolding,
    User,
)

# --------------------------------------------------------------------------- the reference
# The previous implementation (one ORM query per part), kept as the oracle.


async def reference_context(session: AsyncSession, contact_id: uuid.UUID) -> dict[str, Any]:
    contact = await get_contact(session, contact_id)
    identities = await list_identities(session, contact.id)
    rows = await session.execute(
        select(Membership.role, Membership.title, Organisation, User.name)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .outerjoin(User, User.id == Organisation.account_manager_id)
        .where(Membership.contact_id == contact.id))
    orgs = [
        {"id": str(org.id), "name": org.name, "tier": org.tier, "role": role, "title": title,
         "billing_mode": org.billing_mode, "tags": org.tags,
         "account_manager": ({"id": str(org.account_manager_id), "name": manager}
                             if org.account_manager_id else None)}
        for role, title, org, manager in rows]
    org_ids = [uuid.UUID(o["id"]) for o in orgs]
    stmt = select(ProductHolding).where(ProductHolding.contact_id == contact.id)
    if org_ids:
        stmt = select(ProductHolding).where((ProductHolding.contact_id == contact.id)
                                            | ProductHolding.organisation_id.in_(org_ids))
    now = utcnow()
    products = []
    for p in await session.scalars(stmt.order_by(ProductHolding.expires_at)):
        products.append({
            "id": str(p.id), "product_code": p.product_code, "name": p.name,
            "status": p.status, "expires_at": p.expires_at.isoformat() if p.expires_at else None,
            "expires_in_days": (p.expires_at - now).days if p.expires_at else None,
            "expiring_soon": (p.expires_at is not None
                              and now <= p.expires_at <= now + EXPIRY_WINDOW),
            "held_by": "organisation" if p.organisation_id is not None else "contact",
            "attributes": p.attributes})
    failures = await session.scalars(select(Activity).where(
        Activity.contact_id == contact.id, Activity.outcome.in_(("failed", "abandoned")),
        Activity.occurred_at >= now - FAILURE_WINDOW,
    ).order_by(Activity.occurred_at.desc()).limit(10))
    ranked = (select(Activity.id, func.row_number().over(
        partition_by=Activity.channel,
        order_by=(Activity.occurred_at.desc(), Activity.id.desc())).label("rn"))
        .where(Activity.contact_id == contact.id, Activity.channel.is_not(None)).subquery())
    latest = await session.scalars(
        select(Activity).join(ranked, ranked.c.id == Activity.id).where(ranked.c.rn == 1))
    convs = await session.scalars(select(Conversation).where(
        Conversation.contact_id == contact.id, Conversation.status != "resolved",
    ).order_by(Conversation.last_message_at.desc()).limit(10))
    cases = await session.scalars(select(Case).where(
        Case.contact_id == contact.id, Case.status == "open",
    ).order_by(Case.created_at.desc()).limit(10))
    recent = await session.scalars(select(Activity).where(Activity.contact_id == contact.id)
                                   .order_by(Activity.occurred_at.desc(), Activity.id.desc())
                                   .limit(10))
    org_tiers = sorted((o["tier"] for o in orgs), key=lambda t: TIER_RANK.get(t, 9))
    return {
        "contact": contact_json(contact),
        "identities": [{"kind": i.kind, "value": i.value, "verified": i.verified}
                       for i in identities],
        "organisations": orgs,
        "tier": contact.tier or (org_tiers[0] if org_tiers else None),
        "vip_level": contact.vip_level,
        "tags": contact.tags,
        "products": products,
        "expiring_products": [p for p in products if p["expiring_soon"]],
        "recent_failures": [{**activity_json(a), "reason": (a.data or {}).get("reason")}
                            for a in failures],
        "open_conversations": [
            {"id": str(c.id), "inbox_id": str(c.inbox_id), "channel": c.channel,
             "status": c.status, "subject": c.subject,
             "assignee_id": str(c.assignee_id) if c.assignee_id else None,
             "last_message_at": c.last_message_at.isoformat() if c.last_message_at else None}
            for c in convs],
        "open_cases": [{"id": str(c.id), "number": c.number, "type": c.type,
                        "subject": c.subject, "stage": c.stage, "priority": c.priority}
                       for c in cases],
        "latest_by_channel": {str(a.channel): activity_json(a) for a in latest},
        "recent_activity": [activity_json(a) for a in recent],
    }


# --------------------------------------------------------------------------- a rich customer

async def _rich_customer(db: Database) -> dict[str, uuid.UUID]:
    now = utcnow()
    async with db.transaction() as s:
        manager = User(email="am@omnidesk.test", name="客户经理", password_hash="!",
                       role="account_manager")
        inbox = Inbox(channel="web_chat", name="Web")
        s.add_all([manager, inbox])
        await s.flush()
        key = Organisation(name="华信集团", search_key="huaxin", tier="key",
                           account_manager_id=manager.id, billing_mode="postpaid",
                           tags=["enterprise"])
        small = Organisation(name="小店", search_key="xd", tier="small_business")
        contact = Contact(name="王小明", vip_level=2, tags=["5G", "vip"],
                          attributes={"city": "上海"}, timezone="Asia/Shanghai",
                          locale="zh-CN")
        other = Contact(name="李四")
        s.add_all([key, small, contact, other])
        await s.flush()
        s.add_all([
            Identity(contact_id=contact.id, kind="phone", value="+8613800138000",
                     verified=True, created_at=now - timedelta(days=3)),
            Identity(contact_id=contact.id, kind="email", value="wxm@example.cn",
                     created_at=now - timedelta(days=2)),
            Identity(contact_id=other.id, kind="phone", value="+8613900139000"),
            Membership(organisation_id=key.id, contact_id=contact.id, role="key_person",
                       title="CIO"),
            Membership(organisation_id=small.id, contact_id=contact.id, role="member"),
            Membership(organisation_id=key.id, contact_id=other.id, role="member"),
        ])
        products = [  # by the contact, by its organisations, by both, by someone else
            ProductHolding(contact_id=contact.id, product_code="5G", name="5G 套餐",
                           expires_at=now + timedelta(days=12), attributes={"fee": 199}),
            ProductHolding(contact_id=contact.id, product_code="FTTH", name="千兆宽带",
                           expires_at=now + timedelta(days=200)),
            ProductHolding(contact_id=contact.id, product_code="OLD", name="旧套餐",
                           status="expired", expires_at=now - timedelta(days=5)),
            ProductHolding(contact_id=contact.id, product_code="NOEND", name="永久"),
            ProductHolding(organisation_id=key.id, product_code="LINE", name="企业专线",
                           expires_at=now + timedelta(days=20)),
            ProductHolding(contact_id=contact.id, organisation_id=small.id,
                           product_code="BOTH", name="共有", expires_at=now + timedelta(days=40)),
            ProductHolding(contact_id=other.id, product_code="X", name="别人的",
                           expires_at=now + timedelta(days=3)),
        ]
        s.add_all(products)
        convs = []
        for i, status in enumerate(["open", "pending", "resolved", "snoozed"]):
            conv = Conversation(inbox_id=inbox.id, contact_id=contact.id, channel="web_chat",
                                status=status, subject=f"c{i}", assignee_id=manager.id,
                                last_message_at=now - timedelta(hours=i) if i != 3 else None)
            convs.append(conv)
        s.add_all(convs)
        for i, status in enumerate(["open", "open", "closed"]):
            s.add(Case(number=f"C-{i}", contact_id=contact.id, type="complaint",
                       subject=f"case {i}", status=status, priority="high", created_by="t",
                       created_at=now - timedelta(days=i)))
        await s.flush()
        outcomes = ["failed", "abandoned", "succeeded", "info"]
        channels = ["web_chat", "app_chat", "voice", None, "sms"]
        for i in range(40):  # more than every limit
            s.add(Activity(
                contact_id=contact.id, kind="event" if i % 3 else "call",
                channel=channels[i % len(channels)], source="test", external_id=f"a{i}",
                type=f"t.{i}", outcome=outcomes[i % 4], summary=f"entry {i}",
                conversation_id=convs[0].id if i % 7 == 0 else None,
                data={"reason": f"r{i}", "n": i} if i % 2 == 0 else {},
                occurred_at=now - timedelta(days=i * 1.5)))
        same_time = now - timedelta(hours=5)  # ties on occurred_at are broken by id
        for i in range(3):
            s.add(Activity(contact_id=contact.id, kind="event", channel="email",
                           source="tie", external_id=f"t{i}", type="tie", outcome="failed",
                           occurred_at=same_time))
        s.add(Activity(contact_id=other.id, kind="event", channel="web_chat", source="o",
                       external_id="o1", type="other", outcome="failed", occurred_at=now))
        merged = Contact(name="王小明 (old)", merged_into_id=contact.id)
        s.add(merged)
        await s.flush()
        s.add(Identity(contact_id=merged.id, kind="wechat_openid", value="o-merged"))
        return {"contact": contact.id, "other": other.id, "merged": merged.id}


def _canonical(ctx: dict[str, Any]) -> dict[str, Any]:
    """Orders the database leaves open (organisations, channels) made comparable."""
    out = dict(ctx)
    out["organisations"] = sorted(ctx["organisations"], key=lambda o: o["id"])
    out["latest_by_channel"] = dict(sorted(ctx["latest_by_channel"].items()))
    return out


async def test_context_is_the_same_as_the_reference(db: Database) -> None:
    ids = await _rich_customer(db)
    for contact_id in ids.values():
        async with db.transaction() as s:
            expected = await reference_context(s, contact_id)
        async with db.transaction() as s:
            got = await get_context(s, contact_id)
        assert _canonical(got) == _canonical(expected)
    async with db.transaction() as s:
        ctx = await get_context(s, ids["contact"])
    assert ctx["tier"] == "key"
    assert [p["product_code"] for p in ctx["expiring_products"]] == ["5G", "LINE"]
    assert sorted(p["product_code"] for p in ctx["products"]) == sorted(
        ["5G", "FTTH", "OLD", "NOEND", "LINE", "BOTH"])
    assert len(ctx["recent_failures"]) == 10 and len(ctx["recent_activity"]) == 10
    assert [c["subject"] for c in ctx["open_conversations"]][:3] == ["c0", "c1", "c3"] or \
        [c["subject"] for c in ctx["open_conversations"]][-3:] == ["c3", "c0", "c1"]
    assert [c["number"] for c in ctx["open_cases"]] == ["C-0", "C-1"]
    assert set(ctx["latest_by_channel"]) == {"web_chat", "app_chat", "voice", "sms", "email"}


async def test_merged_contact_shows_the_survivor(db: Database) -> None:
    ids = await _rich_customer(db)
    async with db.transaction() as s:
        merged = await get_context(s, ids["merged"])
        survivor = await get_context(s, ids["contact"])
        by_openid = await get_context_by_identity(s, "wechat_openid", "o-merged")
    assert merged["contact"]["id"] == str(ids["contact"])
    assert _canonical(merged) == _canonical(survivor)
    assert by_openid["contact"]["id"] == str(ids["contact"])


async def test_by_identity_is_the_same_and_missing_is_not_found(db: Database) -> None:
    ids = await _rich_customer(db)
    async with db.transaction() as s:
        by_phone = await get_context_by_identity(s, "phone", "+8613800138000")
        by_id = await get_context(s, ids["contact"])
        assert _canonical(by_phone) == _canonical(by_id)
        with pytest.raises(NotFound, match="no contact with phone"):
            await get_context_by_identity(s, "phone", "+8613700000000")
        with pytest.raises(NotFound, match="not found"):
            await get_context(s, uuid.uuid4())


async def test_context_sees_the_callers_pending_changes(db: Database) -> None:
    ids = await _rich_customer(db)
    async with db.transaction() as s:  # e.g. a call stored, then the pop assembled
        s.add(Activity(contact_id=ids["contact"], kind="call", channel="voice",
                       source="pbx", external_id="ring-1", type="call.ringing",
                       outcome="info", occurred_at=utcnow()))
        contact = await s.get(Contact, ids["contact"])
        assert contact is not None
        contact.vip_level = 5
        ctx = await get_context(s, ids["contact"])
    assert ctx["recent_activity"][0]["external_id"] == "ring-1"
    assert ctx["latest_by_channel"]["voice"]["external_id"] == "ring-1"
    assert ctx["vip_level"] == 5 and ctx["contact"]["vip_level"] == 5


async def test_http_context_and_timeline_are_the_reference(
        client: httpx.AsyncClient, db: Database) -> None:
    ids = await _rich_customer(db)
    cid = ids["contact"]
    r = await client.get(f"/api/v1/contacts/{cid}/context")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    async with db.transaction() as s:
        expected = await reference_context(s, cid)
    assert _canonical(orjson.loads(r.content)) == _canonical(expected)
    r = await client.get("/api/v1/context", params={"phone": "138 0013 8000"})
    assert _canonical(r.json()) == _canonical(expected)
    # the timeline of a merged contact is the survivor's, every entry once, newest first
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = (await client.get(f"/api/v1/contacts/{ids['merged']}/timeline", params={
            "limit": 7} | ({"cursor": cursor} if cursor else {}))).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    async with db.transaction() as s:
        every = list(await s.scalars(select(Activity).where(Activity.contact_id == cid)
                                     .order_by(Activity.occurred_at.desc(),
                                               Activity.id.desc())))
    assert items == [activity_json(a) for a in every]
    failed = (await client.get(f"/api/v1/contacts/{cid}/timeline", params={
        "outcome": "failed", "channel": ["email", "voice"], "kind": "event"})).json()["items"]
    assert failed and all(i["outcome"] == "failed" and i["channel"] in ("email", "voice")
                          and i["kind"] == "event" for i in failed)


async def test_timeline_bad_input_is_a_4xx(client: httpx.AsyncClient, db: Database) -> None:
    ids = await _rich_customer(db)
    url = f"/api/v1/contacts/{ids['contact']}/timeline"

    def cursor(*values: str) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(list(values))).decode().rstrip("=")

    for bad in ("nonsense", cursor("x", "y"), cursor("2026-01-01T00:00:00", str(uuid.uuid4())),
                cursor(utcnow().isoformat(), "not-a-uuid"), cursor("only-one")):
        r = await client.get(url, params={"cursor": bad})
        assert r.status_code == 400, (bad, r.text)
    assert (await client.get(f"/api/v1/contacts/{uuid.uuid4()}/timeline")).status_code == 404
    assert (await client.get(f"/api/v1/contacts/{uuid.uuid4()}/context")).status_code == 404
    assert (await client.get("/api/v1/contacts/nope/context")).status_code == 422
    assert (await client.get(url, params={"limit": 0})).status_code == 422
    assert (await client.get(url, params={"kind": "dream"})).status_code == 422
