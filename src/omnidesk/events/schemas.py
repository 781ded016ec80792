"""The event feed's wire format."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from omnidesk.models.enums import Channel, Outcome


class EventIn(BaseModel):
    """One business event from another system ("process data")."""

    model_config = ConfigDict(extra="forbid")
    source: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    id: str = Field(min_length=1, max_length=300)
    type: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    occurred_at: datetime
    contact: dict[str, str] = Field(min_length=1, max_length=7)
    contact_name: str | None = Field(default=None, max_length=300)
    summary: str = Field(default="", max_length=2000)
    outcome: Outcome | None = None
    channel: Channel | None = None
    data: dict[str, Any] = {}

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("occurred_at needs a time zone (e.g. 2026-11-24T03:00:00Z)")
        return value


class EventTypeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    outcome: Outcome
    description: str | None = Field(default=None, max_length=1000)


class EventSourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    secret: str | None = Field(default=None, min_length=16, max_length=200)


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=8, max_length=1000, pattern=r"^https?://")
    event_types: list[str] = []
    secret: str | None = Field(default=None, min_length=16, max_length=200)
