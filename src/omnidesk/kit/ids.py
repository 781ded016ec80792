"""Time-ordered identifiers (UUID v7)."""

from __future__ import annotations

import secrets
import uuid

import uuid6


def new_id() -> uuid.UUID:
    """A new UUID v7: sortable by creation time, unique across processes."""
    return uuid.UUID(int=uuid6.uuid7().int)


def new_token(prefix: str, nbytes: int = 32) -> str:
    """A random URL-safe secret with a readable prefix (e.g. ``od_``)."""
    return prefix + secrets.token_urlsafe(nbytes)
