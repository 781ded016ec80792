"""``Idempotency-Key``: a create that an integration retries is answered with the first
response instead of creating a duplicate. Keys are per caller; reusing a key for a
different request is a 422."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.kit.errors import ValidationFailed
from omnidesk.models import IdempotencyKey

HEADER = "Idempotency-Key"


def fingerprint(path: str, body: Any) -> str:
    raw = orjson.dumps(jsonable_encoder(body), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(path.encode() + b"\n" + raw).hexdigest()


async def replay(session: AsyncSession, principal: str, key: str | None, path: str,
                 body: Any) -> JSONResponse | None:
    if not key:
        return None
    if len(key) > 200:
        raise ValidationFailed(f"{HEADER} is limited to 200 characters")
    row = await session.get(IdempotencyKey, (principal, key))
    if row is None:
        return None
    if row.body.get("fingerprint") != fingerprint(path, body):
        raise ValidationFailed(f"this {HEADER} was used for a different request")
    return JSONResponse(row.body["response"], status_code=row.status,
                        headers={"Idempotent-Replayed": "true"})


async def remember(session: AsyncSession, principal: str, key: str | None, path: str,
                   body: Any, status: int, response: Any) -> None:
    if not key:
        return
    session.add(IdempotencyKey(principal=principal, key=key, status=status, body={
        "fingerprint": fingerprint(path, body), "response": jsonable_encoder(response)}))


async def once(session: AsyncSession, principal: str, key: str | None, path: str, body: Any,
               create: Callable[[], Awaitable[Any]], status: int = 201) -> Any:
    """Run ``create`` unless this key already did; then answer what it answered."""
    replayed = await replay(session, principal, key, path, body)
    if replayed is not None:
        return replayed
    out = await create()
    await remember(session, principal, key, path, body, status, out)
    return out
