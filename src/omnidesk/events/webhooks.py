"""Outbound webhooks: events are POSTed to subscribers, signed, through the outbox."""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.kit.db import Database
from omnidesk.kit.outbox import register
from omnidesk.kit.security import sign_webhook
from omnidesk.models import OutboxDelivery, OutboxItem, Webhook

HANDLER = "webhooks.deliver"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def _wants(hook: Webhook, event: str) -> bool:
    return not hook.event_types or event in hook.event_types


_ACTIVE_TYPES = select(Webhook.event_types).where(Webhook.active.is_(True))


async def _any_subscriber(session: AsyncSession, event: str, _: dict[str, Any]) -> bool:
    """Cached per transaction: a batch of 1,000 events asks the database once."""
    cache: dict[str, list[list[str]]] = session.info.setdefault("webhooks.active", {})
    if "hooks" not in cache:
        conn = await session.connection()  # a column read: the ORM has nothing to add
        cache["hooks"] = list((await conn.execute(_ACTIVE_TYPES)).scalars())
    return any(not types or event in types for types in cache["hooks"])


async def deliver(db: Database, item: OutboxItem) -> None:
    """Send to every subscriber not yet served for this outbox item; raise if any fails
    (the outbox retries, and subscribers already served are not sent to twice)."""
    event, item_id = item.event, item.id
    async with db.transaction() as session:
        hooks = [h for h in await session.scalars(select(Webhook).where(Webhook.active))
                 if _wants(h, event)]
        done = set(await session.scalars(select(OutboxDelivery.key).where(
            OutboxDelivery.key.in_([f"{item_id}:{h.id}" for h in hooks]))))
    failures = []
    body = orjson.dumps({"event": event, "delivery_id": str(item_id),
                         "data": item.payload})
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        for hook in hooks:
            key = f"{item_id}:{hook.id}"
            if key in done:
                continue
            ts = int(time.time())
            try:
                response = await client.post(hook.url, content=body, headers={
                    "Content-Type": "application/json", "X-Omnidesk-Event": event,
                    "X-Omnidesk-Delivery": str(item_id), "X-Omnidesk-Timestamp": str(ts),
                    "X-Omnidesk-Signature": sign_webhook(hook.secret, ts, body)})
                response.raise_for_status()
            except httpx.HTTPError as exc:
                failures.append(f"{hook.url}: {exc}")
                continue
            async with db.transaction() as session:
                session.add(OutboxDelivery(key=key, result={"status": response.status_code}))
    if failures:
        raise RuntimeError("; ".join(failures))


def install() -> None:
    register(HANDLER, deliver, selector=_any_subscriber)
