"""Demo data: a telecom contact centre's month, seeded through the services."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.activity.context import get_context
from omnidesk.auth.service import do_login, get_principal_for_token
from omnidesk.customers.service import find_contact_by_identity
from omnidesk.demo import DemoLogins, DemoRefused, seed
from omnidesk.demo.plan import build_plan
from omnidesk.kit.db import Database
from omnidesk.kit.security import verify_password
from omnidesk.kit.time import utcnow
from omnidesk.models import (
    Activity,
    Contact,
    Conversation,
    EventType,
    Identity,
    Inbox,
    Membership,
    Message,
    Organisation,
    OutboxItem,
    ProductHolding,
    Team,
    User,
)
from tests.conftest import make_user


def test_plan_is_deterministic_and_consistent() -> None:
    now = utcnow()
    plan = build_plan(now)
    assert plan == build_plan(now)
    later = build_plan(now + timedelta(days=3))
    assert [p.name for p in later.persons] == [p.name for p in plan.persons]
    assert 60 <= len(plan.persons) <= 150 and len(plan.organisations) >= 8
    assert 150 <= len(plan.conversations) <= 300
    assert 500 <= sum(len(c.turns) for c in plan.conversations) <= 1500
    assert 250 <= len(plan.events) <= 350
    identities = [pair for p in plan.persons for pair in p.identities()]
    assert len(identities) == len(set(identities))
    for conversation in plan.conversations:
        times = [t.at for t in conversation.turns]
        assert times == sorted(times) and times[-1] < now
        assert conversation.turns[0].role == "c"
    assert all(e["occurred_at"] <= now for e in plan.events)
    assert len({(e["source"], e["id"]) for e in plan.events}) == len(plan.events)


async def _count(session: AsyncSession, model: Any, *where: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _check_counts(session: AsyncSession, logins: DemoLogins) -> None:
    counts = logins.counts
    assert counts["users"] == await _count(session, User) == 11
    assert counts["contacts"] == await _count(session, Contact)
    assert 60 <= counts["contacts"] <= 150
    assert counts["conversations"] == await _count(session, Conversation)
    assert 150 <= counts["conversations"] <= 300
    assert counts["messages"] == await _count(session, Message)
    assert 500 <= counts["messages"] <= 1500
    assert counts["events"] == await _count(session, Activity, Activity.kind == "event")
    assert 250 <= counts["events"] <= 350
    assert await _count(session, Organisation) >= 8
    assert await _count(session, OutboxItem) == 0  # nothing owed for a made-up past
    teams = set(await session.scalars(select(Team.name)))
    assert {"一线客服", "政企客户服务组", "账务"} <= teams
    inboxes = {i.name: i for i in await session.scalars(select(Inbox))}
    assert {"官网在线客服", "掌上营业厅 App", "support@telecom.example", "微信公众号",
            "10000 热线", "短信", "Partner API", "政企专线"} == set(inboxes)
    assert inboxes["政企专线"].restricted and inboxes["政企专线"].team_id is not None
    declared = {t.type: t.outcome for t in await session.scalars(select(EventType))}
    assert declared["payment.failed"] == "failed"
    assert declared["order.abandoned"] == "abandoned"
    assert declared["payment.succeeded"] == "succeeded"
    assert declared["contract.expiring"] == "info"


async def _check_contacts(session: AsyncSession) -> None:
    contacts = list(await session.scalars(select(Contact)))
    assert {c.locale for c in contacts} == {"zh-CN", "zh-TW", "en"}
    levels = {c.vip_level for c in contacts}
    assert None in levels and {0, 1, 2, 3, 4, 5} == {v for v in levels if v is not None}
    values = Counter((kind, value[:4]) for kind, value in await session.execute(
        select(Identity.kind, Identity.value)))
    assert values["phone", "+86" + "1"] >= 60
    assert values["phone", "+852"] >= 3 and values["phone", "+886"] >= 3
    kinds = {kind for kind, _ in values}
    assert {"phone", "email", "wechat_openid", "app_user_id"} <= kinds
    names = set(await session.scalars(select(ProductHolding.name)))
    assert {"5G 套餐 199元", "千兆宽带", "寬頻 500M", "国际漫游包"} <= names
    soon = utcnow() + timedelta(days=30)
    assert await _count(session, ProductHolding, ProductHolding.organisation_id.is_(None),
                        ProductHolding.expires_at <= soon,
                        ProductHolding.expires_at > utcnow()) >= 10


async def _check_wang(session: AsyncSession) -> None:
    wang = await find_contact_by_identity(session, "phone", "+8613800138000")
    assert wang is not None and wang.name == "王小明" and wang.vip_level == 3
    ctx = await get_context(session, wang.id)
    first = ctx["recent_failures"][0]
    assert first["type"] == "payment.failed" and first["reason"] == "insufficient balance"
    assert first["summary"] == "Payment of 199.00 CNY failed: insufficient balance"
    assert datetime.fromisoformat(first["occurred_at"]) > utcnow() - timedelta(days=1)
    assert "5G 套餐 199元" in [p["name"] for p in ctx["expiring_products"]]
    web = [c for c in ctx["open_conversations"] if c["channel"] == "web_chat"]
    assert web and web[0]["status"] == "open" and web[0]["assignee_id"] is None
    inbox = await session.get(Inbox, uuid.UUID(web[0]["inbox_id"]))
    assert inbox is not None and inbox.name == "官网在线客服"


async def _check_organisations(session: AsyncSession) -> None:
    orgs = list(await session.scalars(select(Organisation)))
    assert {o.tier for o in orgs} == {"strategic", "key", "standard", "small_business"}
    assert "台北捷運資訊股份有限公司" in {o.name for o in orgs}
    assert "Northwind Logistics Ltd." in {o.name for o in orgs}
    managers = {o.account_manager_id for o in orgs if o.account_manager_id}
    roles = set(await session.scalars(select(User.role).where(User.id.in_(managers))))
    assert roles == {"account_manager"}
    per_org = Counter(await session.scalars(select(Membership.organisation_id)))
    assert all(2 <= per_org[o.id] <= 5 for o in orgs)
    roles_of: dict[uuid.UUID, set[str]] = {o.id: set() for o in orgs}
    for org_id, role in await session.execute(select(Membership.organisation_id,
                                                     Membership.role)):
        roles_of[org_id].add(role)
    every = {"decision_maker", "key_person", "administrator", "member"}
    assert all(roles_of[o.id] == every for o in orgs if o.tier == "strategic")
    assert set().union(*roles_of.values()) == every
    soon = utcnow() + timedelta(days=30)
    assert await _count(session, ProductHolding, ProductHolding.organisation_id.is_not(None),
                        ProductHolding.expires_at <= soon, ProductHolding.expires_at > utcnow())
    # Members who are also private customers: a membership and products of their own.
    private = select(ProductHolding.contact_id).where(ProductHolding.organisation_id.is_(None))
    assert await _count(session, Membership, Membership.contact_id.in_(private)) >= 3


async def _check_history(session: AsyncSession) -> None:
    bodies = list(await session.scalars(select(Message.body)))
    text = "\n".join(bodies)
    assert "我的宽带从昨晚开始就断网了" in text and "帳單金額不對，多扣了 30 元" in text
    assert "Can I add international roaming before my trip to Tokyo?" in text
    assert any(ch in text for ch in "帳寬網") and "宽带" in text
    calls = [m for m in await session.scalars(select(Message).where(Message.data.is_not(None)))
             if "duration_seconds" in (m.data or {})]
    assert len(calls) >= 15 and all(m.data["direction"] == "inbound" for m in calls)
    assert await _count(session, Message, Message.is_note.is_(True)) >= 30
    statuses = Counter(await session.scalars(select(Conversation.status)))
    assert statuses["resolved"] > statuses["open"] > 5 and statuses["pending"] > 5
    assert await _count(session, Conversation, Conversation.channel == "email",
                        Conversation.subject.is_not(None)) >= 20
    assert await _count(session, Conversation, Conversation.assignee_id.is_not(None)) >= 100
    assert await _count(session, Message, Message.created_at > utcnow()) == 0
    waiting = await _count(session, Conversation, Conversation.channel == "web_chat",
                           Conversation.status == "open", Conversation.assignee_id.is_(None))
    assert waiting >= 2
    events = Counter(await session.scalars(select(Activity.type).where(Activity.kind == "event")))
    for kind in ("payment.failed", "order.abandoned", "app.checkin.failed",
                 "app.cancellation.failed", "contract.expiring", "payment.succeeded",
                 "plan.changed"):
        assert events[kind] >= 10, kind


async def test_seed_fills_an_empty_database(db: Database) -> None:
    logins = await seed(db)
    assert logins.created and logins.admin_email == "admin@omnidesk.local"
    assert any(logins.api_token in line for line in logins.lines())
    async with db.transaction() as session:
        await _check_counts(session, logins)
        await _check_contacts(session)
        await _check_wang(session)
        await _check_organisations(session)
        await _check_history(session)


async def test_seeding_twice_mints_a_token_and_duplicates_nothing(db: Database) -> None:
    first = await seed(db, admin_password="s3cret-admin")
    again = await seed(db, admin_password="s3cret-admin")
    assert not again.created and again.api_token != first.api_token
    assert again.admin_password == "s3cret-admin"
    async with db.transaction() as session:
        assert await _count(session, Contact) == first.counts["contacts"]
        assert await _count(session, Conversation) == first.counts["conversations"]
        for token in (first.api_token, again.api_token):
            principal = await get_principal_for_token(session, token)
            assert principal.role == "admin" and principal.user_id is not None
        admin = await session.scalar(select(User).where(User.email == first.admin_email))
        assert admin is not None and verify_password(admin.password_hash, "s3cret-admin")
        user, _, _ = await do_login(session, first.agent_email, first.agent_password, 1)
        assert user.role == "agent"
    unknown = await seed(db, admin_password="not-the-password")
    assert unknown.admin_password is None and not unknown.created
    assert any("unchanged" in line for line in unknown.lines())


async def test_refuses_a_database_with_other_data(db: Database) -> None:
    with pytest.raises(ValueError):
        await seed(db, now=utcnow().replace(tzinfo=None))
    await make_user(db, "someone@example.com", "admin")
    with pytest.raises(DemoRefused, match="1 users"):
        await seed(db)
    async with db.transaction() as session:
        assert await _count(session, Contact) == 0
