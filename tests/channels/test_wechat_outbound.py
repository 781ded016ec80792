"""Agent replies on WeChat: through the outbox to the customer-service message API (a
local stub serving WeChat's recorded payloads), the 48-hour window, token refresh, and
the unionid linking one person across the company's accounts."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx

from omnidesk.channels.wechat import api
from omnidesk.channels.wechat.config import WeChatConfig
from omnidesk.channels.wechat.window import OUTSIDE_WINDOW
from tests.channels.test_wechat_support import (
    APP_SECRET,
    conversations,
    make_inbox,
    messages,
    post,
    wechat_stub,
    xml,
)


async def _customer_writes(client: httpx.AsyncClient, anon: httpx.AsyncClient,
                           inbox: dict[str, Any], openid: str, *,
                           hours_ago: float = 0) -> dict[str, Any]:
    """The follower sends a text; returns the conversation it landed in."""
    at = int(time.time() - hours_ago * 3600)
    r = await post(anon, inbox, xml("text", openid, content="我的订单还没到", create_time=at))
    assert r.text == "success", r.text
    for conv in await conversations(client, inbox):
        for m in await messages(client, conv["id"]):
            if (m["data"].get("wechat") or {}).get("FromUserName") == openid:
                return dict(conv)
    raise AssertionError(f"no conversation with {openid}")


async def _agent_replies(client: httpx.AsyncClient, conv: dict[str, Any],
                         body: str) -> dict[str, Any]:
    """An agent answers; returns the message once the outbox has recorded its delivery."""
    r = await client.post(f"/api/v1/conversations/{conv['id']}/messages", json={"body": body})
    assert r.status_code == 201, r.text
    mid = r.json()["id"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for m in await messages(client, conv["id"]):
            if m["id"] == mid and m["delivery_status"]:
                return m
        await asyncio.sleep(0.05)
    raise AssertionError("the reply was not delivered")


async def test_agent_reply_goes_out_through_the_customer_service_api(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    async with wechat_stub() as stub:
        inbox = await make_inbox(client, stub)
        conv = await _customer_writes(client, anon, inbox, "oUser-out")
        sent = await _agent_replies(client, conv, "您好，订单明天送达。")
        assert sent["delivery_status"] == "sent", sent["data"]
        assert sent["data"]["delivery"]["status"] == "sent"
        await _agent_replies(client, conv, "还有其他问题吗？")
        assert [s["body"] for s in stub.sends] == [
            {"touser": "oUser-out", "msgtype": "text", "text": {"content": "您好，订单明天送达。"}},
            {"touser": "oUser-out", "msgtype": "text", "text": {"content": "还有其他问题吗？"}},
        ]
        # the access token is cached for its expires_in: fetched once for both
        assert stub.tokens_issued == 1
        assert {s["access_token"] for s in stub.sends} == {stub.current_token()}


async def test_outside_the_48_hour_window_the_api_is_not_called(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    async with wechat_stub() as stub:
        inbox = await make_inbox(client, stub)
        conv = await _customer_writes(client, anon, inbox, "oUser-late", hours_ago=49)
        window = (await client.get(
            f"/channels/wechat/{inbox['id']}/window/{conv['id']}")).json()
        assert window["open"] is False and window["reply_window_ends_at"]
        failed = await _agent_replies(client, conv, "抱歉回复晚了")
        assert failed["delivery_status"] == "failed"
        assert failed["data"]["delivery"]["detail"] == OUTSIDE_WINDOW
        assert stub.sends == []
        # the customer writes again: the window reopens and replies go out
        await _customer_writes(client, anon, inbox, "oUser-late")
        window = (await client.get(
            f"/channels/wechat/{inbox['id']}/window/{conv['id']}")).json()
        assert window["open"] is True
        assert (await _agent_replies(client, conv, "现在帮您查"))["delivery_status"] == "sent"


async def test_invalid_credential_refreshes_the_token_and_retries(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    async with wechat_stub() as stub:
        inbox = await make_inbox(client, stub)
        conv = await _customer_writes(client, anon, inbox, "oUser-40001")
        stub.send_answers = ["invalid_credential_40001"]  # another server took a new token
        sent = await _agent_replies(client, conv, "已为您处理")
        assert sent["delivery_status"] == "sent"
        assert stub.tokens_issued == 2
        first, second = stub.sends
        assert first["access_token"] != second["access_token"] == stub.current_token()
        assert second["body"]["text"]["content"] == "已为您处理"


async def test_45015_from_wechat_fails_the_reply_with_the_reason(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    async with wechat_stub() as stub:
        inbox = await make_inbox(client, stub)
        conv = await _customer_writes(client, anon, inbox, "oUser-45015")
        stub.send_answers = ["custom_send_45015"]  # e.g. the follower unfollowed meanwhile
        failed = await _agent_replies(client, conv, "您好")
        assert failed["delivery_status"] == "failed"
        assert failed["data"]["delivery"]["detail"].startswith("WeChat error 45015: response "
                                                              "out of time limit")
        assert len(stub.sends) == 1  # a permanent refusal is not retried


async def test_unionid_links_one_person_across_two_official_accounts(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    async with wechat_stub() as stub:
        service = await make_inbox(client, stub, fetch_user_info=True)
        shop = await make_inbox(client, stub, fetch_user_info=True)
        stub.unionids = {"oService-ann": "oUnion-ann", "oShop-ann": "oUnion-ann"}
        first = await _customer_writes(client, anon, service, "oService-ann")
        second = await _customer_writes(client, anon, shop, "oShop-ann")

        async def linked() -> set[tuple[str, str]]:
            contact = (await client.get(f"/api/v1/contacts/{first['contact_id']}")).json()
            return {(i["kind"], i["value"]) for i in contact["identities"]}

        deadline = time.monotonic() + 10
        while len(await linked()) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert await linked() == {("wechat_openid", "oService-ann"),
                                  ("wechat_openid", "oShop-ann"),
                                  ("wechat_unionid", "oUnion-ann")}
        assert sorted(stub.user_info_calls) == ["oService-ann", "oShop-ann"]
        one = {(await client.get(f"/api/v1/contacts/{c['contact_id']}")).json()["id"]
               for c in (first, second)}
        assert len(one) == 1  # both followed to the surviving contact
        timeline = (await client.get(f"/api/v1/contacts/{one.pop()}/timeline")).json()
        assert len(timeline["items"]) == 2  # both accounts' conversations, one person
        # each account answers on its own openid
        await _agent_replies(client, second, "商城订单已发货")
        await _agent_replies(client, first, "客服已收到")
        assert [s["body"]["touser"] for s in stub.sends] == ["oShop-ann", "oService-ann"]


async def test_unionid_in_the_message_is_an_identity(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    async with wechat_stub() as stub:
        inbox = await make_inbox(client, stub)
        body = xml("text", "oUser-u", content="hi").replace(
            "</xml>", "<UnionId><![CDATA[oUnion-in-msg]]></UnionId></xml>")
        assert (await post(anon, inbox, body)).text == "success"
        (conv,) = await conversations(client, inbox)
        contact = (await client.get(f"/api/v1/contacts/{conv['contact_id']}")).json()
        assert {(i["kind"], i["value"]) for i in contact["identities"]} == {
            ("wechat_openid", "oUser-u"), ("wechat_unionid", "oUnion-in-msg")}
        assert stub.user_info_calls == []


async def test_token_cache_respects_expires_in() -> None:
    async with wechat_stub() as stub:
        stub.token_expires_in = 30  # under wechatpy's one-minute margin: always stale
        cfg = WeChatConfig.from_dict({"app_id": "wxcache", "token": "t",
                                      "app_secret": APP_SECRET, "api_base_url": stub.url})
        inbox_id = uuid.uuid4()
        await api.send_text(inbox_id, cfg, "oUser-cache", "one")
        await api.send_text(inbox_id, cfg, "oUser-cache", "two")
        assert stub.tokens_issued == 2
        stub.token_expires_in = 7200
        other = uuid.uuid4()
        await api.send_text(other, cfg, "oUser-cache", "three")
        await api.send_text(other, cfg, "oUser-cache", "four")
        assert stub.tokens_issued == 3

