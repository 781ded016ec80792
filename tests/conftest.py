"""Shared fixtures: a real SQLite file and a real PostgreSQL, a real server on a port."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from sqlalchemy.exc import IntegrityError

from omnidesk.app import create_app
from omnidesk.auth.service import do_create_token, do_create_user
from omnidesk.config import Settings, get_settings
from omnidesk.kit.db import Database
from omnidesk.kit.migrate import upgrade
from omnidesk.models import EventType

PG_URL = os.environ.get("OMNIDESK_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("OMNIDESK_TEST_REDIS_URL")
REQUIRE = os.environ.get("OMNIDESK_REQUIRE_SERVICES") == "1"
BACKENDS = ["sqlite", "postgresql"]


def skip_or_fail(message: str) -> None:
    if REQUIRE:
        pytest.fail(f"{message} (OMNIDESK_REQUIRE_SERVICES=1)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_migrated() -> str:
    if not PG_URL:
        skip_or_fail("PostgreSQL tests need OMNIDESK_TEST_DATABASE_URL")
    assert PG_URL
    asyncio.run(_reset_pg(PG_URL))
    upgrade(PG_URL)
    return PG_URL


async def _reset_pg(url: str) -> None:
    db = Database(url)
    async with db.engine.begin() as conn:
        await conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        await conn.execute(sa.text("CREATE SCHEMA public"))
    await db.dispose()


async def _truncate_pg(url: str) -> None:
    db = Database(url)
    async with db.engine.begin() as conn:
        names = (await conn.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' "
            "AND tablename <> 'alembic_version'"))).scalars().all()
        if names:
            await conn.execute(sa.text(
                "TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " CASCADE"))
    await db.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "omnidesk.db"
        shutil.copy(template, target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("pg_migrated")
    asyncio.run(_truncate_pg(url))
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[
        Settings]:
    monkeypatch.setenv("OMNIDESK_DATABASE_URL", database_url)
    monkeypatch.setenv("OMNIDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OMNIDESK_SECRET_KEY", "test-secret-key-123")
    monkeypatch.setenv("OMNIDESK_OUTBOX_POLL_SECONDS", "0.2")
    # Each live server would start a chat writer process (about 2 s of imports); tests
    # write chats inline unless they ask for the process (tests/conversations/
    # test_writer_process.py runs the websocket tests that way too).
    monkeypatch.setenv("OMNIDESK_CHAT_WRITER", "inline")
    monkeypatch.delenv("OMNIDESK_REDIS_URL", raising=False)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.database_url)
    yield database
    await database.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        self.app = create_app(settings)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                ws="websockets-sansio", ws_per_message_deflate=False,
                                lifespan="on")
        self.server = uvicorn.Server(config)
        self.task: asyncio.Task[Any] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.task = asyncio.create_task(self.server.serve())
        for _ in range(1500):  # 30 s: a chat writer process takes a few seconds to start
            if self.server.started:
                return
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.02)
        raise RuntimeError("server did not start")

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await asyncio.wait_for(self.task, timeout=15)


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[LiveServer]:
    live = LiveServer(settings)
    await live.start()
    yield live
    await live.stop()


@pytest.fixture
async def admin_token(db: Database, server: LiveServer) -> str:
    async with db.transaction() as session:
        _, plain = await do_create_token(session, name="test admin", role="admin")
    return plain


@pytest.fixture
async def client(server: LiveServer, admin_token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30,
                                 headers={"Authorization": f"Bearer {admin_token}"}) as c:
        yield c


@pytest.fixture
async def anon(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as c:
        yield c


async def make_user(db: Database, email: str, role: str, password: str = "password-123",
                    name: str | None = None) -> str:
    async with db.transaction() as session:
        user = await do_create_user(session, email=email, name=name or email.split("@")[0],
                                    password=password, role=role)
        return str(user.id)


async def token_for(db: Database, role: str, scopes: list[str] | None = None,
                    user_id: str | None = None) -> str:
    async with db.transaction() as session:
        _, plain = await do_create_token(session, name=f"{role} token", role=role,
                                         scopes=scopes or [],
                                         user_id=uuid.UUID(user_id) if user_id else None)
    return plain


async def fail_on_a_duplicate(db: Database, prefix: str) -> None:
    """A transaction that writes ``{prefix}.dropped``, then a duplicate of the committed
    ``{prefix}.kept``: it fails with IntegrityError and must leave nothing behind."""
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            session.add(EventType(type=f"{prefix}.dropped", outcome="info"))
            await session.flush()
            session.add(EventType(type=f"{prefix}.kept", outcome="failed"))  # duplicate
            await session.flush()
