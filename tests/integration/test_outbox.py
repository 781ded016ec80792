"""Reliable side effects: outbox rows commit with the change; a crash loses nothing."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from omnidesk.config import Settings
from omnidesk.kit.db import Database
from omnidesk.kit.security import check_webhook_signature
from omnidesk.models import OutboxItem, Webhook
from tests.conftest import free_port

SECRET = "whsec_test_secret_0123456789"


class Receiver:
    """A real HTTP endpoint that records webhook deliveries (and can fail on demand)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[dict[str, Any]] = []
        self.fail_next = 0
        app = Starlette(routes=[Route("/hook", self.hook, methods=["POST"])])
        self.server = uvicorn.Server(uvicorn.Config(app, port=self.port, log_level="warning"))

    async def hook(self, request: Request) -> PlainTextResponse:
        body = await request.body()
        if self.fail_next:
            self.fail_next -= 1
            return PlainTextResponse("busy", status_code=503)
        reason = check_webhook_signature(
            SECRET, request.headers.get("x-omnidesk-timestamp"),
            request.headers.get("x-omnidesk-signature"), body, 300)
        self.received.append({"event": request.headers.get("x-omnidesk-event"),
                              "delivery": request.headers.get("x-omnidesk-delivery"),
                              "signature_ok": reason is None, "body": body})
        return PlainTextResponse("ok")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    task = asyncio.create_task(rec.server.serve())
    while not rec.server.started:
        await asyncio.sleep(0.02)
    yield rec
    rec.server.should_exit = True
    await task


async def subscribe(db: Database, url: str, events: list[str]) -> None:
    async with db.transaction() as session:
        session.add(Webhook(url=url, secret=SECRET, event_types=events))


CRASHING_PRODUCER = textwrap.dedent("""
    import asyncio, os
    from omnidesk.wiring import install_handlers
    from omnidesk.config import get_settings
    from omnidesk.events.service import ingest
    from omnidesk.kit.db import Database

    async def main():
        install_handlers()
        db = Database(get_settings().database_url)
        async with db.transaction() as session:
            await ingest(session, [{
                "source": "payments", "id": "crash-1", "type": "payment.failed",
                "occurred_at": "2026-11-24T03:00:00Z", "contact": {"phone": "13800138000"},
                "summary": "Payment failed: insufficient balance"}], "CN")
        print("committed", flush=True)
        os._exit(9)  # killed after commit, before any dispatch

    asyncio.run(main())
""")


def run(args: list[str], settings: Settings) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMNIDESK_DATABASE_URL": settings.database_url,
           "OMNIDESK_DATA_DIR": str(settings.data_dir)}
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)


async def pending(db: Database, handler: str = "webhooks.deliver") -> list[OutboxItem]:
    async with db.transaction() as session:
        return list(await session.scalars(sa.select(OutboxItem).where(
            OutboxItem.handler == handler).order_by(OutboxItem.created_at)))


async def test_killed_after_commit_the_work_runs_when_a_worker_comes_back(
    settings: Settings, db: Database, receiver: Receiver, tmp_path: Path
) -> None:
    await subscribe(db, receiver.url, ["event.received"])
    script = tmp_path / "producer.py"
    script.write_text(CRASHING_PRODUCER)
    crashed = run([sys.executable, str(script)], settings)
    assert crashed.returncode == 9 and "committed" in crashed.stdout, crashed.stderr
    items = await pending(db)
    assert [(i.event, i.done_at) for i in items] == [("event.received", None)]
    assert receiver.received == []
    receiver.fail_next = 1  # the first attempt fails: retried with back-off
    worker = await asyncio.to_thread(
        run, [sys.executable, "-m", "omnidesk", "worker", "--once"], settings)
    assert worker.returncode == 0, worker.stderr
    item = (await pending(db))[0]
    assert item.attempts == 1 and item.done_at is None and "503" in (item.last_error or "")
    async with db.transaction() as session:  # make the retry due now
        await session.execute(sa.update(OutboxItem).values(available_at=item.created_at))
    worker = await asyncio.to_thread(
        run, [sys.executable, "-m", "omnidesk", "worker", "--once"], settings)
    assert worker.returncode == 0, worker.stderr
    item = (await pending(db))[0]
    assert item.done_at is not None and item.attempts == 2
    assert len(receiver.received) == 1
    got = receiver.received[0]
    assert got["event"] == "event.received" and got["signature_ok"]
    assert got["delivery"] == str(item.id) and b"crash-1" in got["body"]


async def test_in_process_dispatcher_delivers_after_commit(
    client: Any, db: Database, receiver: Receiver
) -> None:
    await subscribe(db, receiver.url, ["message.created"])
    r = await client.post("/api/v1/inboxes", json={"channel": "api", "name": "API"})
    await client.post(f"/api/v1/inboxes/{r.json()['id']}/messages",
                      json={"contact": {"email": "a@b.cn"}, "body": "hello"})
    for _ in range(100):
        if receiver.received:
            break
        await asyncio.sleep(0.05)
    assert [x["event"] for x in receiver.received] == ["message.created"]
    # events nobody subscribed to leave no outbox rows
    await client.post("/api/v1/events", json={
        "source": "s", "id": "1", "type": "payment.failed",
        "occurred_at": "2026-11-24T03:00:00Z", "contact": {"email": "a@b.cn"}})
    assert {i.event for i in await pending(db)} == {"message.created"}
