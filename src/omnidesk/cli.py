"""The ``omnidesk`` command line."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn

from omnidesk.auth.service import do_create_token, do_create_user
from omnidesk.config import get_settings
from omnidesk.demo import DemoRefused, seed
from omnidesk.kit.db import Database, is_sqlite
from omnidesk.kit.errors import OmnideskError
from omnidesk.kit.ids import new_token
from omnidesk.kit.migrate import upgrade
from omnidesk.kit.outbox import Dispatcher
from omnidesk.knowledge.io import KbImportError, export_articles, import_articles, read_path
from omnidesk.models import EventSource
from omnidesk.nlu.cli import nlu_app
from omnidesk.realtime.broker import RedisBroker
from omnidesk.realtime.hub import Hub, set_hub
from omnidesk.scheduler import run_periodically
from omnidesk.sla.scan import ScanReport, run_sla_scan, sla_counts
from omnidesk.wiring import install_handlers

app = typer.Typer(help="omnidesk: one service platform behind every channel.",
                  no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
user_app = typer.Typer(help="Users.", no_args_is_help=True)
source_app = typer.Typer(help="Signed event-feed sources.", no_args_is_help=True)
sla_app = typer.Typer(help="SLA clocks.", no_args_is_help=True)
kb_app = typer.Typer(help="Knowledge base.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
app.add_typer(user_app, name="user")
app.add_typer(source_app, name="source")
app.add_typer(sla_app, name="sla")
app.add_typer(kb_app, name="kb")
app.add_typer(nlu_app, name="nlu")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _migrate() -> None:
    upgrade(get_settings().database_url)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the latest schema."""
    _migrate()
    typer.echo("database is up to date")


# How every omnidesk server speaks: websockets through the sans-I/O implementation, and no
# per-message deflate — chat frames are a few hundred bytes, and compressing each one cost
# the server a tenth of its CPU at a thousand chatting visitors (docs/performance.md).
# uvicorn picks uvloop and httptools by itself when they are installed (they are pinned).
UVICORN_OPTIONS: dict[str, Any] = {"ws": "websockets-sansio", "ws_per_message_deflate": False}


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL + Redis).")] = 1,
    smtp_port: Annotated[int | None, typer.Option(help="Also receive e-mail by SMTP here.")] = None,
) -> None:
    """Serve the API, websockets and UI (an embedded SQLite database migrates itself)."""
    if smtp_port is not None:  # read by each worker's settings (OMNIDESK_SMTP_LISTEN)
        os.environ["OMNIDESK_SMTP_LISTEN"] = f"{host}:{smtp_port}"
        get_settings.cache_clear()
    settings = get_settings()
    if is_sqlite(settings.database_url):
        _migrate()
    logging.basicConfig(level=logging.INFO)
    uvicorn.run("omnidesk.app:create_app", factory=True, host=host, port=port,
                workers=workers, log_level="info", **UVICORN_OPTIONS)


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Seed only.")] = False,
) -> None:
    """Create the database with realistic sample data, print the logins, and serve."""
    settings = get_settings()
    _migrate()

    async def run() -> list[str]:
        db = Database(settings.database_url)
        try:
            return (await seed(db)).lines()
        finally:
            await db.dispose()

    try:
        lines = asyncio.run(run())
    except DemoRefused as exc:
        _fail(exc.detail)
    typer.echo("\n".join(lines))
    if not no_serve:
        typer.echo(f"serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
        serve(host=host, port=port, workers=1)


async def _create_token(name: str, role: str, scopes: list[str]) -> str:
    db = Database(get_settings().database_url)
    try:
        async with db.transaction() as session:
            _, plain = await do_create_token(session, name=name, role=role, scopes=scopes)
        return plain
    finally:
        await db.dispose()


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="What the token is for.")],
    role: Annotated[str, typer.Option(help="admin, supervisor, agent, backoffice, ...")],
    scope: Annotated[list[str] | None, typer.Option(help="Limit to scopes (repeatable).")] = None,
) -> None:
    """Mint an API token; prints only the token (store it: it is not shown again)."""
    if is_sqlite(get_settings().database_url):
        _migrate()
    try:
        typer.echo(asyncio.run(_create_token(name, role, scope or [])))
    except OmnideskError as exc:
        _fail(exc.detail)


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option()],
    name: Annotated[str, typer.Option()],
    role: Annotated[str, typer.Option()],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
) -> None:
    """Create a user who signs in to the console."""

    async def run() -> None:
        db = Database(get_settings().database_url)
        try:
            async with db.transaction() as session:
                await do_create_user(session, email=email, name=name, password=password,
                                     role=role)
        finally:
            await db.dispose()

    try:
        asyncio.run(run())
    except OmnideskError as exc:
        _fail(exc.detail)
    typer.echo(f"created {role} {email}")


