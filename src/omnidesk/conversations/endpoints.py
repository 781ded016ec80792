"""REST API for inboxes, conversations, messages and attachments."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Query, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import and_, or_, select

from omnidesk.activity.context import get_context
from omnidesk.auth.deps import AdminOnly, ReadConversations, WriteConversations
from omnidesk.auth.service import Principal
from omnidesk.channels.base import InboundMessage
from omnidesk.config import get_settings
from omnidesk.conversations import service
from omnidesk.conversations.attachments import attachment_path, do_store_upload
from omnidesk.conversations.schemas import (
    Assign,
    InboundCreate,
    InboxCreate,
    InboxRead,
    MessageCreate,
    StatusChange,
)
from omnidesk.conversations.views import attachment_json, conversation_json, message_json
from omnidesk.kit.errors import BadRequest, NotFound, ValidationFailed
from omnidesk.kit.web import SessionDep, decode_cursor, encode_cursor
from omnidesk.models import Attachment, Conversation, Inbox, Message, Team
from omnidesk.models.enums import Channel, SenderType

router = APIRouter(prefix="/api/v1", tags=["conversations"])


async def visible_inbox_ids(session: SessionDep, principal: Principal) -> list[uuid.UUID]:
    inboxes = await session.scalars(select(Inbox))
    return [i.id for i in inboxes if principal.can_see_inbox(i)]


@router.post("/inboxes", status_code=201, response_model=InboxRead)
async def create_inbox(body: InboxCreate, session: SessionDep, _: AdminOnly) -> Inbox:
    if body.team_id and await session.get(Team, body.team_id) is None:
        raise ValidationFailed(f"team {body.team_id} not found", field="team_id")
    if body.restricted and body.team_id is None:
        raise ValidationFailed("a restricted inbox needs a team_id", field="team_id")
    inbox = Inbox(**body.model_dump())
    session.add(inbox)
    await session.flush()
    return inbox


@router.get("/inboxes", response_model=list[InboxRead])
async def list_inboxes(session: SessionDep, principal: ReadConversations) -> list[Inbox]:
    rows = await session.scalars(select(Inbox).order_by(Inbox.created_at))
    return [i for i in rows if principal.can_see_inbox(i)]


@router.post("/inboxes/{inbox_id}/messages", summary="Post an inbound message (api channel)")
async def post_inbound(inbox_id: uuid.UUID, body: InboundCreate, session: SessionDep,
                       principal: WriteConversations) -> JSONResponse:
    inbox = await service.get_inbox(session, inbox_id)
    service.check_can_write(principal, inbox)
    if inbox.channel != Channel.api:
        raise BadRequest(f"inbox {inbox_id} is a {inbox.channel} inbox; its adapter receives "
                         "its messages")
    received = await service.receive(session, InboundMessage(
        inbox_id=inbox.id, identities=body.contact, body=body.body,
        external_id=body.external_id, contact_name=body.contact_name, subject=body.subject,
        attachment_ids=body.attachment_ids, data=body.data,
    ), region=get_settings().default_region)
    out = {"message": message_json(received.message, received.conversation),
           "conversation": conversation_json(received.conversation),
           "contact_id": str(received.contact_id), "duplicate": received.duplicate}
    return JSONResponse(out, status_code=200 if received.duplicate else 201)


@router.get("/conversations")
async def list_conversations(
    session: SessionDep, principal: ReadConversations,
    inbox_id: uuid.UUID | None = None, status: str | None = None,
    assignee_id: uuid.UUID | None = None, contact_id: uuid.UUID | None = None,
    channel: str | None = None, limit: int = Query(25, ge=1, le=200), cursor: str | None = None,
) -> dict[str, Any]:
    """Newest activity first, keyset-paginated."""
    stmt = select(Conversation).where(
        Conversation.inbox_id.in_(await visible_inbox_ids(session, principal)))
    for column, value in ((Conversation.inbox_id, inbox_id), (Conversation.status, status),
                          (Conversation.assignee_id, assignee_id),
                          (Conversation.contact_id, contact_id),
                          (Conversation.channel, channel)):
        if value is not None:
            stmt = stmt.where(column == value)
    if cursor:
        at_raw, id_raw = decode_cursor(cursor, 2)
        at, after = datetime.fromisoformat(at_raw), uuid.UUID(id_raw)
        stmt = stmt.where(or_(Conversation.last_message_at < at, and_(
            Conversation.last_message_at == at, Conversation.id < after)))
    rows = list(await session.scalars(stmt.order_by(
        Conversation.last_message_at.desc(), Conversation.id.desc()).limit(limit + 1)))
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit and page and page[-1].last_message_at:
        next_cursor = encode_cursor(page[-1].last_message_at.isoformat(), page[-1].id)
    return {"items": [conversation_json(c) for c in page], "next_cursor": next_cursor}


@router.get("/conversations/{conversation_id}")
async def get_conversation(conversation_id: uuid.UUID, session: SessionDep,
                           principal: ReadConversations) -> dict[str, Any]:
    return conversation_json(await service.get_conversation(session, conversation_id, principal))


@router.get("/conversations/{conversation_id}/messages")
async def list_messages(conversation_id: uuid.UUID, session: SessionDep,
                        principal: ReadConversations, after_seq: int = Query(0, ge=0),
                        limit: int = Query(100, ge=1, le=500)) -> dict[str, Any]:
    conversation = await service.get_conversation(session, conversation_id, principal)
    rows = list(await session.scalars(select(Message).where(
        Message.conversation_id == conversation.id, Message.seq > after_seq)
        .order_by(Message.seq).limit(limit)))
    atts: dict[uuid.UUID, list[Attachment]] = {}
    if rows:
        for a in await session.scalars(select(Attachment).where(
                Attachment.message_id.in_([m.id for m in rows]))):
            atts.setdefault(a.message_id, []).append(a)  # type: ignore[arg-type]
    return {"items": [message_json(m, conversation, atts.get(m.id)) for m in rows],
            "last_seq": conversation.last_seq}


@router.post("/conversations/{conversation_id}/messages")
async def post_message(
    conversation_id: uuid.UUID, body: MessageCreate, session: SessionDep,
    principal: WriteConversations,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> JSONResponse:
    """An agent's reply or internal note (``Idempotency-Key`` or ``client_id``: stored once)."""
    conversation = await service.get_conversation(session, conversation_id, principal)
    message, created = await service.reply(
        session, conversation, body=body.body, sender_type=SenderType.agent,
        sender_id=principal.user_id, author_name=principal.name, is_note=body.is_note,
        client_id=body.client_id or idempotency_key, attachment_ids=body.attachment_ids)
    return JSONResponse(message_json(message, conversation), status_code=201 if created else 200)


