"""One entry for every way mail arrives (the SMTP server, IMAP polling, the benchmark):
parse outside the transaction, check the sender's rate, store inside one transaction,
and quarantine — keep the mail whole with a logged reason — whatever cannot be read."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.channels.email import inbound
from omnidesk.channels.email.config import ConfigError, EmailConfig
from omnidesk.channels.email.mime import MalformedMail, ParsedMail, parse
from omnidesk.channels.email.noise import RateLimiter
from omnidesk.channels.email.store import quarantine
from omnidesk.config import Settings
from omnidesk.customers.identities import normalize_email
from omnidesk.kit.db import Database
from omnidesk.kit.errors import OmnideskError
from omnidesk.models import Inbox
from omnidesk.models.enums import Channel

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    status: str  # stored | duplicate | bounce | quarantined | rate_limited | retry
    detail: str = ""
    conversation_id: uuid.UUID | None = None
    message_id: uuid.UUID | None = None
    auto: str | None = None
    auto_reply_id: uuid.UUID | None = None

    @property
    def temporary(self) -> bool:
        """The sender should try again later (SMTP 451; IMAP leaves the mail unseen)."""
        return self.status in ("rate_limited", "retry")


async def email_inboxes(session: AsyncSession) -> dict[str, tuple[Inbox, EmailConfig]]:
    """Every well-configured e-mail inbox by its address (lower-case)."""
    out: dict[str, tuple[Inbox, EmailConfig]] = {}
    for inbox in await session.scalars(select(Inbox).where(Inbox.channel == Channel.email)):
        try:
            cfg = EmailConfig.from_inbox(inbox)
        except ConfigError as exc:
            log.warning("e-mail inbox %s ignored: %s", inbox.id, exc)
            continue
        out.setdefault(cfg.address, (inbox, cfg))
    return out


def read(raw: bytes, envelope_from: str | None) -> tuple[ParsedMail, str]:
    """``(parsed, canonical sender)``; :class:`MalformedMail` says why not."""
    try:
        parsed = parse(raw, envelope_sender=envelope_from)
    except MalformedMail:
        raise
    except Exception as exc:  # the stdlib parser on hostile input: keep it, say why
        log.exception("e-mail parser failed")
        raise MalformedMail(f"unreadable MIME: {type(exc).__name__}: {exc}") from exc
    try:
        sender = normalize_email(parsed.sender.address)
    except OmnideskError as exc:
        raise MalformedMail(f"From is not an e-mail address: {parsed.sender.address!r}") from exc
    return parsed, sender


class Ingestor:
    def __init__(self, db: Database, settings: Settings,
                 limiter: RateLimiter | None = None) -> None:
        self.db = db
        self.settings = settings
        self.limiter = limiter or RateLimiter()

    def _quarantine(self, raw: bytes, reason: str, inbox_id: uuid.UUID | None,
                    envelope_from: str | None, recipient: str | None) -> Outcome:
        quarantine(self.settings, raw, reason, {
            "inbox_id": str(inbox_id) if inbox_id else None, "envelope_from": envelope_from,
            "recipient": recipient})
        return Outcome("quarantined", reason)

    async def ingest(self, inbox_id: uuid.UUID, raw: bytes, *, envelope_from: str | None = None,
                     recipient: str | None = None, rate_limit: int | None = None) -> Outcome:
        try:
            parsed, sender = read(raw, envelope_from)
        except MalformedMail as exc:
            return self._quarantine(raw, str(exc), inbox_id, envelope_from, recipient)
        if rate_limit is not None and not self.limiter.allow(sender, rate_limit):
            log.warning("e-mail from %s over %d per minute: deferred", sender, rate_limit)
            return Outcome("rate_limited", f"more than {rate_limit} messages a minute from "
                           f"{sender}")
        try:
            async with self.db.transaction() as session:
                inbox = await session.get(Inbox, inbox_id)
                if inbox is None or inbox.channel != Channel.email:
                    return Outcome("retry", f"inbox {inbox_id} is not an e-mail inbox")
                cfg = EmailConfig.from_inbox(inbox)
                done = await inbound.accept(session, inbox, cfg, parsed, sender, self.settings,
                                            envelope_from=envelope_from, recipient=recipient)
        except IntegrityError:  # the same mail, stored a moment ago by a concurrent delivery
            return Outcome("duplicate", "stored concurrently")
        except (DBAPIError, OSError) as exc:
            log.exception("e-mail not stored (temporary)")
            return Outcome("retry", f"temporary failure: {type(exc).__name__}")
        except (OmnideskError, ConfigError, ValueError) as exc:
            log.exception("e-mail could not be stored")
            return self._quarantine(raw, f"not stored: {exc}", inbox_id, envelope_from,
                                    recipient)
        return Outcome(done.status, conversation_id=done.conversation_id,
                       message_id=done.message_id, auto=done.auto,
                       auto_reply_id=done.auto_reply_id)
