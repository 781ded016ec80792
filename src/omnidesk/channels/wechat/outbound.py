"""Outbound on WeChat: agents' and the bot's replies through the customer-service message
API (from the outbox, retried), and the follower's unionid from the user-info API.

A reply is sent to the openid the customer last wrote from on this account, and only
within 48 hours of that message; outside the window WeChat would refuse it (45015), so
the API is not called and the message is marked failed with the reason.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.channels.registry import DeliveryResult, Outbound, register_adapter
from omnidesk.channels.wechat import api
from omnidesk.channels.wechat.config import ConfigError, WeChatConfig
from omnidesk.channels.wechat.inbound import link_unionid
from omnidesk.channels.wechat.window import OUTSIDE_WINDOW, is_open
from omnidesk.config import get_settings
from omnidesk.customers.service import find_contact_by_identity
from omnidesk.kit.db import Database
from omnidesk.kit.outbox import register
from omnidesk.models import Inbox, OutboxItem
from omnidesk.models.enums import Channel, IdentityKind, SenderType

log = logging.getLogger(__name__)
USER_INFO_HANDLER = "wechat.user_info"


def _openid(out: Outbound) -> str | None:
    """The openid on this account: from the customer's last message here (a contact
    linked across accounts by unionid holds one openid per account)."""
    if out.last_inbound is not None:
        fields = (out.last_inbound.data or {}).get("wechat") or {}
        if isinstance(fields.get("FromUserName"), str) and fields["FromUserName"]:
            return str(fields["FromUserName"])
    return out.identities.get(IdentityKind.wechat_openid)


class WeChatAdapter:
    channel = Channel.wechat.value

    async def deliver(self, out: Outbound) -> DeliveryResult:
        try:
            cfg = WeChatConfig.from_inbox(out.inbox)
        except ConfigError as exc:
            return DeliveryResult("failed", detail=f"inbox misconfigured: {exc}")
        if not cfg.can_call_api:
            return DeliveryResult("failed", detail="inbox misconfigured: no app_secret")
        openid = _openid(out)
        if openid is None:
            return DeliveryResult("failed", detail="the contact has no WeChat openid")
        last = out.last_inbound.created_at if out.last_inbound is not None else None
        if not is_open(last):
            return DeliveryResult("failed", detail=OUTSIDE_WINDOW)
        text = out.message.body.strip()
        if out.attachments:
            text = "\n".join([text, *(f"[{a.filename}]" for a in out.attachments)]).strip()
        try:
            result = await api.send_text(out.inbox.id, cfg, openid, text)
        except Exception as exc:
            if api.is_transient(exc):
                raise  # the outbox tries again later
            return DeliveryResult("failed", detail=api.describe(exc))
        msgid = result.get("msgid")
        return DeliveryResult("sent", external_id=str(msgid) if msgid else None)


async def _wants_user_info(session: AsyncSession, event: str, payload: dict[str, Any]) -> bool:
    """A conversation's first customer message on a WeChat inbox: learn the unionid."""
    message = payload.get("message") or {}
    if (event != "message.created" or message.get("channel") != Channel.wechat
            or message.get("sender_type") != SenderType.contact or message.get("seq") != 1):
        return False
    inbox = await session.get(Inbox, uuid.UUID(message["inbox_id"]))
    try:
        cfg = WeChatConfig.from_inbox(inbox) if inbox is not None else None
    except ConfigError:
        return False
    return cfg is not None and cfg.can_call_api and cfg.fetch_user_info


async def fetch_user_info(db: Database, item: OutboxItem) -> None:
    """Ask WeChat for the follower's unionid and link it (merging across accounts)."""
    message = item.payload["message"]
    openid = ((message.get("data") or {}).get("wechat") or {}).get("FromUserName")
    async with db.transaction() as session:
        inbox = await session.get(Inbox, uuid.UUID(message["inbox_id"]))
    if inbox is None or not openid:
        return
    try:
        cfg = WeChatConfig.from_inbox(inbox)
    except ConfigError:
        return  # reconfigured since: nothing to ask with
    try:
        info = await api.user_info(inbox.id, cfg, openid)
    except Exception as exc:
        if api.is_transient(exc):
            raise
        log.warning("wechat user info for %s: %s", openid, api.describe(exc))
        return
    unionid = info.get("unionid")
    if not isinstance(unionid, str) or not unionid:
        return
    async with db.transaction() as session:
        contact = await find_contact_by_identity(session, IdentityKind.wechat_openid, openid)
        if contact is not None:
            await link_unionid(session, contact.id, unionid, get_settings().default_region)


def install() -> None:
    register_adapter(WeChatAdapter())
    register(USER_INFO_HANDLER, fetch_user_info, events={"message.created"},
             selector=_wants_user_info)
