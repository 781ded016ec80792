"""Web chat under load: N visitor websockets and agent websockets, one message each way
per second per conversation; p95 delivery latency vs a relay baseline.

The server runs in its own process (``uvicorn omnidesk.app:create_app --factory`` with
``OMNIDESK_DATABASE_URL`` pointing at a bench database), so the client load does not share
its event loop. This process opens N ``/ws/chat`` visitor sockets (each starts its
conversation with a first message) and K ``/ws/agent`` sockets watching the inbox. During
the measured window every conversation sends, at a random phase:

- visitor → agent: a ``message`` frame on the visitor socket; latency = send time →
  receipt of the ``message`` frame on an agent socket (every agent socket counts);
- agent → visitor: a ``reply`` frame on agent socket ``i % K``; latency = send time →
  receipt of the ``message`` frame on the visitor's socket.

Baseline, same run and same client: a relay server in its own uvicorn process that speaks
the same frames on the same paths through omnidesk's realtime hub (per-connection send
queues, in-memory broker) but stores nothing: the cost of the websocket plumbing alone.

Full run:   .venv/bin/python bench/bench_ws.py                     (1,000 visitors, 30 s)
Quick run:  .venv/bin/python bench/bench_ws.py --visitors 100 --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvloop
from _common import (
    ALWAYS_OPEN,
    CHAT_SLA_POLICY,
    ServerProcess,
    admin_token,
    backends,
    base_parser,
    cpu_seconds,
    fresh_database,
    machine_info,
    ms,
    percentile,
    print_table,
    raise_open_files,
    ratio,
)
from sqlalchemy import func, select, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import ClientConnection, connect

from omnidesk.kit.db import Database
from omnidesk.models import OutboxItem
from omnidesk.realtime.hub import Connection, Hub

BENCH_DIR = Path(__file__).resolve().parent


# --------------------------------------------------------------------------- the baseline

def relay_app() -> Starlette:
    """The same frames and paths as omnidesk's chat, relayed through omnidesk's hub with
    no database: a visitor message goes to ``inbox`` (the agents), a reply to the
    visitor's conversation topic and the inbox."""
    hub = Hub()
    seqs: dict[str, itertools.count[int]] = {}

    def message(conversation_id: str, sender: str, body: str) -> dict[str, Any]:
        return {"id": str(uuid.uuid4()), "conversation_id": conversation_id,
                "seq": next(seqs.setdefault(conversation_id, itertools.count(1))),
                "sender_type": sender, "sender_id": None, "author_name": None, "body": body,
                "is_note": False, "external_id": None, "data": {},
                "delivery_status": None, "created_at": datetime.now(UTC).isoformat(),
                "attachments": [], "inbox_id": "relay", "channel": "web_chat"}

    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        conn = Connection(ws)
        conversation = str(uuid.uuid4())
        hub.subscribe(conn, f"conversation:{conversation}")
        await conn.send_now({"type": "hello", "conversation_id": None, "last_seq": 0})
        try:
            while True:
                frame = orjson.loads(await ws.receive_text())
                if frame["type"] == "message":
                    msg = message(conversation, "contact", frame["body"])
                    conn.mark_seen(msg["id"])
                    await hub.publish("inbox", {"type": "message", "message": msg})
                    await conn.send_now({"type": "ack", "client_id": frame.get("client_id"),
                                         "duplicate": False, "message": msg})
        except WebSocketDisconnect:
            pass
        finally:
            hub.unsubscribe_all(conn)
            await conn.finish()

    async def agent(ws: WebSocket) -> None:
        await ws.accept()
        conn = Connection(ws, batch=ws.query_params.get("batch") == "1")
        hub.subscribe(conn, "inbox")
        await conn.send_now({"type": "hello", "inboxes": ["inbox"]})
        try:
            while True:
                frame = orjson.loads(await ws.receive_text())
                if frame["type"] == "reply":
                    msg = message(frame["conversation_id"], "agent", frame["body"])
                    conn.mark_seen(msg["id"])
                    data = {"type": "message", "message": msg}
                    await hub.publish("inbox", data)
                    await hub.publish(f"conversation:{frame['conversation_id']}", data)
                    await conn.send_now({"type": "ack", "client_id": frame.get("client_id"),
                                         "message": msg})
        except WebSocketDisconnect:
            pass
        finally:
            hub.unsubscribe_all(conn)
            await conn.finish()

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await hub.start()
        yield
        await hub.stop()

    return Starlette(routes=[Route("/health", health), WebSocketRoute("/ws/chat", chat),
                             WebSocketRoute("/ws/agent", agent)], lifespan=lifespan)


