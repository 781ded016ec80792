"""Raw RFC 5322 bytes → :class:`ParsedMail`: addresses, subject and threading headers
decoded, the text to show (text/plain preferred; HTML-only mail read as text), the
sanitised HTML for display, quoted history and signature folded apart, attachments, and
a delivery-status report when the mail is a bounce.

The stdlib parser (compat32: headers as sent) splits the MIME tree; every header and
text part is decoded here with :mod:`.charsets`, because the stdlib trusts a declared
``gb2312`` or ``big5`` that Chinese mail clients do not honour.
"""

from __future__ import annotations

import email
import email.parser
import email.policy
import email.utils
import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from typing import Any

from omnidesk.channels.email.charsets import decode_bytes, decode_words, unsurrogate
from omnidesk.channels.email.html import html_to_text, sanitise
from omnidesk.channels.email.quoting import fold

MSGID = re.compile(r"<([^<>\s]+)>")
MAX_ID = 400
LOOP_HEADERS = ("auto-submitted", "precedence", "x-autoreply", "x-autorespond",
                "x-auto-response-suppress", "list-id", "list-unsubscribe", "return-path",
                "x-failed-recipients", "x-loop")


class _RawHeaders(email.policy.Compat32):
    """compat32, but raw 8-bit header bytes stay a ``str`` (with surrogates) for
    :func:`unsurrogate` to decode, instead of an undecodable ``Header`` object."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        return value


RAW_HEADERS = _RawHeaders()


class MalformedMail(ValueError):
    """Cannot be read as a message from someone (kept in quarantine with the reason)."""


@dataclass
class Address:
    address: str  # as written, lower-cased domain and local part
    name: str

    def json(self) -> dict[str, str]:
        return {"address": self.address, "name": self.name}


@dataclass
class Part:
    """An attachment (or an inline image) as found in the mail."""

    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None
    inline: bool = False


@dataclass
class Bounce:
    """A delivery-status notification (RFC 3464), or a non-standard bounce read loosely."""

    action: str  # failed | delayed | delivered | relayed | expanded | unknown
    status: str | None
    recipient: str | None
    diagnostic: str | None
    original_message_id: str | None

    @property
    def permanent(self) -> bool:
        return self.action == "failed" or (self.status or "").startswith("5")

    def json(self) -> dict[str, Any]:
        return {"action": self.action, "status": self.status, "recipient": self.recipient,
                "diagnostic": self.diagnostic, "original_message_id": self.original_message_id}


@dataclass
class ParsedMail:
    message_id: str  # without <>; synthesised from the content when the mail has none
    has_message_id: bool
    sender: Address
    reply_to: Address | None
    to: list[Address]
    cc: list[Address]
    subject: str
    date: datetime | None
    in_reply_to: list[str]
    references: list[str]
    text: str  # the whole text: text/plain preferred, else HTML read as text
    body: str  # what the customer wrote now
    quoted: str
    signature: str
    html: str | None  # sanitised, for display
    charset: str | None
    attachments: list[Part]
    headers: dict[str, str]  # the loop/bulk headers, decoded, lower-case names
    content_type: str
    report_type: str | None
    bounce: Bounce | None = None
    defects: list[str] = field(default_factory=list)

    @property
    def thread_ids(self) -> list[str]:
        """Every id this mail answers, nearest first (In-Reply-To, then References)."""
        out: list[str] = []
        for mid in [*self.in_reply_to, *reversed(self.references)]:
            if mid not in out and mid != self.message_id:
                out.append(mid)
        return out


@dataclass
class _Collected:
    plain: list[tuple[str, str]] = field(default_factory=list)  # (text, codec)
    html: list[tuple[str, str]] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)
    delivery_status: list[Message] = field(default_factory=list)
    original_headers: list[Message] = field(default_factory=list)


def message_ids(value: str | None) -> list[str]:
    if not value:
        return []
    found = [m[:MAX_ID] for m in MSGID.findall(unsurrogate(value))]
    if not found and value.strip() and " " not in value.strip():
        found = [value.strip().strip("<>")[:MAX_ID]]
    return found


def _addresses(msg: Message, name: str) -> list[Address]:
    values = [unsurrogate(v) for v in msg.get_all(name, [])]
    out = []
    for display, addr in email.utils.getaddresses(values):
        addr = addr.strip()
        if "@" not in addr:
            continue
        local, _, domain = addr.rpartition("@")
        out.append(Address(f"{local}@{domain.lower()}".lower(),
                           decode_words(display).strip().strip('"').strip()))
    return out


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        at = email.utils.parsedate_to_datetime(unsurrogate(value))
    except (TypeError, ValueError, IndexError):
        return None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def _param(part: Message, name: str, header: str) -> str | None:
    value: Any = part.get_param(name, header=header)
    if value is None or value == "":
        return None
    if isinstance(value, tuple):  # RFC 2231: (charset, language, %-decoded as latin-1)
        charset, _, text = value
        raw = str(text).encode("latin-1", errors="replace")
        return decode_bytes(raw, charset or None)[0]
    return decode_words(email.utils.unquote(str(value)))


def _filename(part: Message) -> str | None:
    name = _param(part, "filename", "content-disposition") or _param(part, "name",
                                                                      "content-type")
    return name.strip() if name and name.strip() else None


def _part_bytes(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _text_of(part: Message) -> tuple[str, str]:
    text, codec = decode_bytes(_part_bytes(part), part.get_content_charset())
    if str(part.get_param("format") or "").lower() == "flowed":
        text = _unflow(text, (str(part.get_param("delsp") or "")).lower() == "yes")
    return text.replace("\r\n", "\n").replace("\r", "\n"), codec


def _unflow(text: str, delsp: bool) -> str:
    """RFC 3676 format=flowed: join soft line breaks (a line ending in a space)."""
    out: list[str] = []
    joining = False
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.startswith(" "):
            line = line[1:]  # space-stuffing
        soft = line.endswith(" ") and line != "-- "
        piece = line[:-1] if soft and delsp else line
        if joining and out:
            out[-1] += piece
        else:
            out.append(piece)
        joining = soft
    return "\n".join(out)


def _default_name(ctype: str, index: int) -> str:
    ext = mimetypes.guess_extension(ctype) or ".bin"
    return f"attachment-{index}{ext}"


def _leaf(part: Message, out: _Collected) -> None:
    ctype = part.get_content_type()
    disposition = part.get_content_disposition()
    filename = _filename(part)
    if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
        (out.plain if ctype == "text/plain" else out.html).append(_text_of(part))
        return
    if ctype == "text/rfc822-headers":
        text = decode_bytes(_part_bytes(part), None)[0]
        out.original_headers.append(email.parser.HeaderParser().parsestr(text))
        return
    data = _part_bytes(part)
    if not data:
        return
    cid = part.get("content-id")
    out.parts.append(Part(
        filename=filename or _default_name(ctype, len(out.parts) + 1), content_type=ctype,
        data=data, content_id=message_ids(cid)[0] if cid and message_ids(cid) else None,
        inline=disposition != "attachment"))


def _walk(part: Message, out: _Collected, depth: int = 0) -> None:
    if depth > 20:
        raise MalformedMail("MIME parts nested more than 20 deep")
    ctype = part.get_content_type()
    if ctype == "message/delivery-status":  # compat32 parses its blocks as sub-messages
        out.delivery_status.append(part)
        return
    if ctype == "message/rfc822":
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            out.original_headers.append(inner[0])
            raw = inner[0].as_bytes(policy=email.policy.compat32)
            subject = decode_words(inner[0].get("subject")) or "message"
            out.parts.append(Part(filename=f"{subject[:80]}.eml", content_type=ctype,
                                  data=raw))
        return
    if not part.is_multipart():
        _leaf(part, out)
        return
    children = [c for c in part.get_payload() if isinstance(c, Message)]
    if ctype != "multipart/alternative":
        for child in children:
            _walk(child, out, depth + 1)
        return
    # Alternatives: the text of one (plain preferred), the files of all (inline images
    # of the HTML alternative are pasted screenshots as often as logos).
    branches = []
    for child in children:
        branch = _Collected()
        _walk(child, branch, depth + 1)
        branches.append(branch)
    with_plain = [b for b in branches if any(t.strip() for t, _ in b.plain)]
    with_html = [b for b in branches if b.html]
    if with_plain:
        out.plain.extend(with_plain[-1].plain)
    if with_html:
        out.html.extend(with_html[-1].html)
    for b in branches:
        out.parts.extend(b.parts)
        out.delivery_status.extend(b.delivery_status)
        out.original_headers.extend(b.original_headers)


def _status_fields(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    text = decode_bytes(_part_bytes(part), None)[0]
    return [email.parser.HeaderParser().parsestr(block)
            for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if block.strip()]


def _bounce(msg: Message, collected: _Collected, text: str) -> Bounce | None:
    original = None
    for headers in collected.original_headers:
        ids = message_ids(headers.get("message-id"))
        if ids:
            original = ids[0]
            break
    if original is None:
        found = re.search(r"^\s*Message-ID:\s*<([^<>\s]+)>", text, re.IGNORECASE | re.MULTILINE)
        original = found.group(1) if found else None
    for part in collected.delivery_status:
        for block in _status_fields(part):
            action = (block.get("action") or "").strip().lower()
            if not action:
                continue
            recipient = (block.get("final-recipient") or block.get("original-recipient")
                         or "").split(";")[-1].strip() or None
            return Bounce(action=action.split()[0], status=(block.get("status") or "").strip()
                          or None, recipient=recipient,
                          diagnostic=decode_words(block.get("diagnostic-code")) or None,
                          original_message_id=original)
    failed = msg.get("x-failed-recipients")
    status = re.search(r"\b([45]\.\d{1,3}\.\d{1,3})\b", text)
    return Bounce(action="failed" if status is None or status.group(1)[0] == "5" else "delayed",
                  status=status.group(1) if status else None,
                  recipient=unsurrogate(failed).strip() if failed else None,
                  diagnostic=None, original_message_id=original)


def _synthetic_id(raw: bytes) -> str:
    return f"{hashlib.sha256(raw).hexdigest()[:40]}@no-message-id.omnidesk"


def parse(raw: bytes, *, envelope_sender: str | None = None) -> ParsedMail:
    """Parse one message. Raises :class:`MalformedMail` when it has no usable sender."""
    if not raw.strip():
        raise MalformedMail("empty message")
    msg = email.message_from_bytes(raw, policy=RAW_HEADERS)
    if not msg.keys():
        raise MalformedMail("no header section")
    senders = _addresses(msg, "from") or _addresses(msg, "sender")
    if not senders and envelope_sender and "@" in envelope_sender:
        senders = [Address(envelope_sender.lower(), "")]
    if not senders:
        raise MalformedMail("no From address")
    collected = _Collected()
    _walk(msg, collected)
    plain = "\n".join(t for t, _ in collected.plain).strip("\n")
    html_raw = "\n".join(t for t, _ in collected.html)
    text = plain if plain.strip() else html_to_text(html_raw) if html_raw else ""
    codecs_used = [c for _, c in (collected.plain or collected.html)]
    folded = fold(text)
    ids = message_ids(msg.get("message-id"))
    reply_to = _addresses(msg, "reply-to")
    report_type = str(msg.get_param("report-type") or "").lower() or None
    parsed = ParsedMail(
        message_id=ids[0] if ids else _synthetic_id(raw), has_message_id=bool(ids),
        sender=senders[0], reply_to=reply_to[0] if reply_to else None,
        to=_addresses(msg, "to"), cc=_addresses(msg, "cc"),
        subject=decode_words(msg.get("subject")), date=_date(msg.get("date")),
        in_reply_to=message_ids(msg.get("in-reply-to")),
        references=message_ids(" ".join(unsurrogate(v) for v in msg.get_all("references", []))),
        text=text, body=folded.body, quoted=folded.quoted, signature=folded.signature,
        html=sanitise(html_raw) if html_raw.strip() else None,
        charset=codecs_used[0] if codecs_used else None, attachments=collected.parts,
        headers={h: decode_words(msg.get(h)) for h in LOOP_HEADERS if msg.get(h) is not None},
        content_type=msg.get_content_type(), report_type=report_type,
        defects=[type(d).__name__ for d in msg.defects],
    )
    if is_bounce(parsed):
        parsed.bounce = _bounce(msg, collected, text)
    return parsed


BOUNCE_SENDERS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@",
                            re.IGNORECASE)


def is_bounce(parsed: ParsedMail) -> bool:
    if parsed.content_type == "multipart/report" and parsed.report_type == "delivery-status":
        return True
    return bool(BOUNCE_SENDERS.match(parsed.sender.address))
