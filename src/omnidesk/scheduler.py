"""Work that runs on a clock rather than on an event: SLA scans, escalation deadlines,
expiry and booking reminders. It runs inside ``omnidesk serve`` (embedded default) or
``omnidesk worker``; every step is idempotent, so several runners do no harm."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from omnidesk.accounts.service import scan_bookings, scan_expiring_products
from omnidesk.automation.cases import scan_repeated_failures
from omnidesk.config import Settings
from omnidesk.kit.db import Database
from omnidesk.sla.scan import ScanReport, run_sla_scan

log = logging.getLogger(__name__)


async def run_all(db: Database, settings: Settings) -> ScanReport:
    report = await run_sla_scan(db)
    async with db.transaction() as session:
        await scan_repeated_failures(session)
    async with db.transaction() as session:
        await scan_expiring_products(session, settings.expiry_reminder_days)
        await scan_bookings(session, timedelta(hours=settings.booking_reminder_hours))
    return report


async def run_periodically(db: Database, settings: Settings, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=settings.scan_seconds)
            return
        except TimeoutError:
            pass
        try:
            await run_all(db, settings)
        except Exception:
            log.exception("scheduled scan failed; trying again next round")
