"""The FastAPI application factory and its lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from omnidesk import __version__
from omnidesk.accounts.endpoints import router as accounts_router
from omnidesk.activity.endpoints import router as activity_router
from omnidesk.auth.endpoints import router as auth_router
from omnidesk.bot.endpoints import router as bot_router
from omnidesk.cases.endpoints import router as cases_router
from omnidesk.cases.escalation_endpoints import router as escalations_router
from omnidesk.channels import email, wechat
from omnidesk.channels import sms as sms_channel
from omnidesk.channels import voice as voice_channel
from omnidesk.channels.webchat.ws import router as chat_ws_router
from omnidesk.config import Settings, get_settings
from omnidesk.conversations.batch import GroupWriter
from omnidesk.conversations.endpoints import router as conversations_router
from omnidesk.conversations.writer_process import WriterProcess
from omnidesk.customers.endpoints import router as customers_router
from omnidesk.events.endpoints import router as events_router
from omnidesk.kit.db import Database, is_sqlite
from omnidesk.kit.migrate import upgrade_async
from omnidesk.kit.outbox import Dispatcher
from omnidesk.kit.web import install_error_handlers
from omnidesk.knowledge.endpoints import router as knowledge_router
from omnidesk.knowledge.library import reset_library
from omnidesk.realtime.agent import router as agent_ws_router
from omnidesk.realtime.broker import MemoryBroker, RedisBroker
from omnidesk.realtime.hub import Hub, set_hub
from omnidesk.routing.endpoints import router as routing_router
from omnidesk.scheduler import run_periodically
from omnidesk.sla.endpoints import router as sla_router
from omnidesk.web.admin_bot_views import router as admin_bot_router
from omnidesk.web.admin_kb_views import router as admin_kb_router
from omnidesk.web.admin_sla_views import router as admin_sla_router
from omnidesk.web.admin_views import router as admin_router
from omnidesk.web.agent_views import router as agent_views_router
from omnidesk.web.canned_views import router as canned_router
from omnidesk.web.case_views import router as case_views_router
from omnidesk.web.help_views import router as help_router
from omnidesk.web.portal_views import router as portal_router
from omnidesk.web.reports import router as reports_router
from omnidesk.web.session import LoginRequired, login_redirect
from omnidesk.web.supervisor_views import router as supervisor_router
from omnidesk.web.widget_views import router as widget_router
from omnidesk.wiring import install_handlers, settle_gc

STATIC = Path(__file__).resolve().parent / "web" / "static"

log = logging.getLogger(__name__)


async def _writer_process(settings: Settings) -> WriterProcess | None:
    if settings.chat_writer != "process":
        return None
    process = WriterProcess(settings.database_url)
    try:
        await process.start()
    except Exception:  # WriterGone, or a platform that cannot spawn: serve all the same
        log.exception("chat writer process could not start; writing chats inline")
        return None
    return process


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    db = Database(settings.database_url)
    if is_sqlite(settings.database_url) or settings.auto_migrate:
        await upgrade_async(db.engine, settings.database_url)
    broker = RedisBroker(settings.redis_url) if settings.redis_url else MemoryBroker()
    hub = Hub(broker)
    await hub.start()
    set_hub(hub)
    app.state.db, app.state.hub = db, hub
    chat_writer = app.state.chat_writer = GroupWriter(
        db, linger=settings.chat_commit_linger_ms / 1000,
        process=await _writer_process(settings))
    chat_writer.start()
    reset_library()
    install_handlers()
    dispatcher = None
    task = None
    stop_scans = asyncio.Event()
    scans = None
    if settings.run_worker_in_process:
        dispatcher = Dispatcher(db, poll_seconds=settings.outbox_poll_seconds,
                                max_attempts=settings.outbox_max_attempts)
        task = asyncio.create_task(dispatcher.run_forever(), name="outbox")
        scans = asyncio.create_task(run_periodically(db, settings, stop_scans), name="scans")
    mail = app.state.email = email.EmailServices(db, settings)
    await mail.start(imap=settings.run_worker_in_process)
    settle_gc()
    try:
        yield
    finally:
        await mail.stop()
        stop_scans.set()
        if scans is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(scans, timeout=10)
        if dispatcher is not None and task is not None:
            dispatcher.stop()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, timeout=10)
        await chat_writer.stop()
        await hub.stop()
        set_hub(None)
        await db.dispose()


ROUTERS = [
    auth_router,
    customers_router,
    activity_router,
    events_router,
    conversations_router,
    cases_router,
    escalations_router,
    accounts_router,
    sla_router,
    routing_router,
    knowledge_router,
    bot_router,
    help_router,
    chat_ws_router,
    wechat.router,
    voice_channel.router,
    sms_channel.router,
    agent_ws_router,
    agent_views_router,
    case_views_router,
    widget_router,
    reports_router,
    supervisor_router,
    admin_router,
    admin_sla_router,
    admin_kb_router,
    admin_bot_router,
    canned_router,
    portal_router,
]


async def _login_redirect(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return login_redirect(exc)


def create_app(settings: Settings | None = None) -> FastAPI:
    app = FastAPI(
        title="omnidesk", version=__version__, lifespan=lifespan,
        description="Open-source omnichannel customer service: one path for every channel.",
    )
    app.state.settings = settings or get_settings()
    install_error_handlers(app)
    app.add_exception_handler(LoginRequired, _login_redirect)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    for router in ROUTERS:
        app.include_router(router)

    @app.get("/health", tags=["ops"])
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/agent")

    return app
