"""WeChat official-account callbacks: signed POSTs → stored, against the bare parse.

The same stream of text messages (the recorded callback shape in
tests/channels/fixtures/wechat/text.xml; a pool of followers' openids smaller than the
stream, so most messages continue a follower's open conversation; every message with its
own MsgId; Chinese and English bodies) is, in plain mode and in safe (AES) mode:

- ``parse``     checked and read in this process by the channel's own protocol functions
                alone (``check_query_signature`` + ``read_message``: wechatpy's signature
                check, AES decryption in safe mode, the XML parse) — the baseline;
- ``callback``  POSTed, signed as WeChat signs it, to ``/channels/wechat/{inbox_id}`` of an
                omnidesk server running in its own process (``--clients`` requests in
                flight), each stored through ``inbox.receive`` (contact, openid identity,
                conversation, message, timeline, outbox) before WeChat's ``success``.

The inboxes are configured as a deployment's are (``app_secret`` set, user info fetched):
the server's outbox asks a stub of WeChat's API (the recorded token and user-info payloads,
on a local port) for each new follower's unionid, as it would ask api.weixin.qq.com.
No instant responder answers a text message (no bot model is trained in the bench
database), so the endpoint answers ``success`` as soon as the message is stored: it does
not wait out the 4.5 s passive-reply budget; the bench checks every answer is ``success``
and prints the slowest, so a wait would show.

Printed: messages/s of each, their ratio (callback / parse), and callback latencies.

Full run:   .venv/bin/python bench/bench_wechat.py                     (2,000 per mode)
Quick run:  .venv/bin/python bench/bench_wechat.py --messages 300 --database sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

import httpx
import uvicorn
import xmltodict
from _common import (
    ServerProcess,
    backends,
    base_parser,
    free_port,
    fresh_database,
    machine_info,
    ms,
    percentile,
    print_table,
)
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from omnidesk.channels.wechat.config import WeChatConfig
from omnidesk.channels.wechat.protocol import check_query_signature, read_message
from omnidesk.kit.db import Database
from omnidesk.models import Conversation, Inbox, Message

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "channels" / "fixtures" / "wechat"
TOKEN = "omnidesk-bench-wechat-token"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"  # 43 characters, as WeChat issues
APP_SECRET = "3f8c2b9e7d6a5f4e3d2c1b0a9f8e7d6c"
ACCOUNT = "gh_3f5a1c2b7d90"
TEXTS = ["宽带又断了，帮我看看", "我的订单什么时候发货？", "退款申请提交了三天还没到账",
         "請問你們的營業時間是幾點到幾點？", "帳單金額不對，多扣了一筆", "How do I change my plan?",
         "The app keeps logging me out", "积分怎么兑换话费", "发票抬头写错了能改吗",
         "I was charged twice for order A-1029"]
MODES = ("plain", "safe")


@dataclass
class Call:
    openid: str
    params: dict[str, str]
    body: bytes


# --------------------------------------------------------------------------- WeChat's API

class WeChatApiStub:
    """api.weixin.qq.com on a local port: access token and user info (recorded shapes)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.user_info_calls = 0
        app = Starlette(routes=[Route("/cgi-bin/token", self.token),
                                Route("/cgi-bin/user/info", self.user_info)])
        self.server = uvicorn.Server(uvicorn.Config(app, port=self.port, log_level="warning"))
        self.task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def token(self, request: Request) -> JSONResponse:
        return JSONResponse(json.loads((FIXTURES / "token.json").read_text()))

    async def user_info(self, request: Request) -> JSONResponse:
        openid = request.query_params["openid"]
        self.user_info_calls += 1
        info = json.loads((FIXTURES / "user_info.json").read_text())
        return JSONResponse({**info, "openid": openid, "unionid": "u" + openid[1:]})

    async def drained(self, calls: int, timeout: float = 300) -> None:
        """Wait (untimed) until ``calls`` user-info requests have been answered."""
        deadline = time.monotonic() + timeout
        while self.user_info_calls < calls:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.user_info_calls} of {calls} user-info calls made")
            await asyncio.sleep(0.1)

    async def __aenter__(self) -> WeChatApiStub:
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            await asyncio.sleep(0.02)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await self.task


# --------------------------------------------------------------------------- the stream

def inbox_config(mode: str, app_id: str, api_base_url: str) -> dict[str, Any]:
    return {"app_id": app_id, "token": TOKEN, "encoding_aes_key": AES_KEY,
            "app_secret": APP_SECRET, "api_base_url": api_base_url, "mode": mode,
            "fetch_user_info": True}


def signed(rng: random.Random) -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), f"{rng.getrandbits(40):010x}"
    signer = WeChatSigner()
    signer.add_data(TOKEN, timestamp, nonce)
    return {"signature": signer.signature, "timestamp": timestamp, "nonce": nonce}


