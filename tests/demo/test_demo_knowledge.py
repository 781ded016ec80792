"""The demo's help centre and bot: articles in three locales written through the
knowledge service, search that finds them across scripts, and a trained model that
answers at once — checked over the live server on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict

import httpx
from sqlalchemy import func, select
from websockets.asyncio.client import connect

from omnidesk.config import Settings
from omnidesk.demo import seed
from omnidesk.demo.knowledge import SYNONYMS, UTTERANCES
from omnidesk.demo.knowledge_articles import ARTICLES, BROADBAND
from omnidesk.demo.staff import STAFF
from omnidesk.kit.db import Database
from omnidesk.kit.security import sign_value
from omnidesk.knowledge.articles import list_stale
from omnidesk.models import Article, ArticleVersion, Inbox, NluModel, NluUtterance, User
from omnidesk.nlu.classifier import IntentClassifier
from tests.bot.test_bot_chat import SECRET, say
from tests.conftest import LiveServer
from tests.realtime.test_websockets import recv


def test_the_articles_are_complete_in_their_languages() -> None:
    keys = [a.key for a in ARTICLES]
    assert len(keys) == len(set(keys))
    public = [a for a in ARTICLES if a.visibility == "public"]
    assert len(public) == 14 and len(ARTICLES) - len(public) == 2
    assert all(list(a.texts)[:2] == ["zh-CN", "zh-TW"] for a in public)
    assert sum("en" in a.texts for a in public) >= len(public) / 2
    assert len([a for a in ARTICLES if a.review_days < 0]) == 2
    staff = {s.key for s in STAFF}
    for spec in ARTICLES:
        assert spec.owner in staff, spec.key
        for locale, text in spec.texts.items():
            assert 6 <= len(text.questions) <= 10, (spec.key, locale)
            short, _, steps = text.body.partition("\n\n")
            assert len(short) <= 240, (spec.key, locale)  # the bot quotes it uncut
            assert "\n1. " in steps or "\n- " in steps, (spec.key, locale)
    assert not any(label.startswith("article:") for label in UTTERANCES)
    assert any({"宽带", "寬頻", "broadband"} <= set(group) for group in SYNONYMS)


async def _check_articles(db: Database, counts: dict[str, int]) -> uuid.UUID:
    async with db.transaction() as session:
        rows = list(await session.scalars(select(Article)))
        assert counts["articles"] == len(rows) == sum(len(a.texts) for a in ARTICLES)
        assert {a.status for a in rows} == {"published"}
        assert Counter(a.locale for a in rows if a.visibility == "public") == {
            "zh-CN": 14, "zh-TW": 14, "en": 10}
        assert Counter(a.visibility for a in rows)["internal"] == 2
        groups: dict[uuid.UUID, set[str]] = defaultdict(set)
        for a in rows:
            groups[a.group_id].add(a.locale)
        assert len(groups) == len(ARTICLES)
        assert all(a.owner_id is not None and a.review_by is not None for a in rows)
        owners = set(await session.scalars(select(User.email).where(
            User.id.in_({a.owner_id for a in rows}))))
        assert "zhao.min@omnidesk.local" in owners
        versions = Counter(await session.scalars(select(ArticleVersion.article_id)))
        assert all(versions[a.id] == a.version for a in rows)
        assert sum(a.version == 2 for a in rows) == 2
        stale = {a.external_key for a in await list_stale(session, None)}
        assert stale == {"demo/roaming/zh-CN", "demo/roaming/zh-TW", "demo/roaming/en",
                         "demo/5g-coverage/zh-CN", "demo/5g-coverage/zh-TW"}
        assert sum(a.helpful_yes for a in rows) > 100
        broadband = next(a for a in rows if a.external_key == "demo/broadband-down/zh-CN")
        assert groups[broadband.group_id] == {"zh-CN", "zh-TW", "en"}
        return broadband.group_id


async def _check_search(anon: httpx.AsyncClient, broadband: uuid.UUID, db: Database,
                        token: str) -> None:
    async with db.transaction() as session:
        ids = {str(a.id): a for a in await session.scalars(select(Article))}
    r = await anon.get("/api/v1/help/search", params={"q": "寬頻斷線"})
    assert r.status_code == 200, r.text
    hits = r.json()
    assert hits and ids[hits[0]["id"]].group_id == broadband
    assert "<mark>" in hits[0]["title_highlighted"]
    # The synonym group: an English query finds the Chinese-only articles' translations.
    r = await anon.get("/api/v1/help/search", params={"q": "broadband", "locale": "zh-CN"})
    assert [ids[h["id"]].group_id for h in r.json()][:1] == [broadband]
    # Customers never see the agents' internal articles; agents do.
    r = await anon.get("/api/v1/help/search", params={"q": "派单 工单 坐席"})
    assert all(h["visibility"] == "public" for h in r.json())
    r = await anon.get("/api/v1/kb/search", params={"q": "派单 工单 坐席"},
                       headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()[0]["visibility"] == "internal"
    page = await anon.get("/help", params={"q": "寬頻斷線"})
    assert page.status_code == 200 and f"/help/articles/{hits[0]['id']}" in page.text


async def _check_model(db: Database, broadband: uuid.UUID, intents: int) -> None:
    async with db.transaction() as session:
        stored = list(await session.scalars(select(NluModel)))
        labels = set(await session.scalars(select(NluUtterance.label)))
        assert await session.scalar(select(func.count()).select_from(NluUtterance)) == sum(
            len(u) for u in UTTERANCES.values())
    assert len(stored) == 1 and len(stored[0].labels) == intents == 16
    assert labels == {"complaint", "sales_lead"} <= set(stored[0].labels)
    classifier = IntentClassifier.from_bytes(stored[0].blob)  # what a restarted server loads
    assert classifier.predict("家里宽带上不了网").label == f"article:{broadband}"
    assert classifier.predict("明天会下雨吗").label is None
    assert classifier.predict("我要投诉你们，服务太差了").label == "complaint"


async def _check_bot(server: LiveServer, db: Database) -> None:
    async with db.transaction() as session:
        web = await session.scalar(select(Inbox.id).where(Inbox.name == "官网在线客服"))
    signed = sign_value(SECRET, "demo-kb-visitor")
    async with connect(f"{server.ws_url}/ws/chat?inbox_id={web}&app_user={signed}") as vis:
        await recv(vis, "hello")
        await say(vis, "家里宽带上不了网，光猫红灯一直闪", "k1")
        while True:
            frame = await recv(vis, "message", timeout=30)
            message = frame["message"]
            if message["sender_type"] == "bot" and message["data"]["bot"]["kind"] == "answer":
                break
    assert BROADBAND.texts["zh-CN"].body.split("\n\n")[0][:30] in message["body"]


async def test_demo_seeds_a_help_centre_and_a_trained_bot(db: Database,
                                                         settings: Settings) -> None:
    logins = await seed(db)  # as `omnidesk demo` does: seed, then serve
    broadband = await _check_articles(db, logins.counts)
    await _check_model(db, broadband, logins.counts["intents"])
    server = LiveServer(settings)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as anon:
            await _check_search(anon, broadband, db, logins.api_token)
        await _check_bot(server, db)
    finally:
        await server.stop()
