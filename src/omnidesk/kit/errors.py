"""Typed business errors carrying an HTTP status, rendered once as RFC 9457 problem+json."""

from __future__ import annotations

from typing import Any

PROBLEM_BASE = "https://omnidesk.dev/problems/"


class OmnideskError(Exception):
    status: int = 400
    type: str = "bad-request"
    title: str = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class BadRequest(OmnideskError):
    pass


class ValidationFailed(OmnideskError):
    status = 422
    type = "validation-error"
    title = "Validation failed"


class Unauthorized(OmnideskError):
    status = 401
    type = "unauthorized"
    title = "Authentication required"


class Forbidden(OmnideskError):
    status = 403
    type = "forbidden"
    title = "Not allowed"


class NotFound(OmnideskError):
    status = 404
    type = "not-found"
    title = "Not found"


class Conflict(OmnideskError):
    status = 409
    type = "conflict"
    title = "Conflict"


class PayloadTooLarge(OmnideskError):
    status = 413
    type = "payload-too-large"
    title = "Payload too large"


class UnsupportedMediaType(OmnideskError):
    status = 415
    type = "unsupported-media-type"
    title = "Unsupported media type"