# --------------------------------------------------------------------------- the load

@dataclass
class Load:
    sent_v: dict[str, float] = field(default_factory=dict)  # marker → send time
    sent_a: dict[str, float] = field(default_factory=dict)
    to_agent: list[tuple[float, float]] = field(default_factory=list)  # (sent, latency)
    to_visitor: list[tuple[float, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lag: list[float] = field(default_factory=list)


def marker(body: str) -> str:
    return body[1:body.index("]")] if body.startswith("[") else ""


def frames(raw: str | bytes) -> list[dict[str, Any]]:
    """The frames in one websocket message (a ``batch`` frame holds several)."""
    outer = orjson.loads(raw)
    return list(outer["frames"]) if outer["type"] == "batch" else [outer]


async def read(ws: ClientConnection, load: Load, sender: str, sent: dict[str, float],
               latencies: list[tuple[float, float]]) -> None:
    """Record the latency of every ``message`` from ``sender`` this socket receives."""
    async for raw in ws:
        now = time.perf_counter()
        for frame in frames(raw):
            if frame["type"] == "message" and frame["message"]["sender_type"] == sender:
                at = sent.get(marker(frame["message"]["body"]))
                if at is not None:
                    latencies.append((at, now - at))
            elif frame["type"] == "error":
                load.errors.append(str(frame.get("detail")))


async def next_frame(ws: ClientConnection, type_: str, timeout: float = 60) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            for frame in frames(await ws.recv()):
                if frame["type"] == type_:
                    return dict(frame)
                if frame["type"] == "error":
                    raise RuntimeError(f"error frame: {frame}")


async def lag_monitor(load: Load, stop: asyncio.Event) -> None:
    """How late this client's event loop runs (client saturation shows up here)."""
    while not stop.is_set():
        t0 = time.perf_counter()
        await asyncio.sleep(0.05)
        load.lag.append(time.perf_counter() - t0 - 0.05)


@dataclass
class Figures:
    to_agent: list[float]
    to_visitor: list[float]
    delivered_agent: int
    delivered_visitor: int
    sent_v: int
    sent_a: int
    errors: int
    lag_p95: float
    setup_s: float
    server_cpu: float  # the server's CPU time over the measured window ÷ its length
    client_cpu: float  # the same for this load generator
    pops_at_rest: list[float] = field(default_factory=list)  # --screen-pops: before the load
    pops_in_load: list[float] = field(default_factory=list)  # and during the window


async def run_load(ws_url: str, inbox_id: str, token: str, args: argparse.Namespace,
                   server_pid: int, settle: Callable[[], Awaitable[None]] | None = None,
                   screen_pops: float = 0) -> Figures:
    load = Load()
    run = uuid.uuid4().hex[:6]
    gate = asyncio.Semaphore(args.connect_concurrency)
    t_setup = time.perf_counter()

    async def open_visitor(i: int) -> tuple[ClientConnection, str]:
        async with gate:
            ws = await connect(f"{ws_url}/ws/chat?inbox_id={inbox_id}&visitor_id=bench-{run}-{i}"
                               f"&name=V{i}", ping_interval=None, open_timeout=120,
                               close_timeout=5)
            await next_frame(ws, "hello")
            await ws.send(orjson.dumps({"type": "message", "body": "你好，我想咨询一下宽带",
                                        "client_id": f"{run}-{i}-0"}).decode())
            ack = await next_frame(ws, "ack")
            contacts.append(str(ack["message"].get("contact_id")))
            return ws, str(ack["message"]["conversation_id"])

    contacts: list[str] = []
    visitors = await asyncio.gather(*(open_visitor(i) for i in range(args.n)))
    batch = "&batch=1" if args.batch else ""
    agents = [await connect(f"{ws_url}/ws/agent?token={token}{batch}", ping_interval=None,
                            open_timeout=60, close_timeout=5) for _ in range(args.agents)]
    for ws in agents:
        await next_frame(ws, "hello")
    if settle is not None:
        await settle()
    setup_s = time.perf_counter() - t_setup
    pops = ScreenPops(ws_url.replace("ws://", "http://"), token, contacts, screen_pops)
    if screen_pops:
        await pops.at_rest(200)
    readers = [asyncio.create_task(read(ws, load, "agent", load.sent_a, load.to_visitor))
               for ws, _ in visitors]
    readers += [asyncio.create_task(read(ws, load, "contact", load.sent_v, load.to_agent))
                for ws in agents]
    stop = asyncio.Event()
    monitor = asyncio.create_task(lag_monitor(load, stop))
    period = 1 / args.rate
    start = time.perf_counter() + 0.5
    measure_from = start + args.warmup
    end = measure_from + args.duration

    async def talk(i: int, ws: ClientConnection, conversation_id: str) -> None:
        agent = agents[i % len(agents)]
        rnd = random.Random(i)
        at = start + rnd.random() * period
        seq = 0
        while at < end:
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            seq += 1
            mark = f"v{i}.{seq}"
            load.sent_v[mark] = time.perf_counter()
            await ws.send(orjson.dumps({"type": "message", "body": f"[{mark}] 我的宽带又断了",
                                        "client_id": f"{run}-{mark}"}).decode())
            await asyncio.sleep(max(0.0, at + period / 2 - time.perf_counter()))
            mark = f"a{i}.{seq}"
            load.sent_a[mark] = time.perf_counter()
            await agent.send(orjson.dumps({
                "type": "reply", "conversation_id": conversation_id,
                "body": f"[{mark}] 正在为您检查线路", "client_id": f"{run}-{mark}"}).decode())
            at += period

    async def server_load() -> tuple[float, float]:
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        cpu0, own0, t0 = cpu_seconds(server_pid), time.process_time(), time.perf_counter()
        await asyncio.sleep(max(0.0, end - time.perf_counter()))
        took = time.perf_counter() - t0
        return (cpu_seconds(server_pid) - cpu0) / took, (time.process_time() - own0) / took

    cpu_task = asyncio.create_task(server_load())
    pop_task = asyncio.create_task(pops.during(measure_from, end))
    await asyncio.gather(*(talk(i, ws, conv) for i, (ws, conv) in enumerate(visitors)))
    await pop_task
    await pops.close()
    server_cpu, client_cpu = await cpu_task
    await asyncio.sleep(args.grace)  # let what is in flight arrive
    stop.set()
    await monitor
    for task in readers:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws, _ in visitors), *(ws.close() for ws in agents),
                         return_exceptions=True)
    await asyncio.gather(*readers, return_exceptions=True)

    def window(values: list[tuple[float, float]]) -> list[float]:
        return [lat for sent, lat in values if measure_from <= sent < end]

    sent_v = sum(1 for t in load.sent_v.values() if measure_from <= t < end)
    sent_a = sum(1 for t in load.sent_a.values() if measure_from <= t < end)
    to_agent, to_visitor = window(load.to_agent), window(load.to_visitor)
    return Figures(to_agent, to_visitor, len(to_agent), len(to_visitor),
                   sent_v, sent_a, len(load.errors), percentile(load.lag, 95), setup_s,
                   server_cpu, client_cpu, pops.rest, pops.load)


