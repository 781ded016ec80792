"""Request shapes for inboxes, conversations and messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from omnidesk.models.enums import Channel, ConversationStatus


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InboxCreate(Strict):
    channel: Channel
    name: str = Field(min_length=1, max_length=200)
    config: dict[str, Any] = {}
    team_id: uuid.UUID | None = None
    restricted: bool = False


class InboxRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    channel: str
    name: str
    team_id: uuid.UUID | None
    restricted: bool
    created_at: datetime


class MessageCreate(Strict):
    body: str = Field(default="", max_length=20_000)
    is_note: bool = False
    client_id: str | None = Field(default=None, max_length=200)
    attachment_ids: list[uuid.UUID] = Field(default=[], max_length=20)


class InboundCreate(Strict):
    """An inbound customer message posted by an integration on an ``api`` inbox."""

    contact: dict[str, str] = Field(min_length=1, max_length=7)
    contact_name: str | None = Field(default=None, max_length=300)
    body: str = Field(default="", max_length=20_000)
    external_id: str | None = Field(default=None, max_length=300)
    subject: str | None = Field(default=None, max_length=500)
    attachment_ids: list[uuid.UUID] = Field(default=[], max_length=20)
    data: dict[str, Any] = {}


class StatusChange(Strict):
    status: ConversationStatus
    snoozed_until: datetime | None = None


class Assign(Strict):
    assignee_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
