"""HTTP for an SMS inbox: the gateway's inbound webhook and its delivery receipts.

``POST /channels/sms/{inbox_id}/inbound``   one inbound SMS (or one part of a long one)
``POST /channels/sms/{inbox_id}/receipts``  one delivery receipt for a message we sent

Both signed with the inbox's ``secret`` (``X-Omnidesk-Timestamp``,
``X-Omnidesk-Signature: sha256=<hex>`` over ``"{timestamp}." + raw body``), JSON or form.
Answers: 201 a message stored, 202 a part stored (waiting for the others), 200 duplicate /
consent recorded / receipt applied, 401 signature, 409 replay, 404 unknown inbox or a
receipt for an unknown message (quarantined), 422 a malformed message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.channels.sms.config import SmsConfig
from omnidesk.channels.sms.inbound import handle_inbound, handle_receipt, parse_body, parse_sms
from omnidesk.channels.voice.webhook import (
    Handled,
    check_not_replayed,
    check_signature,
    load_inbox,
    read_body,
)
from omnidesk.config import get_settings
from omnidesk.kit.db import Database
from omnidesk.models import Inbox
from omnidesk.models.enums import Channel

router = APIRouter(prefix="/channels/sms", tags=["channels"])
Handler = Callable[[AsyncSession, Inbox, str], Awaitable[Handled]]


async def _signed(request: Request, inbox_id: str) -> tuple[Inbox, str, dict[str, Any]]:
    db: Database = request.app.state.db
    body = await read_body(request)
    async with db.transaction() as session:
        inbox = await load_inbox(session, inbox_id, Channel.sms)
    SmsConfig.from_inbox(inbox)  # 503 with the reason when misconfigured
    signature = check_signature(inbox, request, body)
    return inbox, signature, parse_body(body, request.headers.get("content-type"))


async def _run(db: Database, inbox: Inbox, signature: str, handler: Handler) -> JSONResponse:
    for attempt in range(2):
        try:
            async with db.transaction() as session:
                await check_not_replayed(session, inbox.id, signature)
                handled = await handler(session, inbox, signature)
            return handled.response()
        except IntegrityError:  # a concurrent retry stored it a moment ago: look again
            if attempt == 1:
                raise
    raise AssertionError("unreachable")


@router.post("/{inbox_id}/inbound", summary="Inbound SMS from the gateway (HMAC-signed)")
async def inbound(inbox_id: str, request: Request) -> JSONResponse:
    inbox, signature, raw = await _signed(request, inbox_id)
    region = get_settings().default_region
    sms = parse_sms(raw, region)

    async def handler(session: AsyncSession, inbox: Inbox, signature: str) -> Handled:
        return await handle_inbound(session, inbox, sms, signature=signature, region=region)

    return await _run(request.app.state.db, inbox, signature, handler)


@router.post("/{inbox_id}/receipts", summary="SMS delivery receipts (HMAC-signed)")
async def receipts(inbox_id: str, request: Request) -> JSONResponse:
    inbox, signature, raw = await _signed(request, inbox_id)

    async def handler(session: AsyncSession, inbox: Inbox, signature: str) -> Handled:
        return await handle_receipt(session, inbox, raw, signature=signature)

    return await _run(request.app.state.db, inbox, signature, handler)