class ScreenPops:
    """``--screen-pops R``: an agent's screen pop (``GET /api/v1/contacts/{id}/context``
    for a chatting visitor's contact, one keep-alive connection, one at a time) R times a
    second during the measured window, and 200 times at rest just before the load starts
    (the baseline, same server, same data): what the chat load does to a read."""

    def __init__(self, http_url: str, token: str, contacts: list[str], rate: float) -> None:
        self.contacts, self.rate = contacts, rate
        self.rest: list[float] = []
        self.load: list[float] = []
        self.rng = random.Random(7)
        self.client = httpx.AsyncClient(base_url=http_url, timeout=30, headers={
            "Authorization": f"Bearer {token}"}) if rate else None

    async def _pop(self) -> float:
        assert self.client is not None
        t0 = time.perf_counter()
        r = await self.client.get(f"/api/v1/contacts/{self.rng.choice(self.contacts)}/context")
        took = time.perf_counter() - t0
        r.raise_for_status()
        return took

    async def at_rest(self, n: int) -> None:
        for _ in range(20):  # warm the connection and the statement caches
            await self._pop()
        self.rest = [await self._pop() for _ in range(n)]

    async def during(self, start: float, end: float) -> None:
        if not self.rate:
            return
        at = start
        while at < end:
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            self.load.append(await self._pop())
            at += 1 / self.rate

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()