@router.post("/conversations/{conversation_id}/status")
async def set_status(conversation_id: uuid.UUID, body: StatusChange, session: SessionDep,
                     principal: WriteConversations) -> dict[str, Any]:
    service.check_snooze(body.status, body.snoozed_until)
    conversation = await service.get_conversation(session, conversation_id, principal)
    await service.do_set_status(session, conversation, body.status, body.snoozed_until)
    return conversation_json(conversation)


@router.post("/conversations/{conversation_id}/assign")
async def assign(conversation_id: uuid.UUID, body: Assign, session: SessionDep,
                 principal: WriteConversations) -> dict[str, Any]:
    conversation = await service.get_conversation(session, conversation_id, principal)
    context = await get_context(session, conversation.contact_id) if body.assignee_id else None
    await service.do_assign(session, conversation, assignee_id=body.assignee_id,
                            team_id=body.team_id, context=context)
    return conversation_json(conversation)


@router.post("/attachments", status_code=201)
async def upload_attachment(
    session: SessionDep, principal: WriteConversations, file: UploadFile = File(...),
    conversation_id: uuid.UUID | None = Form(None),
) -> dict[str, Any]:
    if conversation_id is not None:
        await service.get_conversation(session, conversation_id, principal)
    attachment = await do_store_upload(session, file, get_settings(),
                                       conversation_id=conversation_id,
                                       uploaded_by=principal.label)
    return attachment_json(attachment)


@router.get("/attachments/{attachment_id}")
async def download_attachment(attachment_id: uuid.UUID, session: SessionDep,
                              principal: ReadConversations) -> FileResponse:
    attachment = await session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound("attachment not found")
    if attachment.conversation_id is not None:
        await service.get_conversation(session, attachment.conversation_id, principal)
    path = attachment_path(attachment, get_settings())
    if not path.is_file():
        raise NotFound("attachment file is missing")
    return FileResponse(path, media_type=attachment.content_type, filename=attachment.filename,
                        content_disposition_type="attachment")
