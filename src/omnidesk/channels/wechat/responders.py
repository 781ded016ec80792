"""Instant responders: answers ready within WeChat's 5 seconds go back as the passive
reply to the callback itself (no API call, no 48-hour window to respect).

A responder is ``async (Interaction) -> str | None``; the first non-empty answer wins.
They are asked in registration order within one time budget; one that is too slow is
cancelled, one that fails is logged and skipped. Today the subscribe greeting is the one
built in; the bot plugs in here with :func:`register_responder`.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from omnidesk.channels.wechat.config import WeChatConfig

log = logging.getLogger(__name__)

SUBSCRIBE_EVENTS = frozenset({"subscribe", "subscribe_scan"})


@dataclass(frozen=True)
class Interaction:
    """What the customer just did, as a responder sees it (already stored)."""

    inbox_id: uuid.UUID
    config: WeChatConfig
    openid: str
    contact_id: uuid.UUID
    msg_type: str  # text, image, voice, location, link, event, …
    event: str | None  # subscribe, unsubscribe, scan, click, … (events only)
    text: str  # the message body (voice: WeChat's recognition); "" for events
    conversation_id: uuid.UUID | None
    fields: dict[str, Any] = field(default_factory=dict)  # the raw XML fields


Responder = Callable[[Interaction], Awaitable[str | None]]
_RESPONDERS: dict[str, Responder] = {}


def register_responder(name: str, responder: Responder) -> None:
    """Add (or replace) an instant responder; asked after the ones registered before."""
    _RESPONDERS[name] = responder


def unregister_responder(name: str) -> None:
    _RESPONDERS.pop(name, None)


async def _ask(name: str, responder: Responder, interaction: Interaction,
               timeout: float) -> str | None:
    try:
        answer = await asyncio.wait_for(responder(interaction), timeout=timeout)
    except TimeoutError:
        log.info("wechat responder %s took longer than %.2fs; no passive reply", name, timeout)
        return None
    except Exception:
        log.exception("wechat responder %s failed", name)
        return None
    return answer.strip() if isinstance(answer, str) and answer.strip() else None


async def passive_reply(interaction: Interaction, *, deadline: float) -> str | None:
    """The first instant answer before ``deadline`` (a ``time.monotonic()`` value)."""
    for name, responder in list(_RESPONDERS.items()):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        answer = await _ask(name, responder, interaction, remaining)
        if answer is not None:
            return answer
    return None


async def greet(interaction: Interaction) -> str | None:
    """Welcome a new follower with the inbox's ``greeting`` ("" turns it off)."""
    if interaction.event in SUBSCRIBE_EVENTS:
        return interaction.config.greeting or None
    return None


def install() -> None:
    register_responder("wechat.greeting", greet)
