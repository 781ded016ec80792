"""The event feed API, its signed webhook variant, and its configuration."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.auth.deps import AdminOnly, WriteEvents
from omnidesk.config import get_settings
from omnidesk.events.schemas import EventSourceIn, EventTypeIn, WebhookIn
from omnidesk.events.service import ingest
from omnidesk.kit.errors import BadRequest, Conflict, NotFound, PayloadTooLarge, Unauthorized
from omnidesk.kit.ids import new_token
from omnidesk.kit.security import check_webhook_signature
from omnidesk.kit.web import SessionDep, read_body
from omnidesk.models import EventSource, EventType, Webhook

router = APIRouter(prefix="/api/v1", tags=["events"])
MAX_BODY = 16 * 1024 * 1024


async def _raw_body(request: Request) -> bytes:
    return await read_body(request, MAX_BODY)


def _items(body: bytes) -> tuple[list[Any], bool]:
    """The events in a body: one object, a list, or ``{"events": [...]}``."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc}") from exc
    if isinstance(parsed, dict) and set(parsed) == {"events"}:
        parsed = parsed["events"]
        if not isinstance(parsed, list):
            raise BadRequest("'events' must be a list")
    if isinstance(parsed, dict):
        return [parsed], True
    if not isinstance(parsed, list):
        raise BadRequest("send one event object, a list of events, or {\"events\": [...]}")
    limit = get_settings().max_batch_events
    if len(parsed) > limit:
        raise PayloadTooLarge(f"a batch holds at most {limit} events; this one has "
                              f"{len(parsed)}", limit=limit)
    if not parsed:
        raise BadRequest("the batch is empty")
    return parsed, False


def _json(content: Any, status_code: int) -> Response:
    """A JSON response rendered by orjson (a batch answer has 1,000 results)."""
    return Response(orjson.dumps(content), status_code=status_code,
                    media_type="application/json")


async def _ingest(session: AsyncSession, body: bytes) -> Response:
    items, single = _items(body)
    region = get_settings().default_region
    for attempt in range(3):
        try:
            async with session.begin_nested():
                results = await ingest(session, items, region)
            break
        except IntegrityError:  # a concurrent request stored some of these; look again
            if attempt == 2:
                raise
    out = [r.as_dict() for r in results]
    if single:
        status = {"created": 201, "duplicate": 200}.get(results[0].status, 422)
        if status == 422:
            errors = out[0]["errors"]
            detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
            return JSONResponse(
                {"type": "https://omnidesk.dev/problems/validation-error",
                 "title": "Validation failed", "status": 422, "detail": detail,
                 "errors": errors}, status_code=422, media_type="application/problem+json")
        return _json(out[0], status)
    counts = dict.fromkeys(("created", "duplicate", "error"), 0)
    for r in results:
        counts[r.status] += 1
    return _json({**counts, "results": out}, 200)


@router.post("/events", summary="Ingest one event or a batch of up to 1,000")
async def post_events(request: Request, session: SessionDep,
                      _: WriteEvents) -> Response:
    return await _ingest(session, await _raw_body(request))


@router.post("/events/webhook/{source}", summary="Ingest events signed with HMAC-SHA256")
async def post_events_webhook(source: str, request: Request,
                              session: SessionDep) -> Response:
    body = await _raw_body(request)
    src = await session.get(EventSource, source)
    secret = src.secret if src else None
    if secret is None:
        raise NotFound(f"no event source named {source!r}")
    reason = check_webhook_signature(
        secret, request.headers.get("x-omnidesk-timestamp"),
        request.headers.get("x-omnidesk-signature"), body,
        get_settings().webhook_tolerance_seconds)
    if reason:
        raise Unauthorized(f"webhook rejected: {reason}")
    items, single = _items(body)
    for item in items:
        if isinstance(item, dict):
            item.setdefault("source", source)
            if item["source"] != source:
                raise BadRequest(f"events posted to /webhook/{source} must have source "
                                 f"{source!r}")
    return await _ingest(session, orjson.dumps(items[0] if single else items))


@router.put("/event-types/{event_type}", summary="Declare an event type's outcome")
async def put_event_type(event_type: str, body: EventTypeIn, session: SessionDep,
                         _: AdminOnly) -> dict[str, Any]:
    if body.type != event_type:
        raise BadRequest("the type in the path and the body differ")
    row = await session.get(EventType, event_type)
    if row is None:
        row = EventType(type=event_type, outcome=body.outcome)
        session.add(row)
    row.outcome, row.description = body.outcome, body.description
    return {"type": row.type, "outcome": row.outcome, "description": row.description}


@router.get("/event-types")
async def list_event_types(session: SessionDep, _: AdminOnly) -> list[dict[str, Any]]:
    rows = await session.scalars(select(EventType).order_by(EventType.type))
    return [{"type": r.type, "outcome": r.outcome, "description": r.description} for r in rows]


@router.post("/event-sources", status_code=201, summary="Create a signed webhook source")
async def create_source(body: EventSourceIn, session: SessionDep,
                        _: AdminOnly) -> dict[str, str]:
    if await session.get(EventSource, body.name):
        raise Conflict(f"event source {body.name!r} exists")
    secret = body.secret or new_token("whsec_")
    session.add(EventSource(name=body.name, secret=secret))
    return {"name": body.name, "secret": secret,
            "url": f"/api/v1/events/webhook/{body.name}"}


@router.post("/webhooks", status_code=201, summary="Subscribe a URL to events")
async def create_webhook(body: WebhookIn, session: SessionDep, _: AdminOnly) -> dict[str, Any]:
    hook = Webhook(url=body.url, event_types=body.event_types,
                   secret=body.secret or new_token("whsec_"))
    session.add(hook)
    await session.flush()
    return {"id": str(hook.id), "url": hook.url, "event_types": hook.event_types,
            "secret": hook.secret}


@router.get("/webhooks")
async def list_webhooks(session: SessionDep, _: AdminOnly) -> list[dict[str, Any]]:
    rows = await session.scalars(select(Webhook).order_by(Webhook.created_at))
    return [{"id": str(h.id), "url": h.url, "event_types": h.event_types, "active": h.active}
            for h in rows]
