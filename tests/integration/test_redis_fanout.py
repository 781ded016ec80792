"""Two real server processes, one Redis: a visitor on one and an agent on the other."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from omnidesk.config import Settings
from omnidesk.kit.db import Database
from tests.conftest import REDIS_URL, free_port, skip_or_fail, token_for
from tests.realtime.test_websockets import recv

pytestmark = pytest.mark.slow


@pytest.fixture
def redis_url() -> str:
    if not REDIS_URL:
        skip_or_fail("the Redis fan-out test needs OMNIDESK_TEST_REDIS_URL")
    assert REDIS_URL
    return REDIS_URL


def spawn(settings: Settings, redis_url: str, port: int, tmp: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OMNIDESK_DATABASE_URL": settings.database_url,
           "OMNIDESK_REDIS_URL": redis_url, "OMNIDESK_DATA_DIR": str(settings.data_dir),
           "OMNIDESK_SECRET_KEY": settings.secret_key}
    log = open(tmp / f"server-{port}.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "-m", "omnidesk", "serve", "--host", "127.0.0.1",
         "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)


@pytest.fixture
def two_servers(settings: Settings, redis_url: str, tmp_path: Path) -> Iterator[list[int]]:
    ports = [free_port(), free_port()]
    procs = [spawn(settings, redis_url, p, tmp_path) for p in ports]
    yield ports
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


async def test_visitor_and_agent_on_different_processes(
    two_servers: list[int], db: Database, tmp_path: Path
) -> None:
    token = await token_for(db, "admin")
    port_a, port_b = two_servers
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as c:
        for port in two_servers:
            for _ in range(300):
                try:
                    if (await c.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            else:
                raise RuntimeError((tmp_path / f"server-{port}.log").read_text())
        r = await c.post(f"http://127.0.0.1:{port_a}/api/v1/inboxes",
                         json={"channel": "web_chat", "name": "Web"})
        inbox = r.json()["id"]
    async with connect(f"ws://127.0.0.1:{port_b}/ws/agent?token={token}") as agent, \
            connect(f"ws://127.0.0.1:{port_a}/ws/chat?inbox_id={inbox}&visitor_id=v1") as vis:
        await recv(agent, "hello")
        await recv(vis, "hello")
        await vis.send(json.dumps({"type": "message", "body": "跨进程你好", "client_id": "1"}))
        got = await recv(agent, "message", timeout=10)
        assert got["message"]["body"] == "跨进程你好"
        await agent.send(json.dumps({"type": "reply", "body": "收到",
                                     "conversation_id": got["message"]["conversation_id"]}))
        reply = await recv(vis, "message", timeout=10)
        assert reply["message"]["body"] == "收到"
