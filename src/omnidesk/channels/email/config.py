"""An e-mail inbox's configuration (``inbox.config``), read and checked in one place.

``address`` is the support address (mail to it becomes conversations); ``name`` the
display name on replies; ``smtp`` / ``imap`` the optional servers to send through and
to poll; ``rate_limit_per_minute`` how many mails one sender may deliver per minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omnidesk.models import Inbox

DEFAULT_RATE_LIMIT = 30


class ConfigError(Exception):
    """The inbox cannot serve e-mail as configured."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    starttls: bool  # upgrade a plain connection (port 587)
    tls: bool  # implicit TLS (port 465)
    timeout: float
    ca_file: str | None  # a CA bundle to verify the server with (else the system's)
    validate_certs: bool


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int
    username: str
    password: str
    tls: bool
    starttls: bool
    folder: str
    poll_seconds: float
    idle: bool
    ca_file: str | None


@dataclass(frozen=True)
class EmailConfig:
    address: str
    name: str
    smtp: SmtpConfig | None
    imap: ImapConfig | None
    rate_limit_per_minute: int
    public_url: str  # the help centre's base URL for links in automatic answers

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]

    @classmethod
    def from_inbox(cls, inbox: Inbox) -> EmailConfig:
        return cls.from_dict(inbox.config or {})

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> EmailConfig:
        address = _text(raw, "address").lower()
        if "@" not in address or address.startswith("@") or address.endswith("@"):
            raise ConfigError("an e-mail inbox needs config address (like support@example.com)")
        limit = raw.get("rate_limit_per_minute", DEFAULT_RATE_LIMIT)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ConfigError("config rate_limit_per_minute must be a positive integer")
        return cls(address=address, name=_text(raw, "name"), smtp=_smtp(raw.get("smtp")),
                   imap=_imap(raw.get("imap")), rate_limit_per_minute=limit,
                   public_url=_text(raw, "public_url").rstrip("/"))


def _text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    return value.strip() if isinstance(value, str) else ""


def _port(raw: dict[str, Any], default: int, what: str) -> int:
    port = raw.get("port", default)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError(f"config {what}.port must be a TCP port number")
    return port


def _positive(raw: dict[str, Any], key: str, default: float, what: str) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"config {what}.{key} must be a positive number")
    return float(value)


def _smtp(raw: Any) -> SmtpConfig | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not _text(raw, "host"):
        raise ConfigError("config smtp needs a host")
    tls = bool(raw.get("tls", False))
    return SmtpConfig(host=_text(raw, "host"), port=_port(raw, 465 if tls else 587, "smtp"),
                      username=_text(raw, "username") or None,
                      password=raw.get("password") if isinstance(raw.get("password"), str)
                      else None,
                      starttls=bool(raw.get("starttls", not tls)), tls=tls,
                      timeout=_positive(raw, "timeout_seconds", 30.0, "smtp"),
                      ca_file=_text(raw, "ca_file") or None,
                      validate_certs=bool(raw.get("validate_certs", True)))


def _imap(raw: Any) -> ImapConfig | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not _text(raw, "host") or not _text(raw, "username"):
        raise ConfigError("config imap needs host and username")
    tls = bool(raw.get("tls", True))
    password = raw.get("password")
    return ImapConfig(host=_text(raw, "host"), port=_port(raw, 993 if tls else 143, "imap"),
                      username=_text(raw, "username"),
                      password=password if isinstance(password, str) else "",
                      tls=tls, starttls=bool(raw.get("starttls", False)),
                      folder=_text(raw, "folder") or "INBOX",
                      poll_seconds=_positive(raw, "poll_seconds", 60.0, "imap"),
                      idle=bool(raw.get("idle", True)), ca_file=_text(raw, "ca_file") or None)
