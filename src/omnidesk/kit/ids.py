"""Time-ordered identifiers (UUID v7)."""

from __future__ import annotations

import os
import secrets
import threading
import time
import uuid

_VERSION_7 = 0x7 << 76
_VARIANT_RFC = 0b10 << 62
_RAND_B = (1 << 62) - 1
_lock = threading.Lock()
_last = 0  # (unix ms << 12) | sequence, of the last identifier handed out


def new_id() -> uuid.UUID:
    """A new UUID v7: sortable by creation time, unique across processes.

    48 bits of Unix milliseconds, a 12-bit sequence (RFC 9562, method 1), 62 random bits.
    The sequence starts at a random point in its lower half each millisecond and counts
    up for identifiers made in the same millisecond, so that one process's identifiers
    are strictly increasing; should it run out, the next millisecond is borrowed (the
    clock runs at most a few ms ahead, even at a million identifiers a second)."""
    global _last
    now = (time.time_ns() // 1_000_000) << 12
    rand = int.from_bytes(os.urandom(10), "big")  # 80 bits: 62 + 11 used
    with _lock:
        stamp = _last = _last + 1 if now <= _last else now | rand >> 69
    return uuid.UUID(int=(stamp >> 12) << 80 | _VERSION_7 | (stamp & 0xFFF) << 64
                     | _VARIANT_RFC | rand & _RAND_B)


def new_token(prefix: str, nbytes: int = 32) -> str:
    """A random URL-safe secret with a readable prefix (e.g. ``od_``)."""
    return prefix + secrets.token_urlsafe(nbytes)
