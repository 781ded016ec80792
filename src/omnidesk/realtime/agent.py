"""``/ws/agent``: the agent console's live feed.

Authenticated by the session cookie (same-origin only) or ``?token=<API token>``.
Subscribes to every inbox the agent may see and to the agent's own topic (assignments
with the customer context, screen pops). ``?since=<message id>`` resumes: messages after
that one are sent first, nothing twice. Frames in: ``reply`` {conversation_id, body,
client_id, is_note}, ``typing`` {conversation_id}, ``ping``. ``?batch=1``: frames that
are ready together may arrive as one ``{"type": "batch", "frames": [...]}`` (in order).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlalchemy import and_, or_, select

from omnidesk.auth.deps import SESSION_COOKIE
from omnidesk.auth.service import (
    Principal,
    get_principal_for_session,
    get_principal_for_token,
)
from omnidesk.config import get_settings
from omnidesk.conversations.batch import ChatReply, GroupWriter, Pipeline
from omnidesk.conversations.service import check_body
from omnidesk.conversations.views import message_json
from omnidesk.kit.db import Database
from omnidesk.kit.errors import OmnideskError
from omnidesk.models import Conversation, Inbox, Message
from omnidesk.realtime.hub import Connection, Hub, publish
from omnidesk.realtime.protocol import (
    CLOSE_BAD_REQUEST,
    CLOSE_FORBIDDEN,
    CLOSE_UNAUTHORIZED,
    ProtocolError,
    close_with,
    parse_frame,
    text_field,
)

router = APIRouter()
FRAMES = {"reply", "typing", "ping"}
STAFF = {"admin", "supervisor", "agent", "account_manager", "backoffice"}


async def _authenticate(db: Database, ws: WebSocket) -> Principal:
    token = ws.query_params.get("token")
    cookie = ws.cookies.get(SESSION_COOKIE)
    try:
        async with db.transaction() as session:
            if token:
                principal = await get_principal_for_token(session, token)
            elif cookie:
                origin = ws.headers.get("origin")
                host = ws.headers.get("host")
                if origin and host and origin.split("://", 1)[-1] != host:
                    raise ProtocolError(CLOSE_FORBIDDEN, "cross-site websocket refused")
                principal = await get_principal_for_session(session, cookie)
            else:
                raise ProtocolError(CLOSE_UNAUTHORIZED, "sign in or pass ?token=")
    except OmnideskError as exc:
        raise ProtocolError(CLOSE_UNAUTHORIZED, exc.detail) from exc
    if principal.role not in STAFF:
        raise ProtocolError(CLOSE_FORBIDDEN, "not a staff role")
    return principal


async def _subscribe(db: Database, hub: Hub, conn: Connection,
                     principal: Principal) -> list[uuid.UUID]:
    async with db.transaction() as session:
        inboxes = [i for i in await session.scalars(select(Inbox)) if principal.can_see_inbox(i)]
    for inbox in inboxes:
        hub.subscribe(conn, f"inbox:{inbox.id}")
    if principal.user_id:
        hub.subscribe(conn, f"agent:{principal.user_id}")
    return [i.id for i in inboxes]


async def _backlog(db: Database, conn: Connection, inbox_ids: list[uuid.UUID],
                   since: str) -> None:
    try:
        since_id = uuid.UUID(since)
    except ValueError as exc:
        raise ProtocolError(CLOSE_BAD_REQUEST, "since must be a message id") from exc
    async with db.transaction() as session:
        anchor = await session.get(Message, since_id)
        if anchor is None:
            raise ProtocolError(CLOSE_BAD_REQUEST, "since names no message")
        rows = await session.execute(
            select(Message, Conversation).join(Conversation,
                                               Conversation.id == Message.conversation_id)
            .where(Conversation.inbox_id.in_(inbox_ids), or_(
                Message.created_at > anchor.created_at,
                and_(Message.created_at == anchor.created_at, Message.id > anchor.id)))
            .order_by(Message.created_at, Message.id).limit(get_settings().ws_resume_limit))
        for message, conversation in rows:
            if conn.mark_seen(str(message.id)):
                await conn.send_now({"type": "message",
                                     "message": message_json(message, conversation)})


def _reply_item(principal: Principal, frame: dict[str, Any]) -> ChatReply:
    body = text_field(frame, "body", required=True, limit=20_000) or ""
    client_id = text_field(frame, "client_id", required=False, limit=200)
    conv_raw = text_field(frame, "conversation_id", required=True, limit=64) or ""
    try:
        conversation_id = uuid.UUID(conv_raw)
    except ValueError as exc:
        raise ProtocolError(CLOSE_BAD_REQUEST, "conversation_id must be a UUID") from exc
    return ChatReply(principal, conversation_id, body, client_id=client_id,
                     is_note=bool(frame.get("is_note")))


async def _on_reply(conn: Connection, principal: Principal, item: ChatReply) -> None:
    if principal.role not in ("admin", "supervisor", "agent", "account_manager"):
        await conn.send_now({"type": "error", "client_id": item.client_id, "status": 403,
                             "detail": "this role cannot reply"})
        return
    try:
        check_body(item.body)
        written = await _writer(conn).submit(item, seen=conn.mark_seen)
    except OmnideskError as exc:
        await conn.send_now({"type": "error", "client_id": item.client_id,
                             "status": exc.status, "detail": exc.detail})
        return
    await conn.send_now({"type": "ack", "client_id": item.client_id,
                         "message": written.message})


def _writer(conn: Connection) -> GroupWriter:
    app = conn.ws.app
    writer: GroupWriter | None = getattr(app.state, "chat_writer", None)
    if writer is None:  # an app without the lifespan's writer: write each message at once
        writer = app.state.chat_writer = GroupWriter(app.state.db)
    return writer


async def _on_typing(principal: Principal, frame: dict[str, Any]) -> None:
    conv = text_field(frame, "conversation_id", required=True, limit=64)
    await publish(f"conversation:{conv}", {"type": "typing", "conversation_id": conv,
                                           "sender": "agent", "name": principal.name})


# A console can send replies much faster than a visitor (a supervisor's tools, many chats
# at once): more of its frames may wait for the group commit before its reader pauses.
AGENT_IN_FLIGHT = 512


@router.websocket("/ws/agent")
async def agent_socket(ws: WebSocket) -> None:
    db: Database = ws.app.state.db
    hub: Hub = ws.app.state.hub
    await ws.accept()
    conn = Connection(ws, batch=ws.query_params.get("batch") in ("1", "true"))
    inflight = Pipeline(AGENT_IN_FLIGHT)
    user_key: str | None = None
    try:
        principal = await _authenticate(db, ws)
        if principal.user_id:
            user_key = str(principal.user_id)
            await hub.agent_online(user_key)
        conn.hold()
        inbox_ids = await _subscribe(db, hub, conn, principal)
        await conn.send_now({"type": "hello", "user": principal.name, "role": principal.role,
                             "inboxes": [str(i) for i in inbox_ids]})
        since = ws.query_params.get("since")
        if since:
            await _backlog(db, conn, inbox_ids, since)
        conn.release()
        while True:
            raw = await ws.receive()
            if raw["type"] == "websocket.disconnect":
                break
            frame = parse_frame(raw, FRAMES)
            if frame["type"] == "reply":
                await inflight.spawn(_on_reply(conn, principal, _reply_item(principal, frame)))
            elif frame["type"] == "typing":
                await _on_typing(principal, frame)
            else:
                await conn.send_now({"type": "pong"})
    except ProtocolError as exc:
        await conn.finish()
        await close_with(ws, exc.code, exc.reason)
    except WebSocketDisconnect:
        pass
    finally:
        await inflight.drain()
        if user_key:
            await hub.agent_offline(user_key)
        hub.unsubscribe_all(conn)
        await conn.finish()
