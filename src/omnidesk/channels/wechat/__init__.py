"""WeChat official accounts: the callback (plain and safe mode), passive replies from
instant responders, agent replies through the customer-service API within WeChat's
48-hour window, and openid/unionid identities. See docs/channels-wechat.md."""

from __future__ import annotations

from omnidesk.channels.wechat import outbound, responders
from omnidesk.channels.wechat.endpoints import router


def install() -> None:
    """Register the outbound adapter, the user-info handler and the greeting (idempotent)."""
    outbound.install()
    responders.install()


__all__ = ["install", "router"]
