"""Telephony and SMS channel state: calls, received webhook events (idempotency, replay
protection, quarantine) and the parts of long SMS waiting for their siblings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from omnidesk.kit.db import Base
from omnidesk.kit.ids import new_id
from omnidesk.kit.time import utcnow


class ChannelEvent(Base):
    """One signed webhook event a channel accepted (or quarantined), stored once.

    ``key`` names the event (``call:{call_id}:answered``, ``sms:{message_id}``, …): a retry
    finds it and is answered as a duplicate. ``signature`` is the request's signature: the
    very same signed request sent again is a replay and is refused. A quarantined event
    (e.g. ``answered`` for a call not seen ringing) keeps its payload and reason and is
    applied when what it waited for arrives.
    """

    __tablename__ = "channel_events"
    __table_args__ = (
        UniqueConstraint("inbox_id", "key"),
        UniqueConstraint("inbox_id", "signature"),
        Index("ix_channel_events_waiting", "inbox_id", "status", "subject"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    inbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inboxes.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(400))
    subject: Mapped[str | None] = mapped_column(String(300), default=None)  # e.g. the call id
    signature: Mapped[str | None] = mapped_column(String(200), default=None)
    status: Mapped[str] = mapped_column(String(16), default="accepted")  # | quarantined
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Call(Base):
    """A phone call on a voice inbox, from ringing to its end."""

    __tablename__ = "calls"
    __table_args__ = (UniqueConstraint("inbox_id", "call_id"),)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    inbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inboxes.id", ondelete="CASCADE"))
    call_id: Mapped[str] = mapped_column(String(200))  # the PBX's id
    direction: Mapped[str] = mapped_column(String(16), default="inbound")
    caller: Mapped[str] = mapped_column(String(64))  # E.164
    called: Mapped[str | None] = mapped_column(String(64), default=None)
    contact_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    activity_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    team_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    offered_to_id: Mapped[uuid.UUID | None] = mapped_column(default=None)  # screen pop sent to
    agent_id: Mapped[uuid.UUID | None] = mapped_column(default=None)  # who answered
    state: Mapped[str] = mapped_column(String(16), default="ringing")
    intent: Mapped[str | None] = mapped_column(String(200), default=None)
    transcript: Mapped[str | None] = mapped_column(Text, default=None)
    outcome: Mapped[str | None] = mapped_column(String(32), default=None)
    recording_url: Mapped[str | None] = mapped_column(String(1000), default=None)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SmsPart(Base):
    """A part of a concatenated (UDH) SMS, kept until every part has arrived."""

    __tablename__ = "sms_parts"
    __table_args__ = (UniqueConstraint("inbox_id", "sender", "ref", "part"),)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    inbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inboxes.id", ondelete="CASCADE"))
    sender: Mapped[str] = mapped_column(String(64))
    ref: Mapped[str] = mapped_column(String(64))
    total: Mapped[int] = mapped_column()
    part: Mapped[int] = mapped_column()
    text: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
