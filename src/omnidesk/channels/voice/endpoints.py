"""HTTP for a voice inbox: the call-event webhook and the Asterisk ARI event endpoint.

``POST /channels/voice/{inbox_id}/events``  one call event (ringing, answered,
    transferred, ended, transcript), signed with the inbox's ``secret``.
``POST /channels/voice/{inbox_id}/ari``  one Asterisk ARI event, signed the same way
    (``python -m omnidesk.channels.voice.ari_runner`` forwards a live ARI websocket).

Answers: 201 a call rang, 200 accepted / duplicate / ignored, 202 a transcript held until
its call rings, 401 a missing, stale or wrong signature, 409 a replayed request or an
event for an unknown call (quarantined with the reason, applied if the call rings), 422 a
malformed event, 404 no such voice inbox, 503 an inbox without a secret.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from omnidesk.channels.voice.ari import NotACallEvent, translate
from omnidesk.channels.voice.config import VoiceConfig
from omnidesk.channels.voice.schemas import CallEvent, parse_event
from omnidesk.channels.voice.service import get_call, handle
from omnidesk.channels.voice.webhook import (
    Handled,
    check_not_replayed,
    check_signature,
    load_inbox,
    read_body,
)
from omnidesk.config import get_settings
from omnidesk.kit.db import Database
from omnidesk.kit.errors import BadRequest
from omnidesk.models import Inbox
from omnidesk.models.enums import Channel

log = logging.getLogger(__name__)
router = APIRouter(prefix="/channels/voice", tags=["channels"])


async def _signed_json(request: Request, inbox_id: str) -> tuple[Inbox, VoiceConfig, str, Any]:
    db: Database = request.app.state.db
    body = await read_body(request)
    async with db.transaction() as session:
        inbox = await load_inbox(session, inbox_id, Channel.voice)
    cfg = VoiceConfig.from_inbox(inbox)
    signature = check_signature(inbox, request, body)
    try:
        return inbox, cfg, signature, orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc}") from exc


async def _handle(db: Database, inbox: Inbox, cfg: VoiceConfig, ev: CallEvent,
                  signature: str, *, track_unknown: bool = True) -> Handled:
    region = get_settings().default_region
    for attempt in range(2):
        try:
            async with db.transaction() as session:
                await check_not_replayed(session, inbox.id, signature)
                if not track_unknown and ev.event in ("answered", "transferred", "ended") \
                        and await get_call(session, inbox.id, ev.call_id) is None:
                    return Handled(200, {"status": "ignored", "event": ev.event,
                                         "reason": f"channel {ev.call_id} is not a call "
                                                   "omnidesk saw start"})
                return await handle(session, inbox, cfg, ev, signature=signature,
                                    region=region)
        except IntegrityError:  # a concurrent retry stored it a moment ago: look again
            if attempt == 1:
                raise
    raise AssertionError("unreachable")


@router.post("/{inbox_id}/events", summary="Call events from a PBX (HMAC-signed)")
async def call_events(inbox_id: str, request: Request) -> JSONResponse:
    inbox, cfg, signature, raw = await _signed_json(request, inbox_id)
    ev = parse_event(raw)
    handled = await _handle(request.app.state.db, inbox, cfg, ev, signature)
    return handled.response()


@router.post("/{inbox_id}/ari", summary="Asterisk ARI events (HMAC-signed)")
async def ari_events(inbox_id: str, request: Request) -> JSONResponse:
    inbox, cfg, signature, raw = await _signed_json(request, inbox_id)
    try:
        ev = translate(raw, cfg)
    except NotACallEvent as exc:
        return JSONResponse({"status": "ignored", "reason": str(exc)})
    handled = await _handle(request.app.state.db, inbox, cfg, ev, signature,
                            track_unknown=False)
    return handled.response()
