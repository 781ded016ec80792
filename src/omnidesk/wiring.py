"""Process set-up shared by the server, the worker and the chat writer process."""

from __future__ import annotations

import gc

from omnidesk.bot import handlers as bot_handlers
from omnidesk.channels import email, wechat
from omnidesk.channels import registry as channel_registry
from omnidesk.channels import sms as sms_channel
from omnidesk.events import webhooks

# Young, middle and full collections (see settle_gc for why not the defaults).
GC_THRESHOLDS = (20_000, 50, 100)


def install_handlers() -> None:
    """Register the outbox handlers of every domain (idempotent)."""
    webhooks.install()
    channel_registry.install()
    wechat.install()
    bot_handlers.install()
    sms_channel.install()
    email.install()


def settle_gc() -> None:
    """Once a long-running process has started.

    Start-up leaves a few hundred thousand long-lived objects (models, routes, the NLU
    library); freezing them keeps every full collection from walking them again (each
    walk paused the server ~150 ms). A busy server then allocates faster than the default
    thresholds (700, 10, 10) suit: with a thousand chat sockets their objects were walked
    again and again (5 full collections of up to 90 ms in a 35 s run at 400 visitors).
    Collecting every 20,000 net allocations keeps cyclic garbage collected while the
    pauses go (8 young collections in the same run, none full)."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
