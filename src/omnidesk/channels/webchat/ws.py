"""``/ws/chat``: the customer's side of web and in-app chat.

Query parameters: ``inbox_id`` (a web_chat or app_chat inbox), ``visitor_id`` (the
widget's id, becomes a ``visitor_id`` identity) or ``app_user`` (a logged-in app user's id
signed by the app: ``<id>.<hex hmac-sha256 with OMNIDESK_SECRET_KEY>``), optional
``name`` and ``last_seq`` (resume: every message after it is sent again, nothing twice).
Frames in: ``message`` {body, client_id}, ``typing``, ``ping``. Frames out: ``hello``,
``message``, ``ack``, ``typing``, ``pong``, ``error``.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlalchemy import select

from omnidesk.channels.base import InboundMessage
from omnidesk.config import get_settings
from omnidesk.conversations.batch import ChatIn, GroupWriter, Pipeline
from omnidesk.conversations.service import OPEN_STATES, check_body
from omnidesk.conversations.views import message_json
from omnidesk.customers.service import find_contact_by_identity
from omnidesk.kit.db import Database
from omnidesk.kit.errors import OmnideskError
from omnidesk.kit.security import unsign_value
from omnidesk.models import Conversation, Inbox, Message
from omnidesk.models.enums import Channel
from omnidesk.realtime.hub import Connection, Hub, publish
from omnidesk.realtime.protocol import (
    CLOSE_BAD_REQUEST,
    CLOSE_NOT_FOUND,
    CLOSE_UNAUTHORIZED,
    ProtocolError,
    close_with,
    parse_frame,
    text_field,
)

router = APIRouter()
FRAMES = {"message", "typing", "ping"}


def _identity(ws: WebSocket) -> tuple[str, str]:
    params = ws.query_params
    if params.get("app_user"):
        user_id = unsign_value(get_settings().secret_key, params["app_user"])
        if user_id is None:
            raise ProtocolError(CLOSE_UNAUTHORIZED, "app_user signature does not match")
        return "app_user_id", user_id
    visitor = params.get("visitor_id", "").strip()
    if not visitor or len(visitor) > 200:
        raise ProtocolError(CLOSE_BAD_REQUEST, "visitor_id (1-200 chars) or app_user required")
    return "visitor_id", visitor


def _int_param(ws: WebSocket, name: str) -> int | None:
    raw = ws.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise ProtocolError(CLOSE_BAD_REQUEST, f"{name} must be a non-negative integer")
    return int(raw)


async def _open(db: Database, ws: WebSocket) -> tuple[Inbox, tuple[str, str],
                                                        Conversation | None]:
    try:
        inbox_id = uuid.UUID(ws.query_params.get("inbox_id", ""))
    except ValueError as exc:
        raise ProtocolError(CLOSE_BAD_REQUEST, "inbox_id must be an inbox's UUID") from exc
    identity = _identity(ws)
    async with db.transaction() as session:
        inbox = await session.get(Inbox, inbox_id)
        if inbox is None or inbox.channel not in (Channel.web_chat, Channel.app_chat):
            raise ProtocolError(CLOSE_NOT_FOUND, "no chat inbox with this id")
        contact = await find_contact_by_identity(session, *identity)
        conversation = None
        if contact is not None:
            conversation = await session.scalar(
                select(Conversation).where(Conversation.inbox_id == inbox.id,
                                           Conversation.contact_id == contact.id,
                                           Conversation.status.in_(OPEN_STATES))
                .order_by(Conversation.created_at.desc()).limit(1))
    return inbox, identity, conversation


async def _backlog(db: Database, conn: Connection, conversation: Conversation,
                   after_seq: int) -> None:
    async with db.transaction() as session:
        rows = await session.scalars(
            select(Message).where(Message.conversation_id == conversation.id,
                                  Message.seq > after_seq, Message.is_note.is_(False))
            .order_by(Message.seq).limit(get_settings().ws_resume_limit))
        for m in rows:
            if conn.mark_seen(str(m.id)):
                await conn.send_now({"type": "message", "message": message_json(m)})


def _writer(ws: WebSocket) -> GroupWriter:
    writer: GroupWriter | None = getattr(ws.app.state, "chat_writer", None)
    if writer is None:  # an app without the lifespan's writer: write each message at once
        writer = ws.app.state.chat_writer = GroupWriter(ws.app.state.db)
    return writer


def _uuid_list(raw: Any) -> list[uuid.UUID]:
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > 10:
        raise ProtocolError(CLOSE_BAD_REQUEST, "attachment_ids must be a list of ≤ 10 ids")
    try:
        return [uuid.UUID(str(v)) for v in raw]
    except ValueError as exc:
        raise ProtocolError(CLOSE_BAD_REQUEST, "attachment_ids must be UUIDs") from exc


class VisitorSession:
    def __init__(self, db: Database, hub: Hub, conn: Connection, inbox: Inbox,
                 identity: tuple[str, str], conversation: Conversation | None) -> None:
        self.db, self.hub, self.conn, self.inbox = db, hub, conn, inbox
        self.identity = identity
        self.conversation_id = conversation.id if conversation else None

    def follow(self, conversation_id: uuid.UUID) -> None:
        if self.conversation_id != conversation_id or not self.conn.topics:
            self.hub.unsubscribe_all(self.conn)
            self.conversation_id = conversation_id
            self.hub.subscribe(self.conn, f"conversation:{conversation_id}")

    def parse_message(self, frame: dict[str, Any]) -> ChatIn:
        body = text_field(frame, "body", required=True, limit=20_000) or ""
        client_id = text_field(frame, "client_id", required=False, limit=200)
        attachment_ids = _uuid_list(frame.get("attachment_ids"))
        name = self.conn.ws.query_params.get("name") or None
        return ChatIn(InboundMessage(
            inbox_id=self.inbox.id, identities=dict([self.identity]), body=body,
            external_id=client_id, contact_name=name, attachment_ids=attachment_ids),
            region=get_settings().default_region, conversation_id=self.conversation_id)

    async def on_message(self, item: ChatIn) -> None:
        client_id = item.msg.external_id
        try:
            check_body(item.msg.body, len(item.msg.attachment_ids))
            written = await _writer(self.conn.ws).submit(item, seen=self.conn.mark_seen)
        except OmnideskError as exc:
            await self.conn.send_now({"type": "error", "client_id": client_id,
                                      "status": exc.status, "detail": exc.detail})
            return
        self.follow(written.conversation_id)
        await self.conn.send_now({"type": "ack", "client_id": client_id,
                                  "duplicate": written.duplicate,
                                  "message": written.message})

    async def on_typing(self) -> None:
        if self.conversation_id is not None:
            await publish(f"inbox:{self.inbox.id}", {
                "type": "typing", "conversation_id": str(self.conversation_id),
                "sender": "contact"})


@router.websocket("/ws/chat")
async def chat_socket(ws: WebSocket) -> None:
    db: Database = ws.app.state.db
    hub: Hub = ws.app.state.hub
    await ws.accept()
    conn = Connection(ws)
    inflight = Pipeline()
    try:
        after_seq = _int_param(ws, "last_seq")
        inbox, identity, conversation = await _open(db, ws)
        visitor = VisitorSession(db, hub, conn, inbox, identity, conversation)
        conn.hold()
        if conversation is not None:
            visitor.follow(conversation.id)
        await conn.send_now({"type": "hello", "inbox_id": str(inbox.id),
                             "conversation_id": str(conversation.id) if conversation else None,
                             "last_seq": conversation.last_seq if conversation else 0})
        if conversation is not None and after_seq is not None:
            await _backlog(db, conn, conversation, after_seq)
        conn.release()
        while True:
            raw = await ws.receive()
            if raw["type"] == "websocket.disconnect":
                break
            frame = parse_frame(raw, FRAMES)
            if frame["type"] == "message":
                await inflight.spawn(visitor.on_message(visitor.parse_message(frame)))
            elif frame["type"] == "typing":
                await visitor.on_typing()
            else:
                await conn.send_now({"type": "pong"})
    except ProtocolError as exc:
        await conn.finish()
        await close_with(ws, exc.code, exc.reason)
    except WebSocketDisconnect:
        pass
    finally:
        await inflight.drain()
        hub.unsubscribe_all(conn)
        await conn.finish()
