"""The unified timeline and the customer context (screen pop)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Query, Request

from omnidesk.activity.context import activity_json, get_context, get_context_by_identity
from omnidesk.activity.service import KINDS, list_timeline
from omnidesk.auth.deps import ReadContacts
from omnidesk.config import get_settings
from omnidesk.customers.identities import KINDS as IDENTITY_KINDS
from omnidesk.customers.identities import normalize_identity
from omnidesk.kit.errors import BadRequest, ValidationFailed
from omnidesk.kit.web import FastJSON, SessionDep
from omnidesk.models.enums import Channel

router = APIRouter(prefix="/api/v1", tags=["timeline"])
CHANNELS = tuple(c.value for c in Channel)


def _check_in(values: list[str], allowed: tuple[str, ...], name: str) -> list[str]:
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ValidationFailed(f"unknown {name} {bad}; one of {', '.join(allowed)}", field=name)
    return values


# These read endpoints return their JSON-ready dicts through FastJSON (orjson): the
# documented response is the same object, without FastAPI's per-response validation walk.
OBJECT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {"schema": {"type": "object"}}}}}


@router.get("/contacts/{contact_id}/timeline", response_class=FastJSON, responses=OBJECT)
async def timeline(
    contact_id: uuid.UUID, session: SessionDep, _: ReadContacts,
    channel: list[str] = Query(default=[]), kind: list[str] = Query(default=[]),
    outcome: str | None = None, limit: int = Query(50, ge=1, le=200),
    cursor: str | None = None,
) -> FastJSON:
    """Everything for the contact across every channel, newest first."""
    rows, next_cursor = await list_timeline(
        session, contact_id, channels=_check_in(channel, CHANNELS, "channel"),
        kinds=_check_in(kind, KINDS, "kind"), outcome=outcome, limit=limit, cursor=cursor)
    return FastJSON({"items": [activity_json(a) for a in rows], "next_cursor": next_cursor})


@router.get("/contacts/{contact_id}/context", response_class=FastJSON, responses=OBJECT)
async def contact_context(contact_id: uuid.UUID, session: SessionDep,
                          _: ReadContacts) -> FastJSON:
    return FastJSON(await get_context(session, contact_id))


@router.get("/context", response_class=FastJSON, responses=OBJECT)
async def context_by_identity(request: Request, session: SessionDep,
                              _: ReadContacts) -> FastJSON:
    """The screen pop by any identity: ``?phone=...``, ``?email=...``, ``?wechat_openid=...``."""
    given = [(k, v) for k, v in request.query_params.items() if k in IDENTITY_KINDS]
    unknown = [k for k in request.query_params if k not in IDENTITY_KINDS]
    if unknown or len(given) != 1:
        raise BadRequest(f"name exactly one identity: one of {', '.join(IDENTITY_KINDS)}")
    kind, raw = given[0]
    value = normalize_identity(kind, raw, get_settings().default_region)
    return FastJSON(await get_context_by_identity(session, kind, value))
