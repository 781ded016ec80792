"""Shared by the WeChat tests: a stub of WeChat's server API serving recorded payloads on a
real local port, the callback's signing (plain and AES) and inbox set-up. No tests here."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from string import Template
from typing import Any

import httpx
import uvicorn
import xmltodict
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from tests.conftest import free_port

FIXTURES = Path(__file__).parent / "fixtures" / "wechat"
TOKEN = "omnidesk-wechat-token"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"  # 43 chars, as WeChat issues
APP_SECRET = "3f8c2b9e7d6a5f4e3d2c1b0a9f8e7d6c"


def payload(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / f"{name}.json").read_text()))


def xml(name: str, openid: str, *, create_time: int | None = None, msg_id: int | None = None,
        content: str = "") -> str:
    """A recorded callback body with this follower, time and message id filled in."""
    return Template((FIXTURES / f"{name}.xml").read_text()).substitute(
        openid=openid, create_time=create_time or int(time.time()),
        msg_id=msg_id or uuid.uuid4().int % 10**19, content=content)


class WeChatStub:
    """WeChat's API on a local port: access tokens, customer-service send, user info."""

    def __init__(self) -> None:
        self.port = free_port()
        self.tokens_issued = 0
        self.token_expires_in = 7200
        self.sends: list[dict[str, Any]] = []  # {"access_token", "body"}
        self.send_answers: list[str] = []  # payload names to answer next, then "ok"
        self.unionids: dict[str, str] = {}  # openid -> unionid the user-info API reports
        self.user_info_calls: list[str] = []
        app = Starlette(routes=[
            Route("/cgi-bin/token", self.token),
            Route("/cgi-bin/message/custom/send", self.send, methods=["POST"]),
            Route("/cgi-bin/user/info", self.user_info),
        ])
        self.server = uvicorn.Server(uvicorn.Config(app, port=self.port, log_level="warning"))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def current_token(self) -> str:
        return f"{payload('token')['access_token']}-{self.tokens_issued}"

    async def token(self, request: Request) -> JSONResponse:
        assert request.query_params["grant_type"] == "client_credential"
        assert request.query_params["secret"] == APP_SECRET
        self.tokens_issued += 1
        return JSONResponse({**payload("token"), "access_token": self.current_token(),
                             "expires_in": self.token_expires_in})

    async def send(self, request: Request) -> JSONResponse:
        self.sends.append({"access_token": request.query_params.get("access_token"),
                           "body": json.loads(await request.body())})
        name = self.send_answers.pop(0) if self.send_answers else "custom_send_ok"
        return JSONResponse(payload(name))

    async def user_info(self, request: Request) -> JSONResponse:
        openid = request.query_params["openid"]
        self.user_info_calls.append(openid)
        info = {**payload("user_info"), "openid": openid}
        if openid in self.unionids:
            info["unionid"] = self.unionids[openid]
        else:
            info.pop("unionid")  # an account not bound to the open platform has none
        return JSONResponse(info)


@asynccontextmanager
async def wechat_stub() -> AsyncIterator[WeChatStub]:
    stub = WeChatStub()
    task = asyncio.create_task(stub.server.serve())
    while not stub.server.started:
        await asyncio.sleep(0.02)
    try:
        yield stub
    finally:
        stub.server.should_exit = True
        await task


async def make_inbox(client: httpx.AsyncClient, stub: WeChatStub | None,
                     **config: Any) -> dict[str, Any]:
    app_id = "wx" + uuid.uuid4().hex[:16]
    cfg: dict[str, Any] = {"app_id": app_id, "token": TOKEN, "encoding_aes_key": AES_KEY,
                           "app_secret": APP_SECRET, "fetch_user_info": False}
    if stub is not None:
        cfg["api_base_url"] = stub.url
    else:  # no API to call: nothing may leave this machine
        cfg["api_base_url"] = "http://127.0.0.1:9"
    cfg.update(config)
    r = await client.post("/api/v1/inboxes", json={"channel": "wechat", "name": "Official account",
                                                   "config": cfg})
    assert r.status_code == 201, r.text
    return {**r.json(), "config": cfg}


def signed(token: str = TOKEN, **extra: str) -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce)
    return {"signature": signer.signature, "timestamp": timestamp, "nonce": nonce, **extra}


async def post(anon: httpx.AsyncClient, inbox: dict[str, Any], body: str,
               params: dict[str, str] | None = None) -> httpx.Response:
    return await anon.post(f"/channels/wechat/{inbox['id']}", params=params or signed(),
                           content=body.encode(), headers={"Content-Type": "text/xml"})


def encrypt(inbox: dict[str, Any], body: str) -> tuple[str, dict[str, str]]:
    """The body and query WeChat sends in safe mode."""
    params = signed()
    crypto = WeChatCrypto(TOKEN, AES_KEY, inbox["config"]["app_id"])
    sealed = xmltodict.parse(crypto.encrypt_message(body, params["nonce"], params["timestamp"]))
    outer = xmltodict.unparse({"xml": {"ToUserName": "gh_3f5a1c2b7d90",
                                       "Encrypt": sealed["xml"]["Encrypt"]}})
    return outer, {**params, "encrypt_type": "aes",
                   "msg_signature": sealed["xml"]["MsgSignature"]}


def decrypt(inbox: dict[str, Any], reply: str) -> dict[str, Any]:
    sealed = xmltodict.parse(reply)["xml"]
    crypto = WeChatCrypto(TOKEN, AES_KEY, inbox["config"]["app_id"])
    plain = crypto.decrypt_message(reply, sealed["MsgSignature"], sealed["TimeStamp"],
                                   sealed["Nonce"])
    return dict(xmltodict.parse(plain)["xml"])


async def conversations(client: httpx.AsyncClient, inbox: dict[str, Any]) -> list[Any]:
    r = await client.get("/api/v1/conversations", params={"inbox_id": inbox["id"]})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def messages(client: httpx.AsyncClient, conversation_id: str) -> list[dict[str, Any]]:
    r = await client.get(f"/api/v1/conversations/{conversation_id}/messages")
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def eventually(check: Any, timeout: float = 10.0) -> Any:
    """Poll an async check until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.05)
