"""Outbound SMS: agents' and the bot's replies POSTed to the inbox's gateway.

One request per message to config ``gateway_url``, JSON::

    {"from": sender, "to": "+8613800138000", "text": "...", "encoding": "gsm7" | "ucs2",
     "segments": ["...", "..."], "reference": "<omnidesk message id>"}

signed like the gateway's webhooks (``X-Omnidesk-Timestamp``/``X-Omnidesk-Signature``),
with ``Idempotency-Key: <message id>`` (a retry after a lost answer is not sent twice by a
gateway that honours it) and ``Authorization: Bearer <gateway_token>`` when configured.
The gateway answers 2xx with the message's id (``message_id``, ``id``, ``messageId`` or
Vonage's ``messages[0]["message-id"]``); receipts later name that id. Network errors, 429
and 5xx are retried by the outbox; other answers fail the message with the reason. An
opted-out contact gets nothing: the message fails with the reason, no request is made.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson

from omnidesk.channels.registry import DeliveryResult, Outbound, register_adapter
from omnidesk.channels.sms.config import SmsConfig
from omnidesk.channels.sms.consent import OPT_OUT_ATTRIBUTE, is_opted_out
from omnidesk.channels.sms.segments import split
from omnidesk.kit.errors import OmnideskError
from omnidesk.kit.security import sign_webhook
from omnidesk.models.enums import Channel, IdentityKind

OPTED_OUT = "the contact opted out of SMS ({keyword} at {at}); nothing was sent"


def _gateway_id(answer: Any) -> str | None:
    if not isinstance(answer, dict):
        return None
    for key in ("message_id", "id", "messageId", "sid"):
        if isinstance(answer.get(key), str | int) and str(answer[key]):
            return str(answer[key])
    messages = answer.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        found = messages[0].get("message-id")
        return str(found) if found else None
    return None


def _phone(out: Outbound) -> str | None:
    """The number the customer last wrote from on this inbox, else their phone identity."""
    if out.last_inbound is not None:
        sender = ((out.last_inbound.data or {}).get("sms") or {}).get("from")
        if isinstance(sender, str) and sender:
            return sender
    return out.identities.get(IdentityKind.phone)


class SmsAdapter:
    channel = Channel.sms.value

    async def deliver(self, out: Outbound) -> DeliveryResult:
        try:
            cfg = SmsConfig.from_inbox(out.inbox)
        except OmnideskError as exc:
            return DeliveryResult("failed", detail=f"inbox misconfigured: {exc.detail}")
        if cfg.gateway_url is None:
            return DeliveryResult("failed", detail="inbox misconfigured: no gateway_url")
        if out.contact is not None and is_opted_out(out.contact):
            attrs = out.contact.attributes or {}
            return DeliveryResult("failed", detail=OPTED_OUT.format(
                keyword=attrs.get("sms_consent_keyword") or OPT_OUT_ATTRIBUTE,
                at=attrs.get("sms_consent_changed_at") or "an earlier time"))
        phone = _phone(out)
        if phone is None:
            return DeliveryResult("failed", detail="the contact has no phone number")
        text = out.message.body.strip()
        if out.attachments:
            text = "\n".join([text, *(f"[{a.filename}]" for a in out.attachments)]).strip()
        encoding, segments = split(text)
        body = orjson.dumps({"from": cfg.sender, "to": phone, "text": text,
                             "encoding": encoding, "segments": segments,
                             "reference": str(out.message.id)})
        ts = int(time.time())
        headers = {"Content-Type": "application/json",
                   "Idempotency-Key": str(out.message.id),
                   "X-Omnidesk-Timestamp": str(ts),
                   "X-Omnidesk-Signature": sign_webhook(cfg.secret, ts, body)}
        if cfg.gateway_token:
            headers["Authorization"] = f"Bearer {cfg.gateway_token}"
        async with httpx.AsyncClient(timeout=cfg.timeout) as client:
            response = await client.post(cfg.gateway_url, content=body, headers=headers)
        if response.status_code == 429 or response.status_code >= 500:
            response.raise_for_status()  # the outbox tries again later
        detail = f"{len(segments)} {encoding} segment{'s' if len(segments) > 1 else ''}"
        if response.status_code >= 300:
            return DeliveryResult("failed", detail=f"gateway refused ({response.status_code}): "
                                                   f"{response.text[:300]}")
        try:
            answer = response.json()
        except ValueError:
            answer = None
        return DeliveryResult("sent", external_id=_gateway_id(answer), detail=detail)


def install() -> None:
    register_adapter(SmsAdapter())
