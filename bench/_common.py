"""Shared helpers for the benchmarks: bench databases, a live server process, statistics.

The benchmarks print figures, each beside a baseline measured in the same run, so that a
ratio rather than a wall-clock time is what is compared between machines. They never
touch the ``test`` database: PostgreSQL runs use databases named ``omnidesk_bench*``
created on the server named by ``--pg-url`` (default: the local trust-auth server).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from omnidesk.auth.service import do_create_token
from omnidesk.kit.db import Database
from omnidesk.kit.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = os.environ.get("OMNIDESK_BENCH_PG_URL",
                            "postgresql://postgres@127.0.0.1:5432/postgres")
DEFAULT_DATA = ROOT / "var" / "bench"
BENCH_SECRET = "bench-secret-key-123"


# --------------------------------------------------------------------------- arguments

# A chat SLA around the clock (bench_ws --sla, bench_chat_batch): every agent reply stops
# the first/next-response clocks, every visitor message after it starts a next-response one.
ALWAYS_OPEN = {"timezone": "Asia/Shanghai", "weekly": {
    d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}
CHAT_SLA_POLICY = {"name": "web chat", "position": 1,
                   "conditions": {"applies_to": ["conversation"]},
                   "targets": {"first_response": 2, "next_response": 2, "resolution": 120}}


def base_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description,
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both",
                        help="which database(s) to run against")
    parser.add_argument("--pg-url", default=DEFAULT_PG,
                        help="a PostgreSQL server URL (its database is only used to create "
                             "the omnidesk_bench* databases); env OMNIDESK_BENCH_PG_URL")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA,
                        help="where SQLite bench files and server data go")
    return parser


def backends(args: argparse.Namespace) -> list[str]:
    return ["sqlite", "postgresql"] if args.database == "both" else [args.database]


# --------------------------------------------------------------------------- databases

def pg_url_for(admin_url: str, name: str) -> str:
    if not name.startswith("omnidesk_bench"):
        raise ValueError("bench databases are named omnidesk_bench*")
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def pg_connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(_asyncpg_dsn(url))


async def pg_ensure_database(admin_url: str, name: str) -> str:
    """Create the bench database if it does not exist; return its URL."""
    url = pg_url_for(admin_url, name)
    conn = await pg_connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url


async def pg_reset_schema(url: str) -> None:
    conn = await pg_connect(url)
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()


async def pg_truncate_all(url: str) -> None:
    """Empty every table but alembic_version (fast reset between runs)."""
    conn = await pg_connect(url)
    try:
        names = [r[0] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version'")]
        if names:
            await conn.execute("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " CASCADE")
    finally:
        await conn.close()


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def fresh_database(kind: str, name: str, args: argparse.Namespace) -> str:
    """An empty, migrated bench database (dropped and re-created)."""
    if kind == "sqlite":
        args.data_dir.mkdir(parents=True, exist_ok=True)
        path = args.data_dir / f"{name}.db"
        remove_sqlite(path)
        url = sqlite_url(path)
    else:
        url = await pg_ensure_database(args.pg_url, name)
        await pg_reset_schema(url)
    await asyncio.to_thread(upgrade, url)
    return url


class Template:
    """A migrated empty database that can be reset quickly between measured runs."""

    def __init__(self, kind: str, name: str, args: argparse.Namespace) -> None:
        self.kind, self.name, self.args = kind, name, args
        self.url = ""
        self._template: Path | None = None

    async def create(self) -> str:
        self.url = await fresh_database(self.kind, self.name, self.args)
        if self.kind == "sqlite":
            path = Path(make_url(self.url).database or "")
            self._template = path.with_suffix(".template.db")
            _checkpoint(path)
            shutil.copy(path, self._template)
        return self.url

    async def reset(self) -> None:
        if self.kind == "sqlite":
            assert self._template is not None
            path = Path(make_url(self.url).database or "")
            remove_sqlite(path)
            shutil.copy(self._template, path)
        else:
            await pg_truncate_all(self.url)
            conn = await pg_connect(self.url)
            try:
                await conn.execute("VACUUM ANALYZE")
            finally:
                await conn.close()


def _checkpoint(path: Path) -> None:
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


async def admin_token(url: str) -> str:
    db = Database(url)
    try:
        async with db.transaction() as session:
            _, plain = await do_create_token(session, name="bench admin", role="admin")
    finally:
        await db.dispose()
    return plain


# --------------------------------------------------------------------------- a live server

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its direct children, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            children = (task / "children").read_text().split()
            pids += [int(c) for c in children]
    total = 0.0
    for p in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


class ServerProcess:
    """``uvicorn omnidesk.app:create_app --factory`` in its own process (own event loop and
    own CPU), configured through the environment like a deployment. ``profile`` runs it
    under cProfile and writes the stats there when it stops."""

    def __init__(self, database_url: str, data_dir: Path, *, app: str = "omnidesk.app:create_app",
                 app_dir: Path | None = None, profile: Path | None = None,
                 extra_env: dict[str, str] | None = None, workers: int = 1) -> None:
        self.port = free_port()
        self.workers = workers
        self.database_url = database_url
        self.data_dir = data_dir
        self.app = app
        self.app_dir = app_dir
        self.profile = profile
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cmd = [sys.executable]
        if self.profile is not None:
            cmd += ["-m", "cProfile", "-o", str(self.profile)]
        cmd += ["-m", "uvicorn", self.app, "--factory", "--host", "127.0.0.1",
                "--port", str(self.port), "--ws", "websockets-sansio", "--loop", "uvloop",
                "--http", "httptools", "--ws-per-message-deflate", "false",
                "--log-level", "warning", "--no-access-log", "--backlog", "4096"]
        if self.app_dir is not None:
            cmd += ["--app-dir", str(self.app_dir)]
        if self.workers > 1:
            cmd += ["--workers", str(self.workers)]
        return cmd

    async def start(self) -> None:
        env = {**os.environ, "OMNIDESK_DATABASE_URL": self.database_url,
               "OMNIDESK_DATA_DIR": str(self.data_dir / "server-data"),
               "OMNIDESK_SECRET_KEY": BENCH_SECRET, **self.extra_env}
        if "OMNIDESK_REDIS_URL" not in self.extra_env:
            env.pop("OMNIDESK_REDIS_URL", None)
        self.proc = subprocess.Popen(self.command(), env=env, cwd=ROOT,
                                     preexec_fn=raise_open_files)
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited with {self.proc.returncode}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url}/health", timeout=1)).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise RuntimeError("server did not start within 60 s")

    async def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        for _ in range(300):
            if self.proc.poll() is not None:
                return
            await asyncio.sleep(0.1)
        self.proc.kill()
        self.proc.wait()

    async def __aenter__(self) -> ServerProcess:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def raise_open_files(limit: int = 65536) -> int:
    """Raise the soft open-file limit as far as allowed (1,000+ sockets need it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# --------------------------------------------------------------------------- figures

def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100), linear interpolation between closest ranks."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def ratio(a: float, b: float) -> str:
    return "n/a" if not b else f"{a / b:.2f}"


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    print(f"\n{title}")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(cells[0], widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells[1:]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


async def machine_info(pg_admin_url: str | None) -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    parts = [f"{cpu} × {os.cpu_count()} cores{mem}",
             f"{platform.system()} {platform.release()}",
             f"Python {platform.python_version()}", f"SQLite {sqlite3.sqlite_version}"]
    if pg_admin_url:
        with contextlib.suppress(Exception):
            conn = await pg_connect(pg_admin_url)
            try:
                parts.append("PostgreSQL " + str(await conn.fetchval("SHOW server_version")))
            finally:
                await conn.close()
    with contextlib.suppress(OSError):
        one, five, _ = os.getloadavg()
        parts.append(f"load average {one:.2f} / {five:.2f} (1 / 5 min) at start")
    return "; ".join(parts)
