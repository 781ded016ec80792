"""E-mail: the inbound SMTP server, IMAP polling, MIME done right for Chinese mail,
threading, loop protection, automatic answers and the outbound SMTP adapter.
See docs/channels-email.md."""

from __future__ import annotations

import logging

from omnidesk.channels.email import outbound
from omnidesk.channels.email.imap import ImapPoller
from omnidesk.channels.email.server import SmtpServer
from omnidesk.channels.email.service import Ingestor
from omnidesk.config import Settings
from omnidesk.kit.db import Database

log = logging.getLogger(__name__)


def install() -> None:
    """Register the outbound adapter (idempotent)."""
    outbound.install()


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``:PORT``, or ``PORT``) → ``(host, port)``."""
    host, _, port = value.strip().rpartition(":")
    try:
        number = int(port)
    except ValueError as exc:
        raise ValueError(f"OMNIDESK_SMTP_LISTEN must be HOST:PORT, not {value!r}") from exc
    if not 0 <= number < 65536:
        raise ValueError(f"OMNIDESK_SMTP_LISTEN port out of range: {value!r}")
    return host.strip("[]") or "127.0.0.1", number


class EmailServices:
    """What runs beside the web server: the SMTP listener and the IMAP pollers."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.ingestor = Ingestor(db, settings)
        self.smtp: SmtpServer | None = None
        self.imap: ImapPoller | None = None
        self.settings = settings

    async def start(self, *, imap: bool) -> None:
        if self.settings.smtp_listen:
            host, port = parse_listen(self.settings.smtp_listen)
            self.smtp = SmtpServer(self.ingestor, host, port,
                                   max_bytes=self.settings.smtp_max_bytes)
            await self.smtp.start()
        if imap:
            self.imap = ImapPoller(self.ingestor)
            self.imap.start()

    async def stop(self) -> None:
        if self.imap is not None:
            await self.imap.stop()
        if self.smtp is not None:
            await self.smtp.stop()


__all__ = ["EmailServices", "install", "parse_listen"]
