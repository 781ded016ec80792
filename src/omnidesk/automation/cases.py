"""Automation that opens cases from business events: a failure that repeats (e.g. two
failed payments within 7 days) becomes a case, so someone follows it up before the
customer has to call. Configured under the settings key ``automation``."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.cases.schemas import CaseCreate
from omnidesk.cases.service import do_create_case
from omnidesk.kit.time import utcnow
from omnidesk.models import Activity, Case, KbSetting

SETTINGS_KEY = "automation"
DEFAULTS: dict[str, Any] = {"repeated_failure": {
    "enabled": True, "types": ["payment.failed"], "count": 2, "days": 7,
    "case_type": "request", "priority": "high"}}


async def settings(session: AsyncSession) -> dict[str, Any]:
    row = await session.get(KbSetting, SETTINGS_KEY)
    merged = {**DEFAULTS["repeated_failure"], **((row.value if row else {})
                                                  .get("repeated_failure") or {})}
    return {"repeated_failure": merged}


async def scan_repeated_failures(session: AsyncSession,
                                 now: datetime | None = None) -> list[Case]:
    """Contacts whose failures repeated within the window get one follow-up case.

    Run by the scheduler (every ``OMNIDESK_SCAN_SECONDS``) rather than per event, so the
    event feed's ingest path owes no extra work per failure."""
    rule = (await settings(session))["repeated_failure"]
    if not rule["enabled"]:
        return []
    now = now or utcnow()
    since = now - timedelta(days=rule["days"])
    rows = list(await session.execute(
        select(Activity.contact_id, Activity.type, func.count())
        .where(Activity.outcome == "failed", Activity.type.in_(rule["types"]),
               Activity.occurred_at >= since, Activity.occurred_at <= now)
        .group_by(Activity.contact_id, Activity.type)
        .having(func.count() >= int(rule["count"]))))
    if not rows:
        return []
    covered = set(await session.scalars(select(Case.contact_id).where(
        Case.contact_id.in_({r[0] for r in rows}), Case.status == "open",
        Case.source == "automation")))
    opened = []
    for contact_id, type_, _count in rows:
        if contact_id in covered:
            continue
        failures = list(await session.scalars(select(Activity).where(
            Activity.contact_id == contact_id, Activity.type == type_,
            Activity.outcome == "failed", Activity.occurred_at >= since,
            Activity.occurred_at <= now).order_by(Activity.occurred_at)))
        opened.append(await _open(session, contact_id, type_, failures, rule))
        covered.add(contact_id)
    return opened


async def _open(session: AsyncSession, contact_id: uuid.UUID, type_: str,
                failures: list[Activity], rule: dict[str, Any]) -> Case:
    reasons = sorted({str((f.data or {}).get("reason")) for f in failures
                      if (f.data or {}).get("reason")})
    subject = f"{len(failures)}× {type_}" + (f": {', '.join(reasons)}" if reasons else "")
    return await do_create_case(session, CaseCreate(
        contact_id=contact_id, type=rule["case_type"], subject=subject[:500],
        priority=rule["priority"], description="\n".join(f.summary for f in failures),
        activity_ids=[f.id for f in failures]), actor="automation", source="automation")
