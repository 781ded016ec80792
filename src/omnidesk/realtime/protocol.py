"""The websocket protocol's frames and close codes (shared by /ws/chat and /ws/agent)."""

from __future__ import annotations

import contextlib
from collections.abc import MutableMapping
from typing import Any

import orjson
from starlette.websockets import WebSocket

MAX_FRAME = 64 * 1024
# Close codes: RFC 6455 ones, then private 4xxx mirroring HTTP statuses.
CLOSE_UNSUPPORTED = 1003  # binary frame
CLOSE_TOO_BIG = 1009
CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404


class ProtocolError(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason[:120]  # a close reason must fit in 123 bytes


def parse_frame(raw: MutableMapping[str, Any], allowed: set[str]) -> dict[str, Any]:
    """Validate one received websocket frame; raise :class:`ProtocolError` if it isn't ours."""
    if raw.get("bytes") is not None:
        raise ProtocolError(CLOSE_UNSUPPORTED, "binary frames are not part of the protocol")
    text = raw.get("text")
    if text is None:
        raise ProtocolError(CLOSE_BAD_REQUEST, "empty frame")
    if len(text) > MAX_FRAME:
        raise ProtocolError(CLOSE_TOO_BIG, f"frames are limited to {MAX_FRAME} bytes")
    try:
        frame = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(CLOSE_BAD_REQUEST, "frame is not JSON") from exc
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise ProtocolError(CLOSE_BAD_REQUEST, "frame must be an object with a 'type'")
    if frame["type"] not in allowed:
        raise ProtocolError(CLOSE_BAD_REQUEST,
                            f"unknown frame type; expected one of {sorted(allowed)}")
    return frame


def text_field(frame: dict[str, Any], name: str, *, required: bool, limit: int) -> str | None:
    value = frame.get(name)
    if value is None:
        if required:
            raise ProtocolError(CLOSE_BAD_REQUEST, f"'{name}' is required")
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise ProtocolError(CLOSE_BAD_REQUEST, f"'{name}' must be a string of ≤ {limit} chars")
    return value


async def close_with(ws: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(RuntimeError):
        await ws.close(code, reason[:120])