# --------------------------------------------------------------------------- driver

async def outbox_drained(url: str, timeout: float = 600) -> None:
    """Wait until the server has done the outbox work that opening the conversations
    owed (the bot greets each new chat): the measured window is the steady chat, not a
    thousand greetings arriving at once. On PostgreSQL, then gather the statistics."""
    db = Database(url)
    pending = (select(func.count()).select_from(OutboxItem)
               .where(OutboxItem.done_at.is_(None), OutboxItem.failed_at.is_(None)))
    try:
        async with asyncio.timeout(timeout):
            while True:
                async with db.transaction() as session:
                    if not await session.scalar(pending):
                        break
                await asyncio.sleep(0.5)
        if db.engine.dialect.name == "postgresql":
            # The planner's statistics, as autovacuum keeps them on a running server: the
            # tables were created empty moments ago, and autovacuum looks at most once a
            # minute, so without this the window would start with or without them by luck.
            async with db.engine.begin() as conn:
                await conn.execute(text("ANALYZE"))
    finally:
        await db.dispose()


async def sla_policy(client: httpx.AsyncClient) -> None:
    """A chat SLA around the clock: every agent reply stops the first/next-response clocks
    and every visitor message after it starts a next-response clock."""
    r = await client.put("/api/v1/sla/calendars/7x24", json={"definition": ALWAYS_OPEN})
    r.raise_for_status()
    r = await client.post("/api/v1/sla/policies", json={**CHAT_SLA_POLICY, "calendar": "7x24"})
    r.raise_for_status()


async def bench_omnidesk(kind: str, args: argparse.Namespace) -> Figures:
    url = await fresh_database(kind, "omnidesk_bench_ws", args)
    token = await admin_token(url)
    prof = args.data_dir / f"profile-ws-server-{kind}.prof" if args.profile else None
    extra = {"OMNIDESK_REDIS_URL": args.redis_url} if args.workers > 1 else {}
    async with ServerProcess(url, args.data_dir, profile=prof, workers=args.workers,
                             extra_env=extra) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30,
                                     headers={"Authorization": f"Bearer {token}"}) as client:
            if args.sla:
                await sla_policy(client)
            r = await client.post("/api/v1/inboxes", json={"channel": "web_chat",
                                                            "name": "bench widget"})
            r.raise_for_status()
            inbox_id = str(r.json()["id"])
        assert server.proc is not None
        figures = await run_load(server.ws_url, inbox_id, token, args, server.proc.pid,
                                 settle=lambda: outbox_drained(url),
                                 screen_pops=args.screen_pops)
    if prof is not None:
        print(f"  server profile written to {prof}")
    return figures


async def bench_relay(args: argparse.Namespace) -> Figures:
    async with ServerProcess("sqlite:///unused.db", args.data_dir, app="bench_ws:relay_app",
                             app_dir=BENCH_DIR) as server:
        assert server.proc is not None
        return await run_load(server.ws_url, "relay", "relay", args, server.proc.pid)


def describe(name: str, f: Figures, args: argparse.Namespace) -> None:
    print(f"  {name:18} visitor→agent p50 {ms(percentile(f.to_agent, 50))} p95 "
          f"{ms(percentile(f.to_agent, 95))} ms ({f.delivered_agent:,} deliveries of "
          f"{f.sent_v:,} sent × {args.agents} agents); agent→visitor p50 "
          f"{ms(percentile(f.to_visitor, 50))} p95 {ms(percentile(f.to_visitor, 95))} ms "
          f"({f.delivered_visitor:,} of {f.sent_a:,}); errors {f.errors}; client loop lag "
          f"p95 {ms(f.lag_p95)} ms; server CPU {f.server_cpu:.0%} of a core, load generator "
          f"{f.client_cpu:.0%}; setup "
          f"{f.setup_s:.1f} s", flush=True)
    if f.pops_in_load:
        rest, busy = percentile(f.pops_at_rest, 95), percentile(f.pops_in_load, 95)
        print(f"  {'':18} screen pop (GET …/context, httpx) p50 / p95: at rest "
              f"{ms(percentile(f.pops_at_rest, 50))} / {ms(rest)} ms ({len(f.pops_at_rest)}), "
              f"during the chat load {ms(percentile(f.pops_in_load, 50))} / {ms(busy)} ms "
              f"({len(f.pops_in_load)}): p95 ÷ at rest {busy / rest:.2f}", flush=True)


