"""An SMS inbox's configuration (``inbox.config``), read and checked in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omnidesk.channels.voice.webhook import Misconfigured, secret_of
from omnidesk.models import Inbox


@dataclass(frozen=True)
class SmsConfig:
    secret: str  # signs the gateway's webhooks (inbound, receipts) and our sends
    gateway_url: str | None  # where outbound messages are POSTed
    gateway_token: str | None  # sent as a bearer token when set
    sender: str | None  # the number (or sender id) messages go out from
    timeout: float

    @classmethod
    def from_inbox(cls, inbox: Inbox) -> SmsConfig:
        raw: dict[str, Any] = inbox.config or {}
        url = raw.get("gateway_url")
        if url is not None and (not isinstance(url, str)
                                or not url.startswith(("http://", "https://"))):
            raise Misconfigured("config gateway_url must be an http(s) URL")
        timeout = raw.get("timeout_seconds", 10.0)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise Misconfigured("config timeout_seconds must be a positive number")
        token, sender = raw.get("gateway_token"), raw.get("sender")
        return cls(secret=secret_of(inbox), gateway_url=url,
                   gateway_token=token if isinstance(token, str) and token else None,
                   sender=sender if isinstance(sender, str) and sender else None,
                   timeout=float(timeout))
