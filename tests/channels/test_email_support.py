"""Shared by the e-mail tests: a real SMTP exchange in both directions (the test's own
aiosmtpd server with STARTTLS and AUTH catches what omnidesk sends), a self-signed
certificate, and inbox set-up. No tests here."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import free_port

SUPPORT = "support@omnidesk.test"
SMTP_USER, SMTP_PASSWORD = "omnidesk", "smtp-secret-1"


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1/localhost and its key (PEM files)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class Caught:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    tls: bool
    user: str | None

    @property
    def message(self) -> EmailMessage:
        msg = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class CaptureSmtp:
    """The customer's side: an SMTP server requiring STARTTLS and AUTH, keeping what it
    receives; ``refuse`` maps a recipient to the SMTP answer to give it instead."""

    cert: Path
    key: Path
    port: int = field(default_factory=free_port)
    caught: list[Caught] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _server: Any = None

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if address.lower() in self.refuse:
            return self.refuse[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        login = session.auth_data.login if isinstance(session.auth_data,
                                                      LoginPassword) else None
        self.caught.append(Caught(str(envelope.mail_from), list(envelope.rcpt_tos),
                                  envelope.original_content or b"", session.ssl is not None,
                                  login.decode() if login else None))
        self.arrived.set()
        return "250 2.0.0 queued"

    @staticmethod
    def _auth(server: SMTP, session: Session, envelope: Envelope, mechanism: str,
              data: Any) -> AuthResult:
        ok = (isinstance(data, LoginPassword) and data.login == SMTP_USER.encode()
              and data.password == SMTP_PASSWORD.encode())
        return AuthResult(success=ok, handled=False, auth_data=data)

    async def start(self) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, tls_context=context, require_starttls=True,
                         authenticator=self._auth, auth_require_tls=True,
                         decode_data=False, loop=loop),
            "127.0.0.1", self.port)

    async def stop(self) -> None:
        self._server.close()
        await self._server.wait_closed()

    def smtp_config(self) -> dict[str, Any]:
        return {"host": "127.0.0.1", "port": self.port, "username": SMTP_USER,
                "password": SMTP_PASSWORD, "starttls": True, "ca_file": str(self.cert)}

    async def wait(self, count: int) -> list[Caught]:
        while len(self.caught) < count:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), timeout=20)
        return self.caught


async def deliver(port: int, raw: bytes, rcpts: list[str],
                  mail_from: str = "sender@example.com") -> tuple[int, str]:
    """One real SMTP exchange with omnidesk's server: the final answer's code and text."""
    try:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False,
                                   timeout=30) as smtp:
            _, text = await smtp.sendmail(mail_from, rcpts, raw)
    except aiosmtplib.SMTPRecipientsRefused as exc:
        first = exc.recipients[0]
        return first.code, first.message
    except aiosmtplib.SMTPResponseException as exc:
        return exc.code, exc.message
    return int(text.split()[0]) if text[:3].isdigit() else 250, text


async def make_inbox(client: httpx.AsyncClient, **config: Any) -> dict[str, Any]:
    r = await client.post("/api/v1/inboxes", json={
        "channel": "email", "name": "Support mail",
        "config": {"address": SUPPORT, **config}})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def conversations(client: httpx.AsyncClient, inbox: dict[str, Any]) -> list[Any]:
    r = await client.get("/api/v1/conversations", params={"inbox_id": inbox["id"]})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def messages(client: httpx.AsyncClient, conversation_id: str) -> list[Any]:
    r = await client.get(f"/api/v1/conversations/{conversation_id}/messages")
    assert r.status_code == 200, r.text
    body = r.json()
    return list(body["items"] if isinstance(body, dict) else body)


def simple(subject: str, body: str, *, sender: str = "Customer <customer@example.com>",
           message_id: str | None = None, headers: str = "") -> bytes:
    mid = f"Message-ID: <{message_id}>\r\n" if message_id else ""
    return (f"From: {sender}\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\n{mid}{headers}"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n").encode() + body.encode() + b"\r\n"
