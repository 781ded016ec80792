"""All tables, in one package so that domains never import each other's tables."""

from omnidesk.kit.db import Base
from omnidesk.models.accounts import (
    AccountHandover,
    AccountNote,
    Booking,
    Document,
    Reminder,
    VisitSlot,
)
from omnidesk.models.activity import (
    Activity,
    EventSource,
    EventType,
    IdempotencyKey,
    OutboxDelivery,
    OutboxItem,
    Webhook,
)
from omnidesk.models.auth import ApiToken, Team, TeamMember, User, UserSession
from omnidesk.models.bot import BotSession, NluModel, NluUtterance
from omnidesk.models.canned import CannedResponse
from omnidesk.models.cases import (
    AuditEntry,
    Case,
    CaseLink,
    CaseTransition,
    Department,
    Escalation,
    EscalationLevel,
    WorkOrder,
)
from omnidesk.models.channels import Call, ChannelEvent, SmsPart
from omnidesk.models.conversations import Attachment, Conversation, Inbox, Message
from omnidesk.models.customers import (
    Contact,
    ContactMerge,
    Identity,
    Membership,
    Organisation,
    ProductHolding,
)
from omnidesk.models.knowledge import (
    Article,
    ArticleVersion,
    ArticleVote,
    KbSetting,
)
from omnidesk.models.portal import PortalCode, PortalSession
from omnidesk.models.routing import RoutingRule
from omnidesk.models.sla import SlaCalendar, SlaPolicy, SlaTarget

__all__ = [
    "AccountHandover",
    "AccountNote",
    "Activity",
    "ApiToken",
    "Article",
    "ArticleVersion",
    "ArticleVote",
    "Attachment",
    "AuditEntry",
    "Base",
    "Booking",
    "BotSession",
    "Call",
    "CannedResponse",
    "Case",
    "CaseLink",
    "CaseTransition",
    "ChannelEvent",
    "Contact",
    "ContactMerge",
    "Conversation",
    "Department",
    "Document",
    "Escalation",
    "EscalationLevel",
    "EventSource",
    "EventType",
    "IdempotencyKey",
    "Identity",
    "Inbox",
    "KbSetting",
    "Membership",
    "Message",
    "NluModel",
    "NluUtterance",
    "Organisation",
    "OutboxDelivery",
    "OutboxItem",
    "PortalCode",
    "PortalSession",
    "ProductHolding",
    "Reminder",
    "RoutingRule",
    "SlaCalendar",
    "SlaPolicy",
    "SlaTarget",
    "SmsPart",
    "Team",
    "TeamMember",
    "User",
    "UserSession",
    "VisitSlot",
    "Webhook",
    "WorkOrder",
]
