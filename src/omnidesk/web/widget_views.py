"""The customer's side of web chat: the widget script, a demo page, visitor uploads."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy import select

from omnidesk.config import get_settings
from omnidesk.conversations.attachments import do_store_upload
from omnidesk.conversations.service import OPEN_STATES
from omnidesk.conversations.views import attachment_json
from omnidesk.customers.service import find_contact_by_identity
from omnidesk.kit.errors import NotFound
from omnidesk.kit.web import SessionDep
from omnidesk.models import Conversation, Inbox
from omnidesk.models.enums import Channel
from omnidesk.web.render import render

router = APIRouter(include_in_schema=False)
WIDGET = Path(__file__).resolve().parent / "static" / "widget.js"


@router.get("/widget.js")
async def widget_js() -> FileResponse:
    return FileResponse(WIDGET, media_type="text/javascript; charset=utf-8",
                        headers={"Cache-Control": "public, max-age=300"})


@router.get("/widget/demo")
async def widget_demo(request: Request, session: SessionDep, inbox: uuid.UUID | None = None,
                      app_user: str | None = Query(None, max_length=300)) -> HTMLResponse:
    """A sample customer site embedding the widget with one <script> tag (``app_user``:
    a signed app user id, as the app's back end would put in its page)."""
    stmt = select(Inbox).where(Inbox.channel == Channel.web_chat, Inbox.restricted.is_(False))
    if inbox is not None:
        stmt = select(Inbox).where(Inbox.id == inbox)
    chosen = await session.scalar(stmt.order_by(Inbox.created_at).limit(1))
    if chosen is None:
        raise NotFound("create a web_chat inbox first")
    return render(request, "widget/demo.html", inbox=chosen, app_user=app_user)


@router.post("/widget/attachments", status_code=201)
async def visitor_upload(session: SessionDep, inbox_id: uuid.UUID = Query(...),
                         visitor_id: str = Query(..., min_length=1, max_length=200),
                         file: UploadFile = File(...)) -> dict[str, Any]:
    """A visitor attaches a file to their open conversation (limits and sniffing apply)."""
    contact = await find_contact_by_identity(session, "visitor_id", visitor_id)
    conversation = None
    if contact is not None:
        conversation = await session.scalar(select(Conversation).where(
            Conversation.inbox_id == inbox_id, Conversation.contact_id == contact.id,
            Conversation.status.in_(OPEN_STATES)).order_by(Conversation.created_at.desc()))
    if conversation is None:
        raise NotFound("send a message first: attachments belong to a conversation")
    attachment = await do_store_upload(session, file, get_settings(),
                                       conversation_id=conversation.id,
                                       uploaded_by=f"visitor:{visitor_id}")
    return attachment_json(attachment)
