"""The SMS channel: an HTTP gateway's signed webhooks (inbound messages, long ones joined
from their parts, delivery receipts), outbound sends split into GSM-7/UCS-2 segments, and
opt-out keywords recorded as consent. See docs/channels-sms.md."""

from __future__ import annotations

from omnidesk.channels.sms import outbound
from omnidesk.channels.sms.endpoints import router


def install() -> None:
    """Register the outbound adapter (idempotent)."""
    outbound.install()


__all__ = ["install", "router"]
