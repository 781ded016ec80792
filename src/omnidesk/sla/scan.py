"""``omnidesk sla scan``: move clocks to at-risk and breached on time, escalate breached
cases, and escalate further when an escalation's deadline passes."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.cases.escalations import do_escalate, scan_deadlines
from omnidesk.kit.db import Database
from omnidesk.kit.errors import OmnideskError
from omnidesk.kit.time import utcnow
from omnidesk.models import Case, EscalationLevel, SlaTarget
from omnidesk.sla import service as sla

log = logging.getLogger(__name__)


@dataclass
class ScanReport:
    checked: int = 0
    breached: int = 0
    escalated: int = 0
    deadlines_missed: int = 0
    errors: list[str] = field(default_factory=list)


async def sla_counts(session: AsyncSession) -> dict[str, int]:
    """Open clocks by state."""
    rows = await session.execute(select(SlaTarget.state, func.count()).where(
        SlaTarget.stopped_at.is_(None)).group_by(SlaTarget.state))
    return {state: int(n) for state, n in rows}


async def run_sla_scan(db: Database, now: datetime | None = None,
                       batch: int = 25_000) -> ScanReport:
    """Every due clock, in batches of ``batch`` (one transaction each)."""
    now = now or utcnow()
    report = ScanReport()
    while True:
        async with db.transaction() as session:
            checked, breached = await sla.scan(session, now, batch)
            report.checked += checked
            report.breached += len(breached)
            await _escalate(session, [t for t in breached if t.subject_kind == "case"], report)
        if checked < batch:
            break
    async with db.transaction() as session:
        report.deadlines_missed = await scan_deadlines(session, now)
    return report


async def _escalate(session: AsyncSession, breached: list[sla.Breach],
                    report: ScanReport) -> None:
    """Breached cases go up the chain (once: a case already escalated stays where it is)."""
    if not breached:
        return
    first = await session.get(EscalationLevel, 1)
    if first is None or first.owner_id is None:
        report.errors.append(f"{len(breached)} breached case clocks: no owner configured for "
                             "escalation level 1, so no escalation (the sla.breached events "
                             "were raised)")
        return
    cases = await session.scalars(select(Case).where(
        Case.id.in_({t.subject_id for t in breached}), Case.status == "open",
        Case.escalation_level == 0))
    for case in cases:
        try:
            async with session.begin_nested():
                await do_escalate(session, case, trigger="sla_breach", actor="omnidesk",
                                  reason="SLA breached")
            report.escalated += 1
        except OmnideskError as exc:
            report.errors.append(f"{case.number}: {exc.detail}")
