"""The bot in web chat over real websockets: a greeting chosen from the customer's context,
article answers, "did this help?", and hand-offs that carry everything to the agent."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from omnidesk.kit.security import sign_value
from tests.conftest import LiveServer
from tests.realtime.test_websockets import no_frame, recv

SECRET = "test-secret-key-123"  # OMNIDESK_SECRET_KEY in tests/conftest.py

ARTICLES = [
    ("宽带断网怎么办", "先重启光猫和路由器，等待两分钟后再试。如果光猫红灯仍亮，请报修。",
     ["宽带断网了", "家里上不了网", "网络一直掉线", "光猫红灯亮了", "宽带连不上", "wifi 没有网络"]),
    ("如何开具发票", "登录网上营业厅，在“费用”中选择“电子发票”，即可下载。",
     ["我要开发票", "发票在哪里下载", "怎么开增值税发票", "电子发票怎么获取", "帮我开一张发票"]),
    ("国际漫游开通", "出国前发送 KTMY 到 10086 即可开通国际漫游。",
     ["怎么开通国际漫游", "出国手机能用吗", "漫游资费多少", "去日本要开漫游吗", "境外流量包"]),
    ("修改套餐", "在 App 的“套餐变更”里可以升级或降级套餐，下月生效。",
     ["我想换套餐", "升级流量套餐", "有没有便宜一点的套餐", "改套餐怎么收费", "换个流量多的套餐"]),
]


async def setup_bot(client: httpx.AsyncClient) -> str:
    for title, body, questions in ARTICLES:
        r = await client.post("/api/v1/kb/articles", json={
            "title": title, "body": body, "locale": "zh-CN", "visibility": "public",
            "status": "published", "example_questions": questions})
        assert r.status_code == 201, r.text
    r = await client.post("/api/v1/nlu/train")
    assert r.status_code == 201, r.text
    assert r.json()["intents"] == len(ARTICLES)
    r = await client.post("/api/v1/inboxes", json={"channel": "web_chat", "name": "App 客服"})
    return str(r.json()["id"])


async def failed_payment(client: httpx.AsyncClient, app_user: str) -> None:
    r = await client.post("/api/v1/events", json={
        "source": "payments", "id": f"pay-{app_user}", "type": "payment.failed",
        "occurred_at": "2026-11-30T03:00:00Z", "contact": {"app_user_id": app_user},
        "summary": "Payment of 199.00 CNY failed: insufficient balance",
        "data": {"amount": "199.00", "currency": "CNY", "reason": "insufficient balance",
                 "order_id": "A-1001"}})
    assert r.status_code in (200, 201, 202), r.text


async def bot_says(vis: ClientConnection) -> dict[str, Any]:
    while True:
        frame = await recv(vis, "message", timeout=15)
        if frame["message"]["sender_type"] == "bot":
            return dict(frame["message"])


async def say(vis: ClientConnection, body: str, client_id: str) -> None:
    await vis.send(json.dumps({"type": "message", "body": body, "client_id": client_id}))
    await recv(vis, "ack")


async def test_greeting_offers_the_failed_payment_then_answers_and_hands_off(
        server: LiveServer, client: httpx.AsyncClient, admin_token: str) -> None:
    inbox = await setup_bot(client)
    await failed_payment(client, "u-1001")
    signed = sign_value(SECRET, "u-1001")
    async with connect(f"{server.ws_url}/ws/agent?token={admin_token}") as agent, \
            connect(f"{server.ws_url}/ws/chat?inbox_id={inbox}&app_user={signed}") as vis:
        await recv(agent, "hello")
        await recv(vis, "hello")
        await say(vis, "你好", "c1")
        greeting = await bot_says(vis)
        options = greeting["data"]["options"]
        assert "199.00" in options[0] and "insufficient balance" in options[0]
        assert greeting["body"].startswith("您好")

        await say(vis, "家裡寬頻斷網了怎麼辦", "c2")          # traditional characters
        answer = await bot_says(vis)
        assert "重启光猫" in answer["body"] and "/help/articles/" in answer["body"]
        assert answer["data"]["bot"]["kind"] == "answer"

        await say(vis, "没用", "c3")
        assert "换个说法" in (await bot_says(vis))["body"]
        await say(vis, "光猫红灯一直亮", "c4")
        assert "/help/articles/" in (await bot_says(vis))["body"]
        await say(vis, "还是不行", "c5")                     # the second unhelpful answer
        handoff = await recv(agent, "conversation.handoff", timeout=15)
        assert "转接" in (await bot_says(vis))["body"]

    data = handoff["handoff"]
    assert data["reason"] == "unhelpful"
    assert [i["text"] for i in data["intents"]] == [
        "你好", "家裡寬頻斷網了怎麼辦", "光猫红灯一直亮"]
    assert all(0.0 <= i["confidence"] <= 1.0 for i in data["intents"])
    assert data["intents"][1]["label"].startswith("article:") and data["intents"][1]["in_scope"]
    assert any(m["body"] == "没用" for m in data["transcript"])
    assert "insufficient balance" in data["recent_failures"][0]["summary"]
    assert handoff["context"]["contact"]["id"]
    conv = handoff["conversation_id"]
    messages = (await client.get(f"/api/v1/conversations/{conv}/messages")).json()["items"]
    notes = [m for m in messages if m["is_note"]]
    assert len(notes) == 1 and notes[0]["body"].startswith("Bot hand-off: unhelpful")

    report = (await client.get("/api/v1/reports/self-service")).json()
    assert report["handed_off"] == 1 and report["resolved"] == 0
    assert report["items"][0]["channel"] == "web_chat"


async def test_customer_asks_for_a_person_and_a_confirmed_answer_resolves(
        server: LiveServer, client: httpx.AsyncClient, admin_token: str) -> None:
    inbox = await setup_bot(client)
    base = f"{server.ws_url}/ws/chat?inbox_id={inbox}"
    async with connect(f"{server.ws_url}/ws/agent?token={admin_token}") as agent, \
            connect(f"{base}&visitor_id=v-1") as vis:
        await recv(agent, "hello")
        await recv(vis, "hello")
        await say(vis, "我要开发票", "a1")
        await bot_says(vis)                                   # the greeting
        assert "电子发票" in (await bot_says(vis))["body"]
        await say(vis, "是的，谢谢", "a2")
        assert "很高兴" in (await bot_says(vis))["body"]
    async with connect(f"{server.ws_url}/ws/agent?token={admin_token}") as agent, \
            connect(f"{base}&visitor_id=v-2") as vis:
        await recv(agent, "hello")
        await recv(vis, "hello")
        await say(vis, "hello", "b1")
        assert (await bot_says(vis))["body"].startswith("Hi")
        await say(vis, "转人工", "b2")
        frame = await recv(agent, "conversation.handoff", timeout=15)
        assert frame["handoff"]["reason"] == "asked_for_human"
        await bot_says(vis)
        await say(vis, "还在吗", "b3")                        # the bot stays quiet now
        await no_frame(vis, "message", wait=1.5)
    report = (await client.get("/api/v1/reports/self-service")).json()
    assert report["resolved"] == 1 and report["handed_off"] == 1
    assert report["deflection_rate"] == 0.5


async def test_not_confident_hands_off_and_always_human_tier_skips_the_bot(
        server: LiveServer, client: httpx.AsyncClient, admin_token: str) -> None:
    inbox = await setup_bot(client)
    r = await client.put("/api/v1/bot/settings", json={"always_human_tiers": ["strategic"]})
    assert r.status_code == 200, r.text
    r = await client.post("/api/v1/contacts", json={
        "name": "王总", "tier": "strategic",
        "identities": [{"kind": "visitor_id", "value": "v-vip"}]})
    assert r.status_code == 201, r.text
    base = f"{server.ws_url}/ws/chat?inbox_id={inbox}"
    async with connect(f"{server.ws_url}/ws/agent?token={admin_token}") as agent:
        await recv(agent, "hello")
        async with connect(f"{base}&visitor_id=v-vip") as vis:
            await recv(vis, "hello")
            await say(vis, "宽带断网了", "v1")
            frame = await recv(agent, "conversation.handoff", timeout=15)
            assert frame["handoff"]["reason"] == "always_human"
            assert frame["handoff"]["tier"] == "strategic"
        async with connect(f"{base}&visitor_id=v-3") as vis:
            await recv(vis, "hello")
            await say(vis, "你好", "n1")
            await bot_says(vis)
            await say(vis, "我家的猫咪不吃猫粮怎么办", "n2")
            frame = await recv(agent, "conversation.handoff", timeout=15)
            assert frame["handoff"]["reason"] == "not_confident"
            assert frame["handoff"]["intents"][-1]["in_scope"] is False


async def test_bad_input_is_refused_with_reasons(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/nlu/train")
    assert r.status_code == 422 and "two intents" in r.text
    r = await client.post("/api/v1/nlu/utterances",
                          files={"file": ("u.csv", b"text,label\nonly text\n", "text/csv")})
    assert r.status_code == 422 and "row 1" in r.text
    r = await client.post("/api/v1/nlu/utterances",
                          files={"file": ("u.csv", b"\xff\xfe\x00\x01", "text/csv")})
    assert r.status_code == 422 and "UTF-8" in r.text
    r = await client.put("/api/v1/bot/settings", json={"max_unhelpful": 0})
    assert r.status_code == 422
    r = await client.put("/api/v1/bot/settings", json={"min_confidence": 2})
    assert r.status_code == 422
    r = await client.post("/api/v1/nlu/utterances", files={"file": (
        "u.csv", "text,label\n我要退款,refund\nrefund please,refund\n".encode(), "text/csv")})
    assert r.status_code == 201 and r.json() == {"imported": 2, "total": 2}


@pytest.mark.parametrize("text", ["没有", "no", "didn't help"])
def test_unhelpful_words(text: str) -> None:
    from omnidesk.bot.texts import feedback

    assert feedback(text) is False
    assert feedback("I don't know") is None


@pytest.mark.parametrize(("confidence", "stale", "answered"), [
    (0.70, False, True), (0.70, True, False), (0.86, True, True), (0.59, False, False),
])
def test_the_bot_trusts_a_stale_article_less(confidence: float, stale: bool,
                                             answered: bool) -> None:
    from omnidesk.bot.engine import trusted

    assert trusted(confidence, 0.6, stale) is answered  # stale: needs 0.8 here
