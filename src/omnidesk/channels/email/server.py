"""The inbound SMTP server (aiosmtpd) omnidesk runs beside the web server.

``RCPT TO`` must name an e-mail inbox's ``config.address`` (case-insensitive) or gets
``550``; a message over ``smtp_max_bytes`` gets ``552`` (aiosmtpd counts while it reads);
a sender over its inbox's ``rate_limit_per_minute`` gets ``451`` (its server retries);
a failure of the database gets ``451`` too. The inboxes are read once per envelope (at its
first ``RCPT``) and reused for ``DATA``; the store re-reads its inbox in its own transaction,
so one deleted meanwhile still gets ``451``. Everything else gets ``250`` once stored —
or once quarantined with its reason, so that nothing accepted is lost and a broken
message is not retried for days. The server runs on the application's event loop
(its database connections belong to that loop).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from omnidesk.channels.email.config import EmailConfig
from omnidesk.channels.email.service import Ingestor, Outcome, email_inboxes
from omnidesk.kit.db import Database
from omnidesk.models import Inbox

log = logging.getLogger(__name__)


Known = dict[str, tuple[Inbox, EmailConfig]]
_KNOWN = "_omnidesk_inboxes"  # on the envelope: aiosmtpd makes a new one per MAIL/RSET


def _address(value: str) -> str:
    return value.strip().strip("<>").strip().lower()


class Handler:
    """aiosmtpd's handler hooks, storing through the :class:`Ingestor`."""

    def __init__(self, ingestor: Ingestor) -> None:
        self.ingestor = ingestor
        self.db: Database = ingestor.db

    async def _known(self, envelope: Envelope) -> Known:
        """The e-mail inboxes by address, read once for this envelope."""
        known: Known | None = getattr(envelope, _KNOWN, None)
        if known is None:
            async with self.db.transaction() as db_session:
                known = await email_inboxes(db_session)
            setattr(envelope, _KNOWN, known)
        return known

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        known = await self._known(envelope)
        if _address(address) not in known:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(envelope.content, bytes) and not raw:
            raw = envelope.content
        known = await self._known(envelope)
        outcomes: list[Outcome] = []
        seen: set[str] = set()
        for rcpt in envelope.rcpt_tos:
            found = known.get(_address(rcpt))
            if found is None:
                outcomes.append(Outcome("retry", f"{rcpt}: the inbox is gone"))
                continue
            inbox, cfg = found
            if str(inbox.id) in seen:
                continue
            seen.add(str(inbox.id))
            outcomes.append(await self.ingestor.ingest(
                inbox.id, raw, envelope_from=envelope.mail_from or None, recipient=rcpt,
                rate_limit=cfg.rate_limit_per_minute))
        return reply_for(outcomes)


def reply_for(outcomes: list[Outcome]) -> str:
    limited = [o for o in outcomes if o.status == "rate_limited"]
    if limited:
        return f"451 4.7.1 {limited[0].detail}; try again later"
    retry = [o for o in outcomes if o.temporary]
    if retry:
        return f"451 4.3.0 {retry[0].detail}; try again later"
    if any(o.status == "quarantined" for o in outcomes):
        return "250 2.0.0 accepted for review"
    return "250 2.0.0 OK: stored"


class SmtpServer:
    """An aiosmtpd server listening on ``host:port`` on the running loop."""

    def __init__(self, ingestor: Ingestor, host: str, port: int, *,
                 max_bytes: int, hostname: str | None = None) -> None:
        self.handler = Handler(ingestor)
        self.host, self.port = host, port
        self.max_bytes = max_bytes
        self.hostname = hostname
        self._server: asyncio.AbstractServer | None = None

    def _protocol(self) -> SMTP:
        return SMTP(self.handler, data_size_limit=self.max_bytes, enable_SMTPUTF8=True,
                    decode_data=False, hostname=self.hostname, ident="omnidesk ESMTP",
                    loop=asyncio.get_running_loop())

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        # reuse_port: with `serve --workers N` every worker listens on the same port and
        # the kernel spreads the SMTP connections between them (Linux, BSD)
        self._server = await loop.create_server(self._protocol, self.host, self.port,
                                                reuse_port=True)
        sockets: Any = self._server.sockets
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        log.info("SMTP server listening on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
