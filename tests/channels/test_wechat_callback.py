"""The WeChat callback against the live server: URL check, plain and safe mode, every
message kind, events, retries stored once, and the errors WeChat can cause."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest

from omnidesk.channels.wechat.config import DEFAULT_GREETING, ConfigError, WeChatConfig
from omnidesk.channels.wechat.responders import (
    Interaction,
    passive_reply,
    register_responder,
    unregister_responder,
)
from tests.channels.test_wechat_support import (
    AES_KEY,
    conversations,
    decrypt,
    encrypt,
    make_inbox,
    messages,
    post,
    signed,
    wechat_stub,
    xml,
)


async def test_url_check_echoes_echostr_only_when_signed(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    inbox = await make_inbox(client, None)
    url = f"/channels/wechat/{inbox['id']}"
    r = await anon.get(url, params=signed(echostr="5837397520521614278"))
    assert r.status_code == 200 and r.text == "5837397520521614278"
    r = await anon.get(url, params=signed(token="not-the-token", echostr="1"))
    assert r.status_code == 403 and r.text == "invalid signature"
    assert r.headers["content-type"].startswith("text/plain")
    r = await anon.get(url, params={"echostr": "1"})
    assert r.status_code == 403
    r = await anon.get("/channels/wechat/0190b0a0-0000-7000-8000-000000000000",
                       params=signed(echostr="1"))
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/plain")
    r = await anon.get("/channels/wechat/not-a-uuid", params=signed(echostr="1"))
    assert r.status_code == 404
    api = (await client.post("/api/v1/inboxes", json={"channel": "api", "name": "API"})).json()
    r = await anon.get(f"/channels/wechat/{api['id']}", params=signed(echostr="1"))
    assert r.status_code == 404  # not a WeChat inbox
    broken = (await client.post("/api/v1/inboxes", json={
        "channel": "wechat", "name": "No token", "config": {"app_id": "wx1"}})).json()
    r = await anon.get(f"/channels/wechat/{broken['id']}", params=signed(echostr="1"))
    assert r.status_code == 503 and "token" in r.text


async def test_text_message_opens_conversation_with_openid_and_timeline(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    async with wechat_stub() as stub:
        inbox = await make_inbox(client, stub)
        body = xml("text", "oUser-text-1", content="宽带又断了，帮我看看", msg_id=23857468394)
        r = await post(anon, inbox, body)
        assert r.status_code == 200 and r.text == "success"
        (conv,) = await conversations(client, inbox)
        assert conv["channel"] == "wechat" and conv["status"] == "open"
        (msg,) = await messages(client, conv["id"])
        assert msg["body"] == "宽带又断了，帮我看看" and msg["sender_type"] == "contact"
        assert msg["external_id"] == "23857468394"
        assert msg["data"]["wechat"]["MsgType"] == "text"
        assert msg["data"]["reply_window_ends_at"]
        contact = (await client.get(f"/api/v1/contacts/{conv['contact_id']}")).json()
        assert {(i["kind"], i["value"]) for i in contact["identities"]} == {
            ("wechat_openid", "oUser-text-1")}
        timeline = (await client.get(
            f"/api/v1/contacts/{conv['contact_id']}/timeline")).json()["items"]
        assert [(t["kind"], t["channel"], t["summary"]) for t in timeline] == [
            ("conversation", "wechat", "宽带又断了，帮我看看")]
        window = (await client.get(
            f"/channels/wechat/{inbox['id']}/window/{conv['id']}")).json()
        assert window["open"] is True
        assert window["reply_window_ends_at"] == msg["data"]["reply_window_ends_at"]
        r = await anon.get(f"/channels/wechat/{inbox['id']}/window/{conv['id']}")
        assert r.status_code == 401  # staff only
        other = await make_inbox(client, stub)
        r = await client.get(f"/channels/wechat/{other['id']}/window/{conv['id']}")
        assert r.status_code == 404


async def test_retried_message_and_event_are_stored_once(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    async with wechat_stub() as stub:
        inbox = await make_inbox(client, stub, greeting="")
        body = xml("text", "oUser-retry", content="hello", msg_id=6100000000000001)
        for _ in range(3):  # WeChat retries three times when it gets no answer in time
            assert (await post(anon, inbox, body)).text == "success"
        (conv,) = await conversations(client, inbox)
        assert len(await messages(client, conv["id"])) == 1
        event = xml("event_subscribe", "oUser-retry", create_time=int(time.time()) - 5)
        for _ in range(2):
            assert (await post(anon, inbox, event)).text == "success"
        timeline = (await client.get(
            f"/api/v1/contacts/{conv['contact_id']}/timeline",
            params={"kind": "event"})).json()["items"]
        assert [t["type"] for t in timeline] == ["wechat.subscribe"]


async def test_bad_signature_malformed_xml_and_unknown_inbox(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    async with wechat_stub() as stub:
        inbox = await make_inbox(client, stub)
        good = xml("text", "oUser-bad", content="hi")
        r = await post(anon, inbox, good, params=signed(token="guess"))
        assert r.status_code == 403 and r.text == "invalid signature"
        r = await post(anon, inbox, good, params={"timestamp": "1", "nonce": "2"})
        assert r.status_code == 403
        for garbage in ("not xml at all", "<xml>hi</xml>", "<xml><Content>x</Content>",
                        "<xml><MsgType>text</MsgType><CreateTime>1</CreateTime></xml>",
                        good.replace(str(int(time.time()))[:5], "abcde", 1)):
            r = await post(anon, inbox, garbage)
            assert r.status_code == 400, (garbage, r.text)
            assert r.headers["content-type"].startswith("text/plain")
        r = await post(anon, inbox, good.replace("hi", "x" * 300_000))
        assert r.status_code == 413
        r = await anon.post("/channels/wechat/0190b0a0-0000-7000-8000-000000000000",
                            params=signed(), content=good.encode())
        assert r.status_code == 404
        sealed, params = encrypt(inbox, good)
        r = await post(anon, inbox, sealed, params={**params, "msg_signature": "0" * 40})
        assert r.status_code == 403
        r = await post(anon, inbox, sealed.replace("<Encrypt>", "<Encrypt>AAAA"), params=params)
        assert r.status_code == 403  # the ciphertext no longer matches msg_signature
        assert await conversations(client, inbox) == []
        safe = await make_inbox(client, stub, mode="safe")
        r = await post(anon, safe, good)
        assert r.status_code == 403 and "encrypted" in r.text


async def test_voice_image_location_link_are_stored_with_their_data(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    async with wechat_stub() as stub:
        inbox = await make_inbox(client, stub)
        now = int(time.time())
        for i, kind in enumerate(("voice", "image", "location", "link")):
            r = await post(anon, inbox, xml(kind, "oUser-media", create_time=now - 10 + i))
            assert r.text == "success"
        (conv,) = await conversations(client, inbox)
        voice, image, location, link = await messages(client, conv["id"])
        assert voice["body"] == "我的宽带从昨晚开始就断了"  # WeChat's speech recognition
        assert voice["data"]["wechat"]["Format"] == "amr"
        assert image["body"] == "[image]"
        assert image["data"]["wechat"]["PicUrl"].startswith("http://mmbiz.qpic.cn/")
        assert image["data"]["wechat"]["MediaId"].startswith("8Ue4nG4T")
        assert location["body"] == "[location] 广州市天河区天河路385号"
        assert location["data"]["location"] == {
            "latitude": 23.134521, "longitude": 113.358803, "label": "广州市天河区天河路385号"}
        assert location["data"]["wechat"]["Location_X"] == "23.134521"
        assert link["data"]["wechat"]["Url"] == "https://www.speedtest.net/result/15836241789"
        assert link["data"]["wechat"]["Title"] == "Speed test result"
        assert link["body"].startswith("Speed test result\n")


async def test_events_are_timeline_activities_and_subscribe_greets(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    async with wechat_stub() as stub:
        inbox = await make_inbox(client, stub)
        now = int(time.time())
        r = await post(anon, inbox, xml("event_subscribe", "oUser-ev", create_time=now - 40))
        reply = r.text
        assert r.status_code == 200 and "<MsgType><![CDATA[text]]></MsgType>" in reply
        assert f"<Content><![CDATA[{DEFAULT_GREETING}]]></Content>" in reply
        assert "<ToUserName><![CDATA[oUser-ev]]></ToUserName>" in reply
        for i, name in enumerate(("event_scan", "event_unsubscribe", "event_subscribe_scan")):
            r = await post(anon, inbox, xml(name, "oUser-ev", create_time=now - 30 + i))
            assert r.status_code == 200
        r = await post(anon, inbox, xml("event_click", "oUser-ev", create_time=now - 20))
        assert r.text == "success"
        (conv,) = await conversations(client, inbox)
        greeting, _, click = await messages(client, conv["id"])
        assert (greeting["sender_type"], greeting["body"]) == ("system", DEFAULT_GREETING)
        assert greeting["delivery_status"] == "sent"
        assert greeting["data"]["delivery"]["via"] == "passive"
        assert (click["sender_type"], click["body"]) == ("contact", "[menu] MENU_HUMAN_AGENT")
        events = (await client.get(f"/api/v1/contacts/{conv['contact_id']}/timeline",
                                   params={"kind": "event"})).json()["items"]
        assert [e["type"] for e in events] == ["wechat.subscribe_scan", "wechat.unsubscribe",
                                               "wechat.scan", "wechat.subscribe"]
        assert {(e["channel"], e["source"]) for e in events} == {
            ("wechat", f"wechat:{inbox['id']}")}
        assert events[0]["summary"] == "Followed the official account from QR code store_0451"
        assert events[2]["data"]["wechat"]["EventKey"] == "store_0451"
        assert len(stub.sends) == 0  # the greetings went back in the callback's answer


async def test_safe_mode_decrypts_and_encrypts_the_passive_reply(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    async def echo(interaction: Interaction) -> str | None:
        return f"收到：{interaction.text}" if interaction.msg_type == "text" else None

    register_responder("test.echo", echo)
    try:
        async with wechat_stub() as stub:
            inbox = await make_inbox(client, stub, mode="safe")
            sealed, params = encrypt(inbox, xml("text", "oUser-aes", content="查一下话费"))
            assert "查一下话费" not in sealed
            r = await post(anon, inbox, sealed, params=params)
            assert r.status_code == 200, r.text
            assert "<Encrypt>" in r.text and "收到" not in r.text
            answer = decrypt(inbox, r.text)
            assert answer["Content"] == "收到：查一下话费"
            assert answer["ToUserName"] == "oUser-aes"
            (conv,) = await conversations(client, inbox)
            asked, answered = await messages(client, conv["id"])
            assert asked["body"] == "查一下话费" and asked["data"]["encrypted"] is True
            assert (answered["sender_type"], answered["delivery_status"]) == ("bot", "sent")
    finally:
        unregister_responder("test.echo")


async def test_a_failing_responder_is_skipped_and_the_next_one_answers(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    async def broken(_: Interaction) -> str | None:
        raise RuntimeError("the knowledge base is down")

    async def faq(interaction: Interaction) -> str | None:
        return "营业时间：9:00-21:00" if "营业时间" in interaction.text else None

    register_responder("test.broken", broken)
    register_responder("test.faq", faq)
    try:
        async with wechat_stub() as stub:
            inbox = await make_inbox(client, stub)
            r = await post(anon, inbox, xml("text", "oUser-faq", content="营业时间？"))
            assert "<Content><![CDATA[营业时间：9:00-21:00]]></Content>" in r.text
            r = await post(anon, inbox, xml("text", "oUser-faq", content="别的问题"))
            assert r.text == "success"
    finally:
        unregister_responder("test.broken")
        unregister_responder("test.faq")



async def test_a_slow_responder_is_cut_off_at_the_deadline() -> None:
    started = asyncio.Event()

    async def slow(_: Interaction) -> str | None:
        started.set()
        await asyncio.sleep(30)
        return "too late"

    async def never_asked(_: Interaction) -> str | None:
        raise AssertionError("asked after the budget was spent")

    register_responder("test.slow", slow)
    register_responder("test.never", never_asked)
    try:
        cfg = WeChatConfig.from_dict({"app_id": "wx1", "token": "t"})
        interaction = Interaction(
            inbox_id=uuid.uuid4(), config=cfg, openid="o1", contact_id=uuid.uuid4(),
            msg_type="text", event=None, text="hello", conversation_id=None)
        t0 = time.monotonic()
        assert await passive_reply(interaction, deadline=t0 + 0.3) is None
        assert started.is_set() and time.monotonic() - t0 < 1.0
    finally:
        unregister_responder("test.slow")
        unregister_responder("test.never")


def test_inbox_config_is_checked() -> None:
    good = {"app_id": "wx1", "token": "t", "encoding_aes_key": AES_KEY}
    assert WeChatConfig.from_dict(good).mode == "compatible"
    assert WeChatConfig.from_dict(good).api_base_url == "https://api.weixin.qq.com"
    for bad in ({"app_id": "wx1"}, {**good, "encoding_aes_key": "short"},
                {**good, "mode": "loud"}, {"app_id": "wx1", "token": "t", "mode": "safe"},
                {**good, "api_timeout_seconds": 0}):
        with pytest.raises(ConfigError):
            WeChatConfig.from_dict(bad)
