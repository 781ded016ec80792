"""HTTP for a WeChat official account: the callback WeChat calls, and the reply window
agents read.

``GET  /channels/wechat/{inbox_id}``  WeChat's URL check: echo ``echostr`` when signed.
``POST /channels/wechat/{inbox_id}``  messages and events (plain or AES); answers the
    passive reply when an instant responder has one within the budget, else "success".
``GET  /channels/wechat/{inbox_id}/window/{conversation_id}``  (staff) the 48-hour window.

The callback speaks WeChat's language: plain-text bodies, 403 for a bad signature, 400
for a malformed message, 404 for an unknown inbox, 503 for a misconfigured one.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy.exc import IntegrityError

from omnidesk.auth.deps import ReadConversations
from omnidesk.channels.wechat.config import ConfigError, WeChatConfig
from omnidesk.channels.wechat.inbound import Accepted, accept, store_passive_reply
from omnidesk.channels.wechat.protocol import (
    CallbackError,
    Incoming,
    check_length,
    check_query_signature,
    read_message,
    render_reply,
)
from omnidesk.channels.wechat.responders import Interaction, passive_reply
from omnidesk.channels.wechat.window import last_inbound_at, window_json
from omnidesk.conversations.service import get_conversation
from omnidesk.kit.db import Database
from omnidesk.kit.errors import NotFound, OmnideskError
from omnidesk.kit.web import SessionDep
from omnidesk.models import Inbox
from omnidesk.models.enums import Channel, SenderType

log = logging.getLogger(__name__)
router = APIRouter(prefix="/channels/wechat", tags=["channels"])

PASSIVE_BUDGET = 4.5  # seconds from the request's arrival; WeChat gives up at 5
STORE_RESERVE = 0.5  # of which kept for storing and encrypting the answer
SUCCESS = "success"  # "received, no passive reply": WeChat will not retry


def _plain(text: str, status: int = 200) -> PlainTextResponse:
    return PlainTextResponse(text, status_code=status)


async def _wechat_inbox(db: Database, inbox_id: str) -> tuple[Inbox, WeChatConfig]:
    try:
        key = uuid.UUID(inbox_id)
    except ValueError as exc:
        raise CallbackError(404, "no WeChat inbox here") from exc
    async with db.transaction() as session:
        inbox = await session.get(Inbox, key)
    if inbox is None or inbox.channel != Channel.wechat:
        raise CallbackError(404, "no WeChat inbox here")
    try:
        return inbox, WeChatConfig.from_inbox(inbox)
    except ConfigError as exc:
        raise CallbackError(503, f"inbox misconfigured: {exc}") from exc


@router.get("/{inbox_id}", response_class=PlainTextResponse,
            summary="WeChat server URL check (echoes echostr when signed)")
async def verify_url(inbox_id: str, request: Request) -> PlainTextResponse:
    try:
        _, cfg = await _wechat_inbox(request.app.state.db, inbox_id)
        check_query_signature(cfg, request.query_params)
    except CallbackError as exc:
        return _plain(exc.text, exc.status)
    return _plain(request.query_params.get("echostr", ""))


@router.post("/{inbox_id}", response_class=PlainTextResponse,
             summary="WeChat messages and events (plain or safe mode)")
async def callback(inbox_id: str, request: Request) -> Response:
    deadline = time.monotonic() + PASSIVE_BUDGET
    db: Database = request.app.state.db
    params = request.query_params
    try:
        inbox, cfg = await _wechat_inbox(db, inbox_id)
        check_query_signature(cfg, params)
        check_length(request.headers.get("content-length"))
        incoming = read_message(cfg, params, await request.body())
        accepted = await _accept(db, inbox, incoming, request.app.state.settings.default_region)
    except CallbackError as exc:
        return _plain(exc.text, exc.status)
    except OmnideskError as exc:
        return _plain(exc.detail, exc.status if 400 <= exc.status < 500 else 400)
    if accepted.duplicate:
        return _plain(SUCCESS)
    answer = await passive_reply(_interaction(inbox, cfg, incoming, accepted),
                                 deadline=deadline - STORE_RESERVE)
    if answer is None:
        return _plain(SUCCESS)
    await _record_answer(db, inbox, incoming, accepted, answer)
    return Response(render_reply(cfg, incoming, answer, params), media_type="application/xml")


async def _accept(db: Database, inbox: Inbox, incoming: Incoming, region: str) -> Accepted:
    """Store it; a retry racing its first delivery finds it stored on the second try."""
    try:
        async with db.transaction() as session:
            return await accept(session, inbox, incoming, region)
    except IntegrityError:
        async with db.transaction() as session:
            return await accept(session, inbox, incoming, region)


def _interaction(inbox: Inbox, cfg: WeChatConfig, incoming: Incoming,
                 accepted: Accepted) -> Interaction:
    return Interaction(
        inbox_id=inbox.id, config=cfg, openid=incoming.openid,
        contact_id=accepted.contact_id, msg_type=incoming.msg_type, event=incoming.event,
        text=accepted.text, conversation_id=accepted.conversation_id,
        fields=dict(incoming.fields))


async def _record_answer(db: Database, inbox: Inbox, incoming: Incoming,
                         accepted: Accepted, answer: str) -> None:
    """Store the passive answer; the customer gets it even if storing fails."""
    sender = SenderType.system if incoming.msg_type == "event" else SenderType.bot
    try:
        async with db.transaction() as session:
            await store_passive_reply(session, inbox, accepted, answer, sender)
    except Exception:
        log.exception("could not record the passive WeChat reply on inbox %s", inbox.id)


@router.get("/{inbox_id}/window/{conversation_id}",
            summary="WeChat's 48-hour reply window for a conversation")
async def reply_window(inbox_id: uuid.UUID, conversation_id: uuid.UUID,
                       session: SessionDep, principal: ReadConversations) -> dict[str, Any]:
    conversation = await get_conversation(session, conversation_id, principal)
    if conversation.inbox_id != inbox_id or conversation.channel != Channel.wechat:
        raise NotFound(f"conversation {conversation_id} is not on WeChat inbox {inbox_id}")
    last = await last_inbound_at(session, inbox_id, conversation.contact_id)
    return {"conversation_id": str(conversation.id), **window_json(last)}
