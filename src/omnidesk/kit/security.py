"""Password hashing, token hashing and HMAC signatures."""

from __future__ import annotations

import hashlib
import hmac
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def hash_token(token: str) -> str:
    """API tokens and session ids are stored only as their SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_webhook(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>`` over ``"{timestamp}." + raw body``."""
    return "sha256=" + hmac_hex(secret, str(timestamp).encode() + b"." + body)


def check_webhook_signature(
    secret: str,
    timestamp_header: str | None,
    signature_header: str | None,
    body: bytes,
    tolerance_seconds: int,
    now: float | None = None,
) -> str | None:
    """Return the reason the signature is not acceptable, or None when it is."""
    if not timestamp_header or not signature_header:
        return "missing X-Omnidesk-Timestamp or X-Omnidesk-Signature header"
    try:
        ts = int(timestamp_header)
    except ValueError:
        return "X-Omnidesk-Timestamp must be a Unix time in seconds"
    now = time.time() if now is None else now
    if abs(now - ts) > tolerance_seconds:
        return f"timestamp outside the {tolerance_seconds} s replay window"
    expected = sign_webhook(secret, ts, body)
    candidates = [s.strip() for s in signature_header.split(",")]
    if not any(hmac.compare_digest(expected, c) for c in candidates):
        return "signature does not match"
    return None


def sign_value(secret: str, value: str) -> str:
    """A value with its HMAC, e.g. an app user id passed by a logged-in app: ``value.sig``."""
    return f"{value}.{hmac_hex(secret, value.encode())}"


def unsign_value(secret: str, signed: str) -> str | None:
    value, _, sig = signed.rpartition(".")
    if not value or not hmac.compare_digest(hmac_hex(secret, value.encode()), sig):
        return None
    return value
