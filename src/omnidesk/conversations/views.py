"""JSON shapes of conversations and messages (for the API and websockets alike)."""

from __future__ import annotations

from typing import Any

from omnidesk.models import Attachment, Conversation, Message


def message_json(m: Message, conversation: Conversation | None = None,
                 attachments: list[Attachment] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(m.id), "conversation_id": str(m.conversation_id), "seq": m.seq,
        "sender_type": m.sender_type, "sender_id": str(m.sender_id) if m.sender_id else None,
        "author_name": m.author_name, "body": m.body, "is_note": m.is_note,
        "external_id": m.external_id, "data": m.data, "delivery_status": m.delivery_status,
        "created_at": m.created_at.isoformat(),
        "attachments": [attachment_json(a) for a in attachments or []],
    }
    if conversation is not None:
        out["inbox_id"] = str(conversation.inbox_id)
        out["contact_id"] = str(conversation.contact_id)
        out["channel"] = conversation.channel
    return out


def attachment_json(a: Attachment) -> dict[str, Any]:
    return {"id": str(a.id), "filename": a.filename, "content_type": a.content_type,
            "size": a.size, "url": f"/api/v1/attachments/{a.id}"}


def conversation_json(c: Conversation) -> dict[str, Any]:
    def iso(v: Any) -> str | None:
        return v.isoformat() if v is not None else None

    return {
        "id": str(c.id), "inbox_id": str(c.inbox_id), "contact_id": str(c.contact_id),
        "channel": c.channel, "status": c.status, "subject": c.subject,
        "assignee_id": str(c.assignee_id) if c.assignee_id else None,
        "team_id": str(c.team_id) if c.team_id else None, "priority": c.priority,
        "routing_rule": c.routing_rule,
        "message_count": c.message_count, "last_seq": c.last_seq,
        "last_message_at": iso(c.last_message_at), "first_response_at": iso(c.first_response_at),
        "snoozed_until": iso(c.snoozed_until), "resolved_at": iso(c.resolved_at),
        "created_at": iso(c.created_at),
    }
