"""Request shapes for cases and work orders."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class CaseType(StrEnum):
    inquiry = "inquiry"
    request = "request"
    complaint = "complaint"
    fault_report = "fault_report"
    order_change = "order_change"
    qualification = "qualification"


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class Stage(StrEnum):
    discovery = "discovery"
    confirmed = "confirmed"
    solution = "solution"
    execution = "execution"
    follow_up = "follow_up"
    closed = "closed"


STAGES = [s.value for s in Stage]


class FollowUpOutcome(StrEnum):
    confirmed = "confirmed"  # the customer confirmed the outcome
    satisfaction = "satisfaction"  # a satisfaction answer was given
    failed_contact = "failed_contact"  # documented failed contact attempts


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseCreate(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    contact_id: uuid.UUID
    type: CaseType
    subject: str = Field(min_length=1, max_length=500, alias="title")
    description: str = Field(default="", max_length=20_000)
    priority: Priority = Priority.normal
    product: str | None = Field(default=None, max_length=200)
    organisation_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    conversation_ids: list[uuid.UUID] = Field(default=[], max_length=50)
    activity_ids: list[uuid.UUID] = Field(default=[], max_length=50)


class FromConversation(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    type: CaseType = CaseType.inquiry
    subject: str | None = Field(default=None, max_length=500, alias="title")
    priority: Priority = Priority.normal
    product: str | None = Field(default=None, max_length=200)


class FollowUp(Strict):
    outcome: FollowUpOutcome
    note: str = Field(default="", max_length=5000)
    satisfaction: int | None = Field(default=None, ge=1, le=5)
    attempts: list[datetime] = Field(default=[], max_length=20)


class Transition(Strict):
    to: Stage
    reason: str | None = Field(default=None, max_length=5000)
    follow_up: FollowUp | None = None


class CaseUpdate(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    subject: str | None = Field(default=None, min_length=1, max_length=500, alias="title")
    description: str | None = Field(default=None, max_length=20_000)
    priority: Priority | None = None
    product: str | None = Field(default=None, max_length=200)
    assignee_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    flagged: bool | None = None
    waiting_on_customer: bool | None = None


class LinkIn(Strict):
    conversation_id: uuid.UUID | None = None
    activity_id: uuid.UUID | None = None


class DepartmentCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    team_id: uuid.UUID | None = None


class WorkOrderCreate(Strict):
    department_id: uuid.UUID
    instructions: str = Field(min_length=1, max_length=20_000)
    assignee_id: uuid.UUID | None = None
    due_at: datetime | None = None


class WorkOrderAction(Strict):
    action: str = Field(pattern="^(accept|done|reject)$")
    result: str | None = Field(default=None, max_length=20_000)
    reason: str | None = Field(default=None, max_length=5000)