@source_app.command("create")
def source_create(name: Annotated[str, typer.Option()]) -> None:
    """Create a signed event source; prints its HMAC secret."""

    async def run() -> str:
        db = Database(get_settings().database_url)
        try:
            async with db.transaction() as session:
                if await session.get(EventSource, name):
                    raise OmnideskError(f"source {name!r} exists")
                secret = new_token("whsec_")
                session.add(EventSource(name=name, secret=secret))
            return secret
        finally:
            await db.dispose()

    try:
        typer.echo(asyncio.run(run()))
    except OmnideskError as exc:
        _fail(exc.detail)


async def _work(once: bool) -> int:
    settings = get_settings()
    db = Database(settings.database_url)
    hub = None
    if settings.redis_url:  # pushes from handlers reach the web processes via Redis
        hub = Hub(RedisBroker(settings.redis_url))
        await hub.start()
        set_hub(hub)
    install_handlers()
    dispatcher = Dispatcher(db, poll_seconds=settings.outbox_poll_seconds,
                            max_attempts=settings.outbox_max_attempts)
    try:
        if once:
            return await dispatcher.run_once()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()


        def _stop() -> None:
            dispatcher.stop()
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, _stop)
        await asyncio.gather(dispatcher.run_forever(), run_periodically(db, settings, stop))
        return 0
    finally:
        if hub is not None:
            await hub.stop()
        await db.dispose()


@app.command()
def worker(once: Annotated[bool, typer.Option(help="Run what is due, then exit.")] = False
           ) -> None:
    """Run background work (the outbox) in this process."""
    logging.basicConfig(level=logging.INFO)
    ran = asyncio.run(_work(once))
    if once:
        typer.echo(f"ran {ran} outbox items")


@sla_app.command("scan")
def sla_scan(
    now: Annotated[str | None, typer.Option(help="Evaluate as of this ISO time.")] = None,
) -> None:
    """Evaluate every open clock: at-risk/breached events, escalations, deadlines."""
    at = None
    if now:
        try:
            at = datetime.fromisoformat(now)
        except ValueError:
            _fail(f"--now {now!r} is not an ISO time")
        if at is None or at.tzinfo is None:
            _fail("--now needs a time zone, e.g. 2026-11-25T09:00:00+08:00")

    async def run() -> tuple[ScanReport, dict[str, int]]:
        db = Database(get_settings().database_url)
        try:
            install_handlers()
            report = await run_sla_scan(db, now=at)
            async with db.transaction() as session:
                counts = await sla_counts(session)
            return report, counts
        finally:
            await db.dispose()

    report, counts = asyncio.run(run())
    typer.echo(f"evaluated {report.checked} clocks; open clocks at risk: "
               f"{counts.get('at_risk', 0)}, breached: {counts.get('breached', 0)} "
               f"({report.breached} newly breached, {report.escalated} cases escalated, "
               f"{report.deadlines_missed} escalation deadlines missed)")
    for error in report.errors:
        typer.echo(f"  {error}", err=True)


@kb_app.command("import")
def kb_import(path: Annotated[Path, typer.Argument(help="Folder of .md, a .csv or .json")]
              ) -> None:
    """Import articles (an existing external_key gets a new version)."""
    try:
        records = read_path(path)
    except (KbImportError, ValueError) as exc:
        _fail(str(exc))

    async def run() -> dict[str, int]:
        db = Database(get_settings().database_url)
        try:
            async with db.transaction() as session:
                return await import_articles(session, records, "cli")
        finally:
            await db.dispose()

    if is_sqlite(get_settings().database_url):
        _migrate()
    try:
        counts = asyncio.run(run())
    except OmnideskError as exc:
        _fail(exc.detail)
    typer.echo(f"imported {len(records)} articles: {counts['created']} created, "
               f"{counts['updated']} updated")


@kb_app.command("export")
def kb_export(path: Annotated[Path, typer.Argument(help="Folder, .csv or .json")]) -> None:
    """Export every article (a folder of markdown with front matter, CSV or JSON)."""

    async def run() -> int:
        db = Database(get_settings().database_url)
        try:
            async with db.transaction() as session:
                return await export_articles(session, path)
        finally:
            await db.dispose()

    typer.echo(f"exported {asyncio.run(run())} articles to {path}")


def main() -> None:
    app()
