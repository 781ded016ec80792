"""Opt-out and opt-in keywords, recorded as consent.

A message that is, as a whole, one of the opt-out keywords (退订, TD, STOP, 取消, 退訂,
取消訂閱/取消订阅, unsubscribe; any case, full- or half-width, punctuation around it
ignored) sets the contact's ``sms_opt_out`` attribute and puts a ``consent.sms_opt_out``
activity on the timeline; START / 订阅 / 訂閱 from an opted-out contact opts back in
(``consent.sms_opt_in``). Nothing is sent by SMS to an opted-out contact.
"""

from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.kit.outbox import emit
from omnidesk.kit.text import normalize
from omnidesk.models import Activity, Contact
from omnidesk.models.enums import ActivityKind, Channel, Outcome

OPT_OUT = frozenset({"退订", "td", "stop", "取消", "取消订阅", "unsubscribe"})
OPT_IN = frozenset({"start", "订阅"})
OPT_OUT_ATTRIBUTE = "sms_opt_out"


def keyword(text: str) -> str:
    """The message reduced to what a keyword match compares (simplified, lower-case,
    without spaces and punctuation)."""
    plain = normalize(text)
    return "".join(c for c in plain if not c.isspace()
                   and unicodedata.category(c)[0] not in ("P", "S"))


def consent_change(text: str, contact: Contact | None) -> str | None:
    """``opt_out``, ``opt_in`` (only for an opted-out contact) or None."""
    word = keyword(text)
    if word in OPT_OUT:
        return "opt_out"
    if word in OPT_IN and contact is not None and is_opted_out(contact):
        return "opt_in"
    return None


def is_opted_out(contact: Contact) -> bool:
    return bool((contact.attributes or {}).get(OPT_OUT_ATTRIBUTE))


async def do_record_consent(session: AsyncSession, contact: Contact, change: str, *,
                            inbox_id: uuid.UUID, message_id: str, text: str,
                            at: datetime) -> Activity:
    out = change == "opt_out"
    attributes = dict(contact.attributes or {})
    attributes[OPT_OUT_ATTRIBUTE] = out
    attributes["sms_consent_changed_at"] = at.isoformat()
    attributes["sms_consent_keyword"] = text.strip()[:50]
    contact.attributes = attributes
    activity = Activity(
        contact_id=contact.id, kind=ActivityKind.event, channel=Channel.sms,
        source=f"sms:{inbox_id}", external_id=f"consent:{message_id}",
        type=f"consent.sms_{change}", outcome=Outcome.info, occurred_at=at,
        summary=(f"Opted out of SMS ({text.strip()[:50]})" if out
                 else f"Opted back in to SMS ({text.strip()[:50]})"),
        data={"inbox_id": str(inbox_id), "message_id": message_id, "keyword": text.strip()[:50]})
    session.add(activity)
    await session.flush()
    await emit(session, "event.received", {"event": _event_json(activity)})
    return activity


def _event_json(a: Activity) -> dict[str, Any]:
    return {"id": str(a.id), "source": a.source, "external_id": a.external_id,
            "type": a.type, "outcome": a.outcome, "contact_id": str(a.contact_id),
            "summary": a.summary, "data": a.data, "occurred_at": a.occurred_at.isoformat()}
