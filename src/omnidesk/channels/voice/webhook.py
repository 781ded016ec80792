"""Signed channel webhooks (voice call events, SMS gateways): the inbox, its secret, the
HMAC-SHA256 signature over ``"{timestamp}." + raw body`` (the scheme of the event feed and
of omnidesk's own outbound webhooks: ``X-Omnidesk-Timestamp`` and
``X-Omnidesk-Signature: sha256=<hex>``), the replay window, and the record of every
accepted event (``channel_events``) that makes a retry a duplicate and the same signed
request sent twice a replay.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.config import get_settings
from omnidesk.kit.errors import Conflict, NotFound, OmnideskError, Unauthorized
from omnidesk.kit.security import check_webhook_signature
from omnidesk.kit.web import problem
from omnidesk.kit.web import read_body as read_limited
from omnidesk.models import ChannelEvent, Inbox

log = logging.getLogger(__name__)
MAX_BODY = 256 * 1024
TIMESTAMP_HEADER = "x-omnidesk-timestamp"
SIGNATURE_HEADER = "x-omnidesk-signature"


class Misconfigured(OmnideskError):
    status = 503
    type = "inbox-misconfigured"
    title = "Inbox misconfigured"


@dataclass
class Handled:
    """What a webhook handler answers: a status and a JSON body (problem+json for 4xx)."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)

    def response(self) -> JSONResponse:
        if self.status >= 400:
            return problem(self.status, self.body.get("type", "rejected"),
                           self.body.get("title", "Rejected"), self.body.get("detail", ""),
                           **{k: v for k, v in self.body.items()
                              if k not in ("type", "title", "detail")})
        return JSONResponse(self.body, status_code=self.status)


def parse_inbox_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise NotFound(f"no inbox {raw!r}") from exc


async def load_inbox(session: AsyncSession, raw_id: str, channel: str) -> Inbox:
    inbox = await session.get(Inbox, parse_inbox_id(raw_id))
    if inbox is None or inbox.channel != channel:
        raise NotFound(f"no {channel} inbox {raw_id}")
    return inbox


def secret_of(inbox: Inbox) -> str:
    secret = (inbox.config or {}).get("secret")
    if not isinstance(secret, str) or len(secret) < 16:
        raise Misconfigured("the inbox needs config 'secret' (at least 16 characters) to "
                            "check webhook signatures")
    return secret


async def read_body(request: Request) -> bytes:
    return await read_limited(request, MAX_BODY)


def check_signature(inbox: Inbox, request: Request, body: bytes) -> str:
    """The accepted signature header, or 401 with the reason (missing, stale, wrong)."""
    reason = check_webhook_signature(
        secret_of(inbox), request.headers.get(TIMESTAMP_HEADER),
        request.headers.get(SIGNATURE_HEADER), body, get_settings().webhook_tolerance_seconds)
    if reason:
        log.warning("%s webhook on inbox %s rejected: %s", inbox.channel, inbox.id, reason)
        raise Unauthorized(f"webhook rejected: {reason}")
    return (request.headers.get(SIGNATURE_HEADER) or "").strip()[:200]


async def check_not_replayed(session: AsyncSession, inbox_id: uuid.UUID,
                             signature: str) -> None:
    seen = await session.scalar(select(ChannelEvent.key).where(
        ChannelEvent.inbox_id == inbox_id, ChannelEvent.signature == signature))
    if seen is not None:
        log.warning("replayed webhook on inbox %s (event %s)", inbox_id, seen)
        raise Conflict("webhook rejected: this signed request was already received (replay); "
                       "a retry must be signed again with a new timestamp")


async def find_event(session: AsyncSession, inbox_id: uuid.UUID, key: str) -> ChannelEvent | None:
    return await session.scalar(select(ChannelEvent).where(
        ChannelEvent.inbox_id == inbox_id, ChannelEvent.key == key))


def record_event(session: AsyncSession, inbox_id: uuid.UUID, key: str, signature: str | None,
                 payload: dict[str, Any], *, subject: str | None = None,
                 status: str = "accepted", reason: str | None = None) -> ChannelEvent:
    row = ChannelEvent(inbox_id=inbox_id, key=key[:400], signature=signature, status=status,
                       reason=reason, payload=payload,
                       subject=subject[:300] if subject else None)
    session.add(row)
    return row


async def quarantined(session: AsyncSession, inbox_id: uuid.UUID,
                      subject: str) -> list[ChannelEvent]:
    rows = await session.scalars(select(ChannelEvent).where(
        ChannelEvent.inbox_id == inbox_id, ChannelEvent.status == "quarantined",
        ChannelEvent.subject == subject).order_by(ChannelEvent.created_at, ChannelEvent.id))
    return list(rows)
