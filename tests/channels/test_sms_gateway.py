"""SMS against the live server: inbound (JSON and form, Vonage's recorded shapes), long
messages joined from parts in any order, opt-out keywords as consent, replies through a
local gateway stub (segments, signature, idempotency key), delivery receipts."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from string import Template
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from omnidesk.channels.sms.segments import encoding_of, split
from omnidesk.kit.security import check_webhook_signature
from tests.channels.test_voice_support import (
    FIXTURES,
    SECRET,
    make_inbox,
    post_signed,
    signed_headers,
    timeline,
)
from tests.conftest import free_port


def vonage(name: str, **values: Any) -> dict[str, Any]:
    defaults = {"msisdn": "8613800138000", "message_id": uuid.uuid4().hex[:16].upper(),
                "text": "", "keyword": "", "ref": "7", "total": "1", "part": "1",
                "status": "delivered", "err_code": "0", "to": "8613800138000"}
    raw = Template((FIXTURES / "sms" / f"{name}.json").read_text())
    return dict(json.loads(raw.substitute({**defaults, **values})))


async def post_form(anon: httpx.AsyncClient, url: str, fields: dict[str, Any],
                    ts: int | None = None) -> httpx.Response:
    body = urllib.parse.urlencode(fields).encode()
    return await anon.post(url, content=body, headers=signed_headers(
        body, ts=ts, content_type="application/x-www-form-urlencoded"))


class Gateway:
    """An SMS gateway on a local port: records sends, answers Vonage's recorded shape."""

    def __init__(self) -> None:
        self.port = free_port()
        self.sends: list[dict[str, Any]] = []
        app = Starlette(routes=[Route("/send", self.send, methods=["POST"])])
        self.server = uvicorn.Server(uvicorn.Config(app, port=self.port, log_level="warning"))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/send"

    async def send(self, request: Request) -> JSONResponse:
        body = await request.body()
        reason = check_webhook_signature(
            SECRET, request.headers.get("x-omnidesk-timestamp"),
            request.headers.get("x-omnidesk-signature"), body, 300)
        if reason:
            return JSONResponse({"error": reason}, status_code=401)
        sent = {"body": json.loads(body), "headers": dict(request.headers),
                "id": f"0B0000{len(self.sends):010d}"}
        self.sends.append(sent)
        answer = Template((FIXTURES / "sms" / "gateway_send_ok.json").read_text()).substitute(
            to=sent["body"]["to"].lstrip("+"), message_id=sent["id"])
        return JSONResponse(json.loads(answer))


@asynccontextmanager
async def gateway() -> AsyncIterator[Gateway]:
    stub = Gateway()
    task = asyncio.create_task(stub.server.serve())
    while not stub.server.started:
        await asyncio.sleep(0.02)
    try:
        yield stub
    finally:
        stub.server.should_exit = True
        await task


async def _messages(client: httpx.AsyncClient, conv: str) -> list[dict[str, Any]]:
    r = await client.get(f"/api/v1/conversations/{conv}/messages")
    return list(r.json()["items"])


async def _reply(client: httpx.AsyncClient, conv: str, body: str) -> dict[str, Any]:
    r = await client.post(f"/api/v1/conversations/{conv}/messages", json={"body": body})
    assert r.status_code == 201, r.text
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for m in await _messages(client, conv):
            if m["id"] == r.json()["id"] and m["delivery_status"]:
                return m
        await asyncio.sleep(0.05)
    raise AssertionError("the reply was not delivered")


def test_segments_gsm7_and_ucs2() -> None:
    assert split("a" * 160) == ("gsm7", ["a" * 160])
    enc, parts = split("a" * 161)
    assert enc == "gsm7" and [len(p) for p in parts] == [153, 8]
    assert split("€" * 80)[1] == ["€" * 80]  # 160 septets: one segment
    enc, parts = split("€" * 81)  # extension characters take two septets
    assert enc == "gsm7" and [len(p) for p in parts] == [76, 5]
    assert split("你" * 70) == ("ucs2", ["你" * 70])
    enc, parts = split("你" * 71)
    assert enc == "ucs2" and [len(p) for p in parts] == [67, 4]
    enc, parts = split("a" * 66 + "😀" + "b")  # 66 + 2 code units + 1 = 69 → one segment
    assert parts == ["a" * 66 + "😀b"]
    enc, parts = split("a" * 66 + "😀" * 3)  # the emoji never straddles two parts
    assert enc == "ucs2" and parts == ["a" * 66, "😀" * 3]
    assert encoding_of("Hello @ £5 {ok}") == "gsm7" and encoding_of("Olá ç") == "ucs2"


