"""The customer portal's sign-in: one-time codes (hashed) and portal sessions."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from omnidesk.kit.db import Base
from omnidesk.kit.ids import new_id
from omnidesk.kit.time import utcnow


class PortalCode(Base):
    """A 6-digit sign-in code sent to an e-mail address or phone; only its keyed hash is
    stored. Used once, expires, and allows a few attempts."""

    __tablename__ = "portal_codes"
    __table_args__ = (Index("ix_portal_codes_identity", "identity_kind", "identity_value",
                            "created_at"),)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    identity_kind: Mapped[str] = mapped_column(String(32))
    identity_value: Mapped[str] = mapped_column(String(300))
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id",
                                                             ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PortalSession(Base):
    __tablename__ = "portal_sessions"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    contact_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
