"""The bot: its sessions on conversations, trained intent models, labelled utterances."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from omnidesk.kit.db import Base
from omnidesk.kit.ids import new_id
from omnidesk.kit.time import utcnow


class BotSession(Base):
    """The bot's part of a conversation: until it hands off or the customer is helped."""

    __tablename__ = "bot_sessions"
    __table_args__ = (Index("ix_bot_sessions_outcome", "outcome", "started_at"),)
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[uuid.UUID] = mapped_column(index=True)
    channel: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="active")  # active|awaiting|ended
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)  # resolved|handed_off
    handoff_reason: Mapped[str | None] = mapped_column(String(64), default=None)
    unhelpful: Mapped[int] = mapped_column(default=0)
    handled_seq: Mapped[int] = mapped_column(default=0)
    last_intent: Mapped[str | None] = mapped_column(String(200), default=None)
    last_article_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    intents: Mapped[list[Any]] = mapped_column(default=list)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)


class NluModel(Base):
    __tablename__ = "nlu_models"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    labels: Mapped[list[str]] = mapped_column(default=list)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NluUtterance(Base):
    """A labelled example an admin imported (CSV text,label)."""

    __tablename__ = "nlu_utterances"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    text: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