async def test_inbound_json_and_form_retries_and_bad_input(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    inbox = await make_inbox(client, "sms")
    url = f"/channels/sms/{inbox['id']}/inbound"
    payload = {"from": "13800138000", "to": "10690000", "text": "宽带账单有问题",
               "message_id": "gw-1"}
    r = await post_signed(anon, url, payload)
    assert r.status_code == 201, r.text
    conv, contact_id = r.json()["conversation_id"], r.json()["contact_id"]
    again = await post_signed(anon, url, payload, ts=int(time.time()) - 120)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    r = await post_form(anon, url, vonage("vonage_inbound", message_id="0A00000012345678",
                                          text="还有，网速很慢"))
    assert r.status_code == 201, r.text
    assert r.json()["conversation_id"] == conv
    msgs = await _messages(client, conv)
    assert [m["body"] for m in msgs] == ["宽带账单有问题", "还有，网速很慢"]
    assert msgs[1]["data"]["sms"]["from"] == "+8613800138000"
    assert msgs[1]["created_at"].startswith("2026-11-30T02:00:00")
    (entry,) = await timeline(client, contact_id)
    assert entry["channel"] == "sms"
    for bad, reason in (({"to": "1", "text": "x", "message_id": "m"}, "'from'"),
                        ({"from": "13800138000", "text": "x"}, "message_id"),
                        ({"from": "abc", "text": "x", "message_id": "m2"}, "phone"),
                        ({"from": "13800138000", "text": "x", "message_id": "m3", "ref": "1",
                          "total": "2"}, "together"),
                        ({"from": "13800138000", "text": "x", "message_id": "m4", "ref": "1",
                          "total": "2", "part": "3"}, "part must be"),
                        ({"from": "13800138000", "text": 5, "message_id": "m5"}, "string")):
        r = await post_signed(anon, url, bad)
        assert r.status_code == 422 and reason in r.json()["detail"], (bad, r.text)
    body = b"[1, 2]"
    r = await anon.post(url, content=body, headers=signed_headers(body))
    assert r.status_code == 400
    body = json.dumps(payload).encode()
    headers = signed_headers(body, secret="guessed-secret-000000")
    assert (await anon.post(url, content=body, headers=headers)).status_code == 401
    body9 = json.dumps({**payload, "message_id": "gw-9"}).encode()
    headers = signed_headers(body9)
    assert (await anon.post(url, content=body9, headers=headers)).status_code == 201
    r = await anon.post(url, content=body9, headers=headers)
    assert r.status_code == 409 and "replay" in r.json()["detail"]


async def test_long_message_parts_in_any_order_become_one_message(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    inbox = await make_inbox(client, "sms")
    url = f"/channels/sms/{inbox['id']}/inbound"
    texts = {1: "您好，我上个月办理的宽带套餐", 2: "到现在还没有开通，客服电话一直",
             3: "打不进去，请尽快处理。"}
    ids = {p: f"0B00000000000{p}" for p in texts}
    statuses = []
    for part in (3, 1, 2):
        r = await post_form(anon, url, vonage("vonage_inbound_part", message_id=ids[part],
                                              text=texts[part], ref="A7", total="3",
                                              part=str(part)))
        statuses.append((r.status_code, r.json()["status"]))
        if part == 1:  # the gateway retries a part
            retry = await post_form(anon, url, vonage(
                "vonage_inbound_part", message_id=ids[1], text=texts[1], ref="A7", total="3",
                part="1"), ts=int(time.time()) - 120)
            assert retry.json()["status"] == "duplicate"
    assert statuses == [(202, "part_stored"), (202, "part_stored"), (201, "accepted")]
    conv = r.json()["conversation_id"]
    (msg,) = await _messages(client, conv)
    assert msg["body"] == texts[1] + texts[2] + texts[3]
    assert msg["data"]["sms"]["message_ids"] == [ids[1], ids[2], ids[3]]
    # the phone reuses the reference for a later long message: a new one
    for part, text in ((1, "第二条"), (2, "长短信")):
        r = await post_signed(anon, url, {"from": "+8613800138000", "text": text,
                                          "message_id": f"later-{part}", "ref": "A7",
                                          "total": 2, "part": part})
    assert r.status_code == 201
    assert [m["body"] for m in await _messages(client, conv)][-1] == "第二条长短信"


async def test_opt_out_is_consent_and_stops_outbound_until_opt_in(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    async with gateway() as gw:
        inbox = await make_inbox(client, "sms", gateway_url=gw.url, sender="10690000",
                                 gateway_token="gw-token")
        url = f"/channels/sms/{inbox['id']}/inbound"
        r = await post_signed(anon, url, {"from": "+8613800138001", "text": "查询话费",
                                          "message_id": "c-1"})
        conv, contact_id = r.json()["conversation_id"], r.json()["contact_id"]
        long_text = "您好，" + "您的宽带已恢复正常使用，" * 8
        sent = await _reply(client, conv, long_text)
        assert sent["delivery_status"] == "sent"
        assert sent["external_id"] == gw.sends[0]["id"]
        (send,) = gw.sends
        assert send["body"]["to"] == "+8613800138001" and send["body"]["from"] == "10690000"
        assert send["body"]["encoding"] == "ucs2"
        assert "".join(send["body"]["segments"]) == long_text
        assert all(len(s) <= 67 for s in send["body"]["segments"])
        assert len(send["body"]["segments"]) == 2
        assert send["headers"]["idempotency-key"] == sent["id"]
        assert send["headers"]["authorization"] == "Bearer gw-token"
        for n, word in enumerate(["ＴＤ", "退訂", " Stop! ", "取消订阅", "unsubscribe"]):
            r = await post_signed(anon, url, {"from": "+8613800138001", "text": word,
                                              "message_id": f"out-{n}"})
            assert r.status_code == 200 and r.json()["consent"] == "opt_out", (word, r.text)
        contact = (await client.get(f"/api/v1/contacts/{contact_id}")).json()
        assert contact["attributes"]["sms_opt_out"] is True
        events = await timeline(client, contact_id, kind="event")
        assert {e["type"] for e in events} == {"consent.sms_opt_out"} and len(events) == 5
        refused = await _reply(client, conv, "最后一条通知")
        assert refused["delivery_status"] == "failed"
        assert "opted out of SMS" in refused["data"]["delivery"]["detail"]
        assert len(gw.sends) == 1  # nothing went to the gateway
        # a message that merely contains a keyword is a message
        r = await post_signed(anon, url, {"from": "+8613800138001",
                                          "text": "我想退订流量包，怎么操作", "message_id": "c-2"})
        assert r.status_code == 201
        r = await post_signed(anon, url, {"from": "+8613800138001", "text": "START",
                                          "message_id": "in-1"})
        assert r.json()["consent"] == "opt_in"
        assert (await _reply(client, conv, "好的"))["delivery_status"] == "sent"
        assert len(gw.sends) == 2 and gw.sends[1]["body"]["encoding"] == "ucs2"


async def test_delivery_receipts_update_the_message(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    async with gateway() as gw:
        inbox = await make_inbox(client, "sms", gateway_url=gw.url)
        r = await post_signed(anon, f"/channels/sms/{inbox['id']}/inbound", {
            "from": "+8613800138002", "text": "hello", "message_id": "r-1"})
        conv = r.json()["conversation_id"]
        sent = await _reply(client, conv, "Your order has shipped.")
        assert gw.sends[0]["body"]["encoding"] == "gsm7"
        url = f"/channels/sms/{inbox['id']}/receipts"
        r = await post_form(anon, url, vonage("vonage_receipt",
                                              message_id=sent["external_id"]))
        assert r.status_code == 200 and r.json()["delivery_status"] == "delivered"
        late = await post_form(anon, url, vonage("vonage_receipt", status="accepted",
                                                 message_id=sent["external_id"]))
        assert late.json()["status"] == "ignored"  # never back from delivered to sent
        (_, msg) = await _messages(client, conv)
        assert msg["delivery_status"] == "delivered"
        assert [x["status"] for x in msg["data"]["delivery"]["receipts"]] == [
            "delivered", "accepted"]
        r = await post_form(anon, url, vonage("vonage_receipt", message_id="NOPE"))
        assert r.status_code == 404 and r.json()["quarantined"] is True
        r = await post_form(anon, url, vonage("vonage_receipt", status="lost",
                                              message_id=sent["external_id"]))
        assert r.status_code == 422 and "unknown receipt status" in r.json()["detail"]
