"""Request and response shapes for contacts and organisations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from omnidesk.models.enums import MemberRole, OrgTier


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IdentityIn(Strict):
    kind: str
    value: str = Field(min_length=1, max_length=300)


class IdentityRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    kind: str
    value: str
    verified: bool


class ContactCreate(Strict):
    name: str | None = Field(default=None, max_length=300)
    locale: str | None = Field(default=None, max_length=16)
    timezone: str | None = Field(default=None, max_length=64)
    vip_level: int | None = Field(default=None, ge=0, le=10)
    tier: str | None = Field(default=None, max_length=32)
    tags: list[str] = []
    attributes: dict[str, Any] = {}
    identities: list[IdentityIn] = []


class ContactUpdate(Strict):
    name: str | None = Field(default=None, max_length=300)
    locale: str | None = Field(default=None, max_length=16)
    timezone: str | None = Field(default=None, max_length=64)
    vip_level: int | None = Field(default=None, ge=0, le=10)
    tier: str | None = Field(default=None, max_length=32)
    tags: list[str] | None = None
    attributes: dict[str, Any] | None = None


class ContactRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str | None
    locale: str | None
    timezone: str | None
    vip_level: int | None
    tier: str | None
    tags: list[str]
    attributes: dict[str, Any]
    merged_into_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    identities: list[IdentityRead] = []


class IdentityAdd(IdentityIn):
    merge: bool = False


class MergeIn(Strict):
    source_contact_id: uuid.UUID
    reason: str | None = Field(default=None, max_length=1000)


class MergeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    source_contact_id: uuid.UUID
    target_contact_id: uuid.UUID
    merged_by: str
    reason: str | None
    moved: dict[str, Any]
    created_at: datetime


class OrganisationCreate(Strict):
    name: str = Field(min_length=1, max_length=300)
    tier: OrgTier = OrgTier.standard
    account_manager_id: uuid.UUID | None = None
    billing_mode: str | None = Field(default=None, max_length=32)
    account_team_id: uuid.UUID | None = None
    external_id: str | None = Field(default=None, max_length=200)
    attributes: dict[str, Any] = {}
    tags: list[str] = []


class OrganisationUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    tier: OrgTier | None = None
    account_manager_id: uuid.UUID | None = None
    billing_mode: str | None = Field(default=None, max_length=32)
    account_team_id: uuid.UUID | None = None
    attributes: dict[str, Any] | None = None
    tags: list[str] | None = None


class OrganisationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    tier: str
    account_manager_id: uuid.UUID | None
    billing_mode: str | None
    account_team_id: uuid.UUID | None
    external_id: str | None
    attributes: dict[str, Any]
    tags: list[str]
    created_at: datetime
    updated_at: datetime


class MemberIn(Strict):
    contact_id: uuid.UUID
    role: MemberRole = MemberRole.member
    title: str | None = Field(default=None, max_length=200)


class MemberRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    organisation_id: uuid.UUID
    contact_id: uuid.UUID
    role: str
    title: str | None
    contact_name: str | None = None


class ProductIn(Strict):
    product_code: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=300)
    status: str = Field(default="active", max_length=32)
    started_at: datetime | None = None
    expires_at: datetime | None = None
    organisation_id: uuid.UUID | None = None
    attributes: dict[str, Any] = {}


class ProductRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    contact_id: uuid.UUID | None
    organisation_id: uuid.UUID | None
    product_code: str
    name: str
    status: str
    started_at: datetime | None
    expires_at: datetime | None
    attributes: dict[str, Any]


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None
