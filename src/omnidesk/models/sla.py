"""SLA calendars, policies and the clocks running on cases and conversations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from omnidesk.kit.db import Base
from omnidesk.kit.ids import new_id
from omnidesk.kit.time import utcnow


class SlaCalendar(Base):
    __tablename__ = "sla_calendars"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    definition: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SlaPolicy(Base):
    """Targets (minutes of business time) for what matches its conditions; the first
    matching policy by ``position`` applies."""

    __tablename__ = "sla_policies"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    position: Mapped[int] = mapped_column(default=100)
    active: Mapped[bool] = mapped_column(default=True)
    conditions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    targets: Mapped[dict[str, Any]] = mapped_column(default=dict)
    calendar_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("sla_calendars.id", ondelete="SET NULL"), default=None
    )
    at_risk_fraction: Mapped[float] = mapped_column(default=0.2)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


RUNNING = text("stopped_at IS NULL")


class SlaTarget(Base):
    """One running (or finished) clock: a metric of a case or a conversation."""

    __tablename__ = "sla_targets"
    # A subject's clocks pile up (a chat starts one per customer message), yet every hot
    # read and write wants the few that still run: the subject index keeps the history,
    # the partial ones hold running clocks only. A clock that stops leaves them (on
    # PostgreSQL its new row version is not even entered into them), so they stay as
    # small as the number of running clocks.
    __table_args__ = (
        Index("ix_sla_targets_subject", "subject_id", "metric"),
        Index("ix_sla_targets_running", "subject_id", "metric",
              postgresql_where=RUNNING, sqlite_where=RUNNING),
        Index("ix_sla_targets_running_due", "next_check_at",
              postgresql_where=RUNNING, sqlite_where=RUNNING),
        Index("ix_sla_targets_running_state", "state", "due_at",
              postgresql_where=RUNNING, sqlite_where=RUNNING),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    subject_kind: Mapped[str] = mapped_column(String(16))  # case | conversation
    subject_id: Mapped[uuid.UUID] = mapped_column()
    metric: Mapped[str] = mapped_column(String(64))
    policy_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sla_policies.id",
                                                            ondelete="CASCADE"))
    target_seconds: Mapped[int] = mapped_column()
    started_at: Mapped[datetime] = mapped_column()
    pauses: Mapped[list[Any]] = mapped_column(default=list)
    stopped_at: Mapped[datetime | None] = mapped_column(default=None)
    state: Mapped[str] = mapped_column(String(16), default="on_track")
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    at_risk_at: Mapped[datetime | None] = mapped_column(default=None)
    breached_at: Mapped[datetime | None] = mapped_column(default=None)
    next_check_at: Mapped[datetime | None] = mapped_column(default=None)
    notified: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
