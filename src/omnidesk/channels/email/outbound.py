"""Outbound e-mail: agents' and the bot's replies sent through the inbox's SMTP server
(aiosmtplib; STARTTLS or implicit TLS, AUTH), from the outbox, retried on temporary
failures.

Each mail has our own Message-ID (``<od.{message id}.{token}@domain>``, stored as the
message's ``external_id``), ``In-Reply-To`` the customer's latest mail and
``References`` the thread so far, the subject ``Re: <subject> [#TOKEN]``, a text part
with an HTML alternative, and the message's attachments.
"""

from __future__ import annotations

import html
import logging
import re
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from omnidesk.channels.email import threads
from omnidesk.channels.email.config import ConfigError, EmailConfig, SmtpConfig
from omnidesk.channels.email.inbound import clean_subject
from omnidesk.channels.registry import DeliveryResult, Outbound, register_adapter
from omnidesk.config import get_settings
from omnidesk.conversations.attachments import attachment_path
from omnidesk.kit.time import utcnow
from omnidesk.models.enums import Channel

log = logging.getLogger(__name__)
MAX_REFERENCES = 20
_URL = re.compile(r"https?://[^\s<>\"']+")


def recipient(out: Outbound) -> tuple[str, str] | None:
    """``(address, name)``: where the customer's latest mail asked answers to go."""
    if out.last_inbound is not None:
        mail = (out.last_inbound.data or {}).get("email") or {}
        for key in ("reply_to", "from"):
            found = mail.get(key)
            if isinstance(found, dict) and found.get("address"):
                return str(found["address"]), str(found.get("name") or "")
    address = out.identities.get("email")
    return (address, "") if address else None


def subject_for(out: Outbound) -> str:
    base = clean_subject(out.conversation.subject or "")
    if not base and out.last_inbound is not None:
        base = clean_subject(((out.last_inbound.data or {}).get("email") or {})
                             .get("subject") or "")
    tag = threads.tag(out.conversation.id)
    return f"Re: {base} {tag}" if base else f"Re: {tag}"


def _html(text: str) -> str:
    def para(block: str) -> str:
        escaped = html.escape(block)
        linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        return "<p>" + linked.replace("\n", "<br>\n") + "</p>"

    blocks = [b for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>"
            + "\n".join(para(b) for b in blocks) + "</body></html>")


def _address(address: str, name: str) -> Address:
    local, _, domain = address.rpartition("@")
    return Address(display_name=name, username=local, domain=domain)


def compose(out: Outbound, cfg: EmailConfig, to: tuple[str, str]) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = _address(cfg.address, cfg.name)
    msg["To"] = _address(*to)
    msg["Subject"] = subject_for(out)
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = "<" + threads.our_message_id(out.message.id, out.conversation.id,
                                                     cfg.domain) + ">"
    parents = [p for p in out.parent_external_ids if "@" in p and " " not in p]
    if parents:
        msg["In-Reply-To"] = f"<{_in_reply_to(out, parents)}>"
        msg["References"] = " ".join(f"<{p}>" for p in parents[-MAX_REFERENCES:])
    msg["Auto-Submitted"] = "auto-replied" if out.message.sender_type == "bot" else "no"
    if out.message.sender_type == "bot":
        msg["X-Auto-Response-Suppress"] = "All"
    text = out.message.body.strip() + "\n"
    msg.set_content(text, charset="utf-8")
    msg.add_alternative(_html(text), subtype="html", charset="utf-8")
    settings = get_settings()
    for att in out.attachments:
        data = attachment_path(att, settings).read_bytes()
        maintype, _, subtype = att.content_type.partition("/")
        msg.add_attachment(data, maintype=maintype or "application",
                           subtype=subtype or "octet-stream", filename=att.filename)
    return msg


def _in_reply_to(out: Outbound, parents: list[str]) -> str:
    """The customer's latest mail, else the latest message of the thread."""
    if out.last_inbound is not None and out.last_inbound.external_id in parents:
        return out.last_inbound.external_id
    return parents[-1]


def _tls_context(smtp: SmtpConfig) -> ssl.SSLContext | None:
    if smtp.ca_file:
        return ssl.create_default_context(cafile=smtp.ca_file)
    return None


async def send(smtp: SmtpConfig, msg: EmailMessage, sender: str, to: str) -> None:
    await aiosmtplib.send(
        msg, sender=sender, recipients=[to], hostname=smtp.host, port=smtp.port,
        username=smtp.username, password=smtp.password, use_tls=smtp.tls,
        start_tls=smtp.starttls if not smtp.tls else False, timeout=smtp.timeout,
        validate_certs=smtp.validate_certs, tls_context=_tls_context(smtp))


def _permanent(exc: Exception) -> str | None:
    """The reason when retrying cannot help (a 5xx answer, a refused login)."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [e.code for e in exc.recipients]
        if codes and all(c >= 500 for c in codes):
            return "; ".join(f"{e.recipient}: {e.code} {e.message}" for e in exc.recipients)
        return None
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return f"SMTP login refused: {exc.code} {exc.message}"
    if isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code >= 500:
        return f"SMTP {exc.code} {exc.message}"
    return None


class EmailAdapter:
    channel = Channel.email.value

    async def deliver(self, out: Outbound) -> DeliveryResult:
        try:
            cfg = EmailConfig.from_inbox(out.inbox)
        except ConfigError as exc:
            return DeliveryResult("failed", detail=f"inbox misconfigured: {exc}")
        if cfg.smtp is None:
            return DeliveryResult("failed", detail="inbox misconfigured: no smtp server")
        to = recipient(out)
        if to is None:
            return DeliveryResult("failed", detail="the contact has no e-mail address")
        try:
            msg = compose(out, cfg, to)
        except OSError as exc:
            return DeliveryResult("failed", detail=f"attachment unreadable: {exc}")
        message_id = str(msg["Message-ID"]).strip("<>")
        try:
            await send(cfg.smtp, msg, cfg.address, to[0])
        except aiosmtplib.SMTPException as exc:
            reason = _permanent(exc)
            if reason is None:
                raise  # temporary: the outbox tries again later
            log.warning("e-mail %s not delivered: %s", out.message.id, reason)
            return DeliveryResult("failed", external_id=message_id, detail=reason)
        return DeliveryResult("sent", external_id=message_id)


def install() -> None:
    register_adapter(EmailAdapter())