def counts(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


async def main() -> None:
    parser = base_parser(__doc__ or "")
    parser.add_argument("--visitors", type=counts, default=[1000],
                        help="concurrent conversations; a comma list runs a sweep (25,100,1000)")
    parser.add_argument("--agents", type=int, default=4, help="agent sockets watching the inbox")
    parser.add_argument("--rate", type=float, default=1.0,
                        help="messages per second per conversation, each way")
    parser.add_argument("--duration", type=float, default=30, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=3, help="unmeasured seconds first")
    parser.add_argument("--grace", type=float, default=5,
                        help="seconds to wait for deliveries after the last send")
    parser.add_argument("--connect-concurrency", type=int, default=50)
    parser.add_argument("--no-batch", dest="batch", action="store_false",
                        help="agent sockets without batch=1 (one frame per message), as "
                             "third-party clients of /ws/agent")
    parser.add_argument("--sla", action="store_true",
                        help="a chat SLA policy (first/next response) on every conversation")
    parser.add_argument("--screen-pops", type=float, default=0, metavar="RATE",
                        help="an agent's screen pop (GET …/context) RATE times a second "
                             "during the load, against 200 at rest before it")
    parser.add_argument("--profile", action="store_true", help="cProfile the omnidesk server")
    parser.add_argument("--workers", type=int, default=1,
                        help="omnidesk server processes (>1: pushes fan out through Redis)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9",
                        help="Redis for --workers > 1")
    args = parser.parse_args()
    limit = raise_open_files()
    print(await machine_info(args.pg_url if "postgresql" in backends(args) else None))
    rows = []
    for n in args.visitors:
        args.n = n
        print(f"{n:,} visitors, {args.agents} agent sockets, {args.rate:g} msg/s each way per "
              f"conversation, {args.duration:g} s measured"
              f"{'; a chat SLA policy' if args.sla else ''}; open-file limit {limit}")
        baseline = await bench_relay(args)
        describe("relay (no DB)", baseline, args)
        results = {"relay baseline": baseline}
        for kind in backends(args):
            results[kind] = await bench_omnidesk(kind, args)
            describe(f"omnidesk {kind}", results[kind], args)
        b_agent, b_vis = percentile(baseline.to_agent, 95), percentile(baseline.to_visitor, 95)
        for name, f in results.items():
            a95, v95 = percentile(f.to_agent, 95), percentile(f.to_visitor, 95)
            lost_a = f.sent_v * args.agents - f.delivered_agent
            lost_v = f.sent_a - f.delivered_visitor
            rows.append((f"{n:,}", name, ms(percentile(f.to_agent, 50)), ms(a95),
                         ratio(a95, b_agent), ms(percentile(f.to_visitor, 50)), ms(v95),
                         ratio(v95, b_vis), f"{lost_a:,} / {lost_v:,}", f.errors,
                         ms(f.lag_p95), f"{f.server_cpu:.0%}", f"{f.client_cpu:.0%}"))
    print_table(f"Web chat: {args.agents} agent sockets, {args.rate:g} msg/s each way per "
                f"conversation, {args.duration:g} s (ms; target p95 ≤ 50 ms)",
                ["visitors", "server", "v→a p50", "v→a p95", "÷ relay", "a→v p50", "a→v p95",
                 "÷ relay", "undelivered v→a / a→v", "errors", "client lag p95",
                 "server CPU", "load generator CPU"], rows)


if __name__ == "__main__":
    uvloop.run(main())  # the load generator on uvloop too: it shares the 2 cores
