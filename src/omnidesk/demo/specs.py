"""The demo data as plain values: planned first (pure, deterministic), then written.

Planning is separate from writing so that the plan can be checked without a database
and so that the same seed and ``now`` always give the same data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ProductSpec:
    code: str
    name: str
    started_at: datetime | None
    expires_at: datetime | None
    status: str = "active"
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class PersonSpec:
    """One contact: an individual customer, an organisation's member, or both."""

    key: str
    name: str
    locale: str
    timezone: str
    vip_level: int | None
    tags: list[str]
    phone: str | None = None
    email: str | None = None
    wechat_openid: str | None = None
    app_user_id: str | None = None
    products: list[ProductSpec] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    is_member: bool = False
    is_private: bool = True

    def identities(self) -> list[tuple[str, str]]:
        pairs = [("phone", self.phone), ("email", self.email),
                 ("wechat_openid", self.wechat_openid), ("app_user_id", self.app_user_id)]
        return [(kind, value) for kind, value in pairs if value]

    def primary_identity(self) -> dict[str, str]:
        """The identity other systems know this person by (events, voice)."""
        if self.phone:
            return {"phone": self.phone}
        assert self.email is not None
        return {"email": self.email}


@dataclass(frozen=True)
class MemberSpec:
    person_key: str
    role: str
    title: str


@dataclass
class OrgSpec:
    key: str
    name: str
    tier: str
    manager: str | None  # a staff key (see ``staff.STAFF``)
    billing_mode: str
    attributes: dict[str, Any]
    tags: list[str]
    members: list[MemberSpec] = field(default_factory=list)
    products: list[ProductSpec] = field(default_factory=list)


@dataclass(frozen=True)
class TurnSpec:
    """One message: ``role`` is contact, agent, note, billing_note or bot."""

    role: str
    text: str
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class ConversationSpec:
    inbox: str  # an inbox key (see ``staff.INBOXES``)
    person: str
    turns: list[TurnSpec]
    status: str
    agent: str | None  # the staff key of the agent who answers
    assigned: bool
    subject: str | None = None
    resolved_at: datetime | None = None
    external_prefix: str | None = None  # e-mail: Message-IDs for customer messages


@dataclass(frozen=True)
class CallSpec:
    """A call that never reached an agent (abandoned in the queue): timeline only."""

    person: str
    at: datetime
    waited_seconds: int
    queue: str


@dataclass
class Plan:
    persons: list[PersonSpec]
    organisations: list[OrgSpec]
    conversations: list[ConversationSpec]
    events: list[dict[str, Any]]
    calls: list[CallSpec]


@dataclass(frozen=True)
class Script:
    """A conversation template; ``turns`` are (role, text) with role ``c`` (customer),
    ``a`` (agent), ``n`` (internal note), ``bn`` (billing back-office note) or ``b`` (bot).
    Texts may name ``{name}``, ``{first}`` (the customer) and ``{agent}``."""

    inbox: str
    locale: str
    turns: tuple[tuple[str, str], ...]
    status: str = "resolved"
    subject: str | None = None
    uses: int = 3
    enterprise: bool = False
    queue: str = "综合咨询"  # calls: the hotline queue the caller chose
