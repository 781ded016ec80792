"""Shared vocabulary, stored as strings."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    supervisor = "supervisor"
    agent = "agent"
    backoffice = "backoffice"
    account_manager = "account_manager"


class Channel(StrEnum):
    web_chat = "web_chat"
    app_chat = "app_chat"
    email = "email"
    voice = "voice"
    wechat = "wechat"
    sms = "sms"
    portal = "portal"
    forum = "forum"
    api = "api"


class IdentityKind(StrEnum):
    phone = "phone"
    email = "email"
    wechat_openid = "wechat_openid"
    wechat_unionid = "wechat_unionid"
    app_user_id = "app_user_id"
    visitor_id = "visitor_id"
    external_id = "external_id"


class OrgTier(StrEnum):
    strategic = "strategic"
    key = "key"
    standard = "standard"
    small_business = "small_business"


class MemberRole(StrEnum):
    decision_maker = "decision_maker"
    key_person = "key_person"
    administrator = "administrator"
    member = "member"


class ConversationStatus(StrEnum):
    open = "open"
    pending = "pending"
    snoozed = "snoozed"
    resolved = "resolved"


class SenderType(StrEnum):
    contact = "contact"
    agent = "agent"
    bot = "bot"
    system = "system"


class Outcome(StrEnum):
    failed = "failed"
    abandoned = "abandoned"
    succeeded = "succeeded"
    info = "info"


class ActivityKind(StrEnum):
    conversation = "conversation"
    call = "call"
    bot_session = "bot_session"
    event = "event"
    case = "case"
    note = "note"