def stream(mode: str, app_id: str, count: int, followers: int, seed: int) -> list[Call]:
    """``count`` signed callbacks (encrypted in safe mode), each with its own MsgId."""
    rng = random.Random(f"{seed}-{mode}")
    template = Template((FIXTURES / "text.xml").read_text())
    crypto = WeChatCrypto(TOKEN, AES_KEY, app_id)
    run = uuid.uuid4().int % 10**6
    out = []
    for i in range(count):
        openid = f"oBench-{mode}-{rng.randrange(followers):05d}"
        xml = template.substitute(
            openid=openid, create_time=int(time.time()),
            msg_id=f"{run:06d}{i:08d}{MODES.index(mode)}", content=rng.choice(TEXTS))
        params = signed(rng)
        if mode == "safe":
            sealed = xmltodict.parse(crypto.encrypt_message(xml, params["nonce"],
                                                            params["timestamp"]))["xml"]
            xml = xmltodict.unparse({"xml": {"ToUserName": ACCOUNT,
                                             "Encrypt": sealed["Encrypt"]}})
            params = {**params, "encrypt_type": "aes", "msg_signature": sealed["MsgSignature"]}
        out.append(Call(openid, params, xml.encode()))
    return out


# --------------------------------------------------------------------------- the modes

def bare_parse(cfg: WeChatConfig, calls: list[Call]) -> float:
    started = time.perf_counter()
    for call in calls:
        check_query_signature(cfg, call.params)
        incoming = read_message(cfg, call.params, call.body)
        assert incoming.msg_type == "text"
    return len(calls) / (time.perf_counter() - started)


async def post_all(server: ServerProcess, inbox_id: uuid.UUID, calls: list[Call],
                   clients: int) -> tuple[float, list[float]]:
    queue = list(reversed(calls))
    latencies: list[float] = []

    async def client(http: httpx.AsyncClient) -> None:
        while queue:
            call = queue.pop()
            t0 = time.perf_counter()
            r = await http.post(f"/channels/wechat/{inbox_id}", params=call.params,
                                content=call.body, headers={"Content-Type": "text/xml"})
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200 or r.text != "success":
                raise RuntimeError(f"callback answered {r.status_code} {r.text[:200]!r}")

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return len(calls) / elapsed, latencies


async def stored(url: str, inbox_id: uuid.UUID) -> int:
    """Customer messages stored on the inbox."""
    db = Database(url)
    try:
        async with db.transaction() as session:
            count = await session.scalar(
                select(func.count()).select_from(Message)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(Conversation.inbox_id == inbox_id, Message.sender_type == "contact"))
        return int(count or 0)
    finally:
        await db.dispose()


async def bench_backend(kind: str, args: argparse.Namespace,
                        stub: WeChatApiStub) -> list[list[str]]:
    url = await fresh_database(kind, "omnidesk_bench_wechat", args)
    db = Database(url)
    inboxes: dict[str, Inbox] = {}
    async with db.transaction() as session:
        for mode in MODES:
            raw = inbox_config(mode, "wx" + uuid.uuid4().hex[:16], stub.url)
            inboxes[mode] = Inbox(channel="wechat", name=f"bench {mode}", config=raw)
            session.add(inboxes[mode])
    await db.dispose()
    rows = []
    followers = stub.user_info_calls
    async with ServerProcess(url, args.data_dir) as server:
        for mode in MODES:
            inbox = inboxes[mode]
            cfg = WeChatConfig.from_inbox(inbox)
            every = stream(mode, cfg.app_id, args.warmup + args.messages, args.followers,
                           args.seed)
            warmup, calls = every[:args.warmup], every[args.warmup:]
            await post_all(server, inbox.id, warmup, args.clients)  # untimed
            baseline = bare_parse(cfg, calls)
            rate, lat = await post_all(server, inbox.id, calls, args.clients)
            count = await stored(url, inbox.id)
            if count != len(every):
                raise RuntimeError(f"{kind}/{mode}: {count} of {len(every)} stored")
            # untimed: let the outbox finish asking WeChat for the new followers' unionids,
            # so that the next mode is not measured beside this one's background work
            followers += len({c.openid for c in every})
            await stub.drained(followers)
            print(f"  {kind:10} {mode:5} parse {baseline:8,.0f}/s  callback {rate:6,.0f}/s",
                  flush=True)
            rows.append([kind, mode, f"{len(calls):,}", str(args.clients), f"{baseline:,.0f}",
                         f"{rate:,.0f}", f"{rate / baseline:.4f}", ms(percentile(lat, 50)),
                         ms(percentile(lat, 95)), ms(max(lat))])
    return rows


async def main() -> None:
    parser = base_parser(__doc__.split("\n")[0] if __doc__ else "")
    parser.add_argument("--messages", type=int, default=2000, help="callbacks per mode")
    parser.add_argument("--followers", type=int, default=400, help="distinct openids per mode")
    parser.add_argument("--clients", type=int, default=8, help="requests in flight")
    parser.add_argument("--warmup", type=int, default=50,
                        help="untimed callbacks per mode before the measured ones")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(await machine_info(args.pg_url if "postgresql" in backends(args) else None))
    rows = []
    async with WeChatApiStub() as stub:
        for kind in backends(args):
            rows += await bench_backend(kind, args, stub)
        print(f"  user-info calls answered by the WeChat API stub: {stub.user_info_calls:,}")
    print_table("WeChat callbacks, messages/s (signed POST → stored vs bare check + parse); "
                "latency in ms",
                ["database", "mode", "messages", "clients", "parse/s", "callback→stored/s",
                 "ratio", "p50", "p95", "max"], rows)


if __name__ == "__main__":
    asyncio.run(main())
