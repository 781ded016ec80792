"""The event feed's wire format."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, NotRequired

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, with_config
from typing_extensions import TypedDict

from omnidesk.models.enums import Channel, Outcome


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("occurred_at needs a time zone (e.g. 2026-11-24T03:00:00Z)")
    return value


_Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]


@with_config(ConfigDict(extra="forbid"))
class EventIn(TypedDict):
    """One business event from another system ("process data").

    A typed dict rather than a model: a batch of 1,000 validates into plain dicts, which
    is cheaper to build and leaves nothing for the garbage collector to track. Optional
    keys may be absent (defaults: no name, empty summary, inferred outcome, no channel,
    empty data)."""

    source: _Name
    id: Annotated[str, Field(min_length=1, max_length=300)]
    type: _Name
    occurred_at: Annotated[datetime, AfterValidator(_aware)]
    contact: Annotated[dict[str, str], Field(min_length=1, max_length=7)]
    contact_name: NotRequired[Annotated[str | None, Field(max_length=300)]]
    summary: NotRequired[Annotated[str, Field(max_length=2000)]]
    outcome: NotRequired[Outcome | None]
    channel: NotRequired[Channel | None]
    data: NotRequired[dict[str, Any]]


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
