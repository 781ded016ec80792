"""Automation that opens cases from business events: a failure that repeats (e.g. two
failed payments within 7 days) becomes a case, so someone follows it up before the
customer has to call. Configured under the knowledge/bot settings key ``automation``."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.cases.schemas import CaseCreate
from omnidesk.cases.service import do_create_case
from omnidesk.kit.db import Database
from omnidesk.kit.outbox import register
from omnidesk.models import Activity, Case, CaseLink, KbSetting, OutboxItem

SETTINGS_KEY = "automation"
DEFAULTS: dict[str, Any] = {"repeated_failure": {
    "enabled": True, "types": ["payment.failed"], "count": 2, "days": 7,
    "case_type": "request", "priority": "high"}}


async def settings(session: AsyncSession) -> dict[str, Any]:
    row = await session.get(KbSetting, SETTINGS_KEY)
    merged = {**DEFAULTS["repeated_failure"], **((row.value if row else {})
                                                  .get("repeated_failure") or {})}
    return {"repeated_failure": merged}


async def _wants(_: AsyncSession, event: str, payload: dict[str, Any]) -> bool:
    return (payload.get("event") or {}).get("outcome") == "failed"


async def on_event(db: Database, item: OutboxItem) -> None:
    event = item.payload["event"]
    async with db.transaction() as session:
        await open_case_for_repeated_failure(session, event)


async def open_case_for_repeated_failure(session: AsyncSession,
                                         event: dict[str, Any]) -> Case | None:
    rule = (await settings(session))["repeated_failure"]
    if not rule["enabled"] or event["type"] not in rule["types"]:
        return None
    contact_id = uuid.UUID(event["contact_id"])
    at = datetime.fromisoformat(event["occurred_at"])
    since = at - timedelta(days=rule["days"])
    failures = list(await session.scalars(select(Activity).where(
        Activity.contact_id == contact_id, Activity.type == event["type"],
        Activity.outcome == "failed", Activity.occurred_at >= since,
        Activity.occurred_at <= at)
        .order_by(Activity.occurred_at)))
    if len(failures) < int(rule["count"]):
        return None
    # one case per run of failures: an open automation case of this type already covers it
    open_case = await session.scalar(select(func.count()).select_from(Case).where(
        Case.contact_id == contact_id, Case.status == "open", Case.source == "automation",
        Case.id.in_(select(CaseLink.case_id).where(
            CaseLink.target_id.in_([f.id for f in failures])))))
    if open_case:
        return None
    reasons = sorted({str((f.data or {}).get("reason")) for f in failures
                      if (f.data or {}).get("reason")})
    subject = f"{len(failures)}× {event['type']}" + (f": {', '.join(reasons)}" if reasons else "")
    return await do_create_case(session, CaseCreate(
        contact_id=contact_id, type=rule["case_type"], subject=subject[:500],
        priority=rule["priority"], description="\n".join(f.summary for f in failures),
        activity_ids=[f.id for f in failures]), actor="automation", source="automation")


def install() -> None:
    register("automation.cases", on_event, events={"event.received"}, selector=_wants)
