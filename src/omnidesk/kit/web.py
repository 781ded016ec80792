"""HTTP plumbing shared by every domain: the per-request transaction, problem+json
errors and cursors."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException as StarletteHTTPException

from omnidesk.kit.db import Database, run_after_commit
from omnidesk.kit.errors import PROBLEM_BASE, BadRequest, OmnideskError, PayloadTooLarge

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed when the handler returns (before the
    response is sent), rolled back on error; after-commit work runs after the commit.
    A GET (or HEAD) request's transaction reads without SQLite's write lock until it
    writes, if it does (:attr:`Database.reading_sessions`)."""
    db = get_database(request)
    reading = request.method in ("GET", "HEAD")
    async with (db.reading_sessions if reading else db.sessions)() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
        await run_after_commit(session)


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
DatabaseDep = Annotated[Database, Depends(get_database)]


async def read_body(request: Request, limit: int) -> bytes:
    """The raw request body, refused (413) over ``limit`` bytes — by the declared length
    before reading, and by what arrived."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body over {limit} bytes")
    body = await request.body()
    if len(body) > limit:
        raise PayloadTooLarge(f"request body over {limit} bytes")
    return body


class FastJSON(Response):
    """A JSON response serialised by orjson, for handlers that return plain JSON-ready
    data (str / int / float / bool / None, lists, dicts with str keys) and want to skip
    FastAPI's response validation and ``jsonable_encoder`` walk. Values orjson refuses
    (integers beyond 64 bits from stored JSON) fall back to the standard library."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except orjson.JSONEncodeError:
            return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


def problem(status: int, type_: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": PROBLEM_BASE + type_, "title": title, "status": status, "detail": detail}
    body.update(extra)
    return JSONResponse(jsonable_encoder(body), status_code=status, media_type=PROBLEM_JSON)


def _field_errors(errors: Any) -> list[dict[str, Any]]:
    out = []
    for e in errors:
        loc = [str(p) for p in e.get("loc", ()) if p not in ("body",)]
        out.append({"field": ".".join(loc), "message": e.get("msg", ""), "type": e.get("type")})
    return out


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(OmnideskError)
    async def _omnidesk(request: Request, exc: OmnideskError) -> JSONResponse:
        body = exc.to_problem(str(request.url.path))
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(
            jsonable_encoder(body), status_code=exc.status, media_type=PROBLEM_JSON,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc.errors())
        if any(e["type"] == "json_invalid" for e in errors):
            return problem(400, "malformed-json", "Malformed JSON",
                           "the request body is not valid JSON", errors=errors)
        detail = "; ".join(f"{e['field'] or 'body'}: {e['message']}" for e in errors[:5])
        return problem(422, "validation-error", "Validation failed", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, f"http-{exc.status_code}", str(exc.detail),
                       str(exc.detail))

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        log.info("integrity error: %s", exc.orig)
        return problem(409, "conflict", "Conflict",
                       "the change conflicts with existing data (a concurrent update?)")


def encode_cursor(*values: Any) -> str:
    raw = orjson.dumps([str(v) for v in values])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = orjson.loads(raw)
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise BadRequest("cursor is not one this server issued") from exc
    if not isinstance(values, list) or len(values) != size:
        raise BadRequest("cursor is not one this server issued")
    return [str(v) for v in values]
