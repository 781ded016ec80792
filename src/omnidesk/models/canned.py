"""Canned responses: reusable replies agents insert in the composer (with variables)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from omnidesk.kit.db import Base
from omnidesk.kit.ids import new_id
from omnidesk.kit.time import utcnow


class CannedResponse(Base):
    """``body`` may hold ``{{contact.name}}``, ``{{contact.phone}}``, ``{{agent.name}}``;
    they are filled for the conversation at hand when the agent picks the response."""

    __tablename__ = "canned_responses"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    shortcut: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(16), default="zh-CN")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
