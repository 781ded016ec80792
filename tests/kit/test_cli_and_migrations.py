"""The command line and the schema: migrations match the models on both databases."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import httpx
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from omnidesk.config import Settings
from omnidesk.kit.db import Database
from omnidesk.models import Base
from tests.conftest import LiveServer


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMNIDESK_DATABASE_URL": settings.database_url}
    return subprocess.run([sys.executable, "-m", "omnidesk", *args], env=env,
                          capture_output=True, text=True, timeout=120)


async def test_token_create_prints_only_a_working_token(
    settings: Settings, server: LiveServer
) -> None:
    # in a thread: the live server in this process keeps serving (and committing) meanwhile
    done = await asyncio.to_thread(cli, settings, "token", "create", "--name", "ci",
                                   "--role", "admin")
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert token.startswith("od_") and "\n" not in token
    async with httpx.AsyncClient(base_url=server.url) as c:
        r = await c.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.json()["role"] == "admin"
    bad = await asyncio.to_thread(cli, settings, "token", "create", "--name", "x",
                                  "--role", "emperor")
    assert bad.returncode == 2 and "unknown role" in bad.stderr


def test_db_upgrade_is_idempotent(settings: Settings) -> None:
    done = cli(settings, "db", "upgrade")
    assert done.returncode == 0 and "up to date" in done.stdout, done.stderr


async def test_migrations_match_the_models(db: Database) -> None:
    def diff(conn: object) -> list[object]:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})  # type: ignore[arg-type]
        return list(compare_metadata(ctx, Base.metadata))

    async with db.engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == []
