"""Customer portal sign-in: a 6-digit one-time code sent to the customer's e-mail address
or phone, then a portal session (its own cookie, separate from the staff's).

- Codes are stored only as an HMAC keyed with the deployment's secret (a plain hash of a
  6-digit number is reversed in a blink), expire after 10 minutes, allow 5 attempts, and
  only the newest code of an identity counts.
- Requests are rate-limited per identity: one a minute, five an hour.
- The code leaves through the outbox: ``portal.code_requested`` carries the identity and
  the code sealed with a key derived from the secret (:func:`unseal_code` opens it), so
  the outbox table never holds it in clear. The channel handlers e-mail or text it.
- ``OMNIDESK_PORTAL_SHOW_CODE=1`` (development and demos only) shows the code on the page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.customers.identities import normalize_identity
from omnidesk.customers.service import find_contact_by_identity, get_contact
from omnidesk.kit.errors import OmnideskError
from omnidesk.kit.ids import new_id, new_token
from omnidesk.kit.outbox import emit
from omnidesk.kit.security import hash_token, hmac_hex
from omnidesk.kit.time import utcnow
from omnidesk.models import Contact, PortalCode, PortalSession

PORTAL_COOKIE = "omnidesk_portal"
SHOW_CODE_ENV = "OMNIDESK_PORTAL_SHOW_CODE"
CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
RESEND_AFTER = timedelta(seconds=60)
CODES_PER_HOUR = 5
SESSION_TTL = timedelta(hours=12)
EVENT = "portal.code_requested"


class PortalRefused(OmnideskError):
    """Why a code was not sent or not accepted; ``reason`` picks the page's message:
    ``identity`` (not an e-mail/phone), ``unknown``, ``too_soon``, ``too_many``,
    ``expired``, ``attempts``, ``wrong``."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason, self.status = reason, status


def show_code() -> bool:
    return os.environ.get(SHOW_CODE_ENV, "") == "1"


def check_identity(text: str, region: str) -> tuple[str, str]:
    """``(kind, canonical value)`` of what the customer typed: an e-mail or a phone."""
    text = text.strip()
    kind = "email" if "@" in text else "phone"
    try:
        return kind, normalize_identity(kind, text, region)
    except OmnideskError as exc:
        raise PortalRefused("identity", 422) from exc


def _code_hash(secret: str, code_id: uuid.UUID, code: str) -> str:
    return hmac_hex(secret, f"portal-code:{code_id}:{code}".encode())


def _fernet(secret: str) -> Fernet:
    key = hashlib.sha256(b"omnidesk portal code seal:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal_code(secret: str, code: str) -> str:
    return _fernet(secret).encrypt(code.encode()).decode()


def unseal_code(secret: str, sealed: str) -> str | None:
    """The code in a ``portal.code_requested`` payload (None when tampered with or older
    than the code's lifetime)."""
    try:
        ttl = int(CODE_TTL.total_seconds())
        return _fernet(secret).decrypt(sealed.encode(), ttl=ttl).decode()
    except (InvalidToken, ValueError):
        return None


async def _check_rate(session: AsyncSession, kind: str, value: str, now: datetime) -> None:
    count, newest = (await session.execute(
        select(func.count(), func.max(PortalCode.created_at)).where(
            PortalCode.identity_kind == kind, PortalCode.identity_value == value,
            PortalCode.created_at >= now - timedelta(hours=1)))).one()
    if count >= CODES_PER_HOUR:
        raise PortalRefused("too_many", 429)
    if newest is not None and newest > now - RESEND_AFTER:
        raise PortalRefused("too_soon", 429)


async def do_request_code(session: AsyncSession, kind: str, value: str, secret: str,
                          locale: str, now: datetime | None = None) -> str:
    """Make a code for a known contact's identity and owe its sending; returns the code
    (shown only in development)."""
    now = now or utcnow()
    contact = await find_contact_by_identity(session, kind, value)
    if contact is None:
        raise PortalRefused("unknown", 404)
    await _check_rate(session, kind, value, now)
    code = f"{secrets.randbelow(1_000_000):06d}"
    row = PortalCode(id=new_id(), identity_kind=kind, identity_value=value,
                     contact_id=contact.id, expires_at=now + CODE_TTL, created_at=now,
                     code_hash="")
    row.code_hash = _code_hash(secret, row.id, code)
    session.add(row)
    await session.flush()
    await emit(session, EVENT, {
        "identity": {"kind": kind, "value": value}, "contact_id": str(contact.id),
        "contact_name": contact.name, "code_id": str(row.id), "locale": locale,
        "sealed_code": seal_code(secret, code), "expires_at": row.expires_at.isoformat()})
    return code


async def do_verify_code(session: AsyncSession, kind: str, value: str, code: str,
                         secret: str, now: datetime | None = None) -> Contact:
    """The contact, when ``code`` is the identity's newest code, unused and in time.
    A wrong code counts an attempt (the caller must commit even then)."""
    now = now or utcnow()
    row = await session.scalar(select(PortalCode).where(
        PortalCode.identity_kind == kind, PortalCode.identity_value == value)
        .order_by(PortalCode.created_at.desc()).limit(1))
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise PortalRefused("expired")
    if row.attempts >= MAX_ATTEMPTS:
        raise PortalRefused("attempts", 429)
    row.attempts += 1
    if not hmac.compare_digest(row.code_hash, _code_hash(secret, row.id, code.strip())):
        raise PortalRefused("attempts" if row.attempts >= MAX_ATTEMPTS else "wrong")
    row.used_at = now
    return await get_contact(session, row.contact_id)


@dataclass(frozen=True)
class Customer:
    """The signed-in customer of a portal request."""

    contact: Contact
    csrf_token: str


async def do_start_session(session: AsyncSession, contact_id: uuid.UUID) -> str:
    plain = new_token("", 32)
    session.add(PortalSession(token_hash=hash_token(plain), contact_id=contact_id,
                              csrf_token=new_token("", 24), expires_at=utcnow() + SESSION_TTL))
    await session.flush()
    return plain


async def get_customer(session: AsyncSession, plain: str | None) -> Customer | None:
    if not plain:
        return None
    row = await session.scalar(select(PortalSession).where(
        PortalSession.token_hash == hash_token(plain)))
    if row is None or row.expires_at <= utcnow():
        return None
    return Customer(await get_contact(session, row.contact_id), row.csrf_token)


async def do_end_session(session: AsyncSession, plain: str) -> None:
    await session.execute(delete(PortalSession).where(
        PortalSession.token_hash == hash_token(plain)))
