"""``start_many`` / ``stop_many`` (the chat group commit's clocks) leave the same clocks
and owe the same notifications as ``start`` / ``stop`` one subject at a time — for the
clocks met in time that they write set-based and for those they leave to the one path:
late, paused, already breached, at risk from the start."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from omnidesk.kit.db import Database
from omnidesk.kit.time import utcnow
from omnidesk.models import SlaCalendar, SlaPolicy, SlaTarget
from omnidesk.sla import service as sla
from tests.sla.test_sla_policies_api import ALWAYS

METRICS = ["first_response", "next_response"]
COLUMNS = ("metric", "policy_id", "target_seconds", "started_at", "pauses", "stopped_at",
           "state", "due_at", "at_risk_at", "breached_at", "next_check_at", "notified")


async def add_policy(db: Database, at_risk_fraction: float = 0.2) -> None:
    async with db.transaction() as session:
        calendar = SlaCalendar(name="7x24", definition=ALWAYS)
        session.add(calendar)
        await session.flush()
        session.add(SlaPolicy(name="chat", conditions={"applies_to": ["conversation"]},
                              targets={"first_response": 5, "next_response": 10},
                              calendar_id=calendar.id, at_risk_fraction=at_risk_fraction))


def subject(sid: uuid.UUID) -> sla.Subject:
    return sla.Subject(kind="conversation", id=sid, tier=None, priority="normal",
                       case_type=None, channel="web_chat")


@pytest.fixture
def emitted(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str, str]]:
    """The notifications owed: (event, subject id, metric, state)."""
    calls: list[tuple[str, str, str, str]] = []

    async def record(session: Any, event: str, payload: dict[str, Any]) -> int:
        calls.append((event, payload["subject_id"], payload["metric"], payload["state"]))
        return 1

    monkeypatch.setattr(sla, "emit", record)
    return calls


async def clocks(db: Database, sid: uuid.UUID) -> list[tuple[Any, ...]]:
    async with db.transaction() as session:
        rows = await session.scalars(select(SlaTarget).where(SlaTarget.subject_id == sid)
                                     .order_by(SlaTarget.metric))
        return [tuple(getattr(r, c) for c in COLUMNS) for r in rows]


def owed(emitted: list[tuple[str, str, str, str]], sid: uuid.UUID
         ) -> list[tuple[str, str, str]]:
    return sorted((e, m, s) for e, i, m, s in emitted if i == str(sid))


async def test_many_clocks_end_as_one_at_a_time(
        db: Database, emitted: list[tuple[str, str, str, str]]) -> None:
    await add_policy(db)
    t0 = utcnow().replace(microsecond=0) - timedelta(hours=1)
    one = {k: uuid.uuid4() for k in ("met", "paused", "resumed", "breached", "late")}
    many = {k: uuid.uuid4() for k in one}

    async def start(kinds: list[str], at: datetime) -> None:
        async with db.transaction() as session:
            for k in kinds:
                await sla.start(session, subject(one[k]), METRICS, at=at)
            assert await sla.start_many(session, [subject(many[k]) for k in kinds],
                                        METRICS, at=at) == 2 * len(kinds)

    await start(["breached"], t0 - timedelta(minutes=10))
    async with db.transaction() as session:  # the scan sees it breached (and says so)
        await sla.scan(session, now=t0 - timedelta(minutes=4))
    await start(["late"], t0 - timedelta(minutes=9))  # due before the stop; never scanned
    await start(["met", "paused", "resumed"], t0)
    async with db.transaction() as session:
        for ids in (one, many):
            for k in ("paused", "resumed"):
                await sla.set_paused(session, ids[k], True, at=t0 + timedelta(minutes=1))
            await sla.set_paused(session, ids["resumed"], False, at=t0 + timedelta(minutes=2))

    stop_at = t0 + timedelta(minutes=3)
    async with db.transaction() as session:
        for k in one:
            await sla.stop(session, one[k], METRICS, at=stop_at)
        assert await sla.stop_many(session, list(many.values()), METRICS, at=stop_at) == 10

    for k in one:
        assert await clocks(db, many[k]) == await clocks(db, one[k]), k
        assert owed(emitted, many[k]) == owed(emitted, one[k]), k
    states = {k: {c[0]: c[6] for c in await clocks(db, many[k])} for k in many}
    assert states["met"] == {"first_response": "met", "next_response": "met"}
    assert states["paused"] == states["resumed"] == states["met"]
    resumed = {c[0]: c for c in await clocks(db, many["resumed"])}
    assert resumed["first_response"][7] == t0 + timedelta(minutes=6)  # due a pause later
    assert states["breached"]["first_response"] == "breached"
    assert states["late"]["first_response"] == "breached"
    # the scan said "breached" for the first; the stop says it for the late one, once
    assert ("sla.breached", "first_response", "breached") in owed(emitted, many["late"])
    assert owed(emitted, many["breached"]).count(
        ("sla.breached", "first_response", "breached")) == 1
    assert owed(emitted, many["met"]) == []


async def test_clocks_at_risk_from_the_start_are_announced_each(
        db: Database, emitted: list[tuple[str, str, str, str]]) -> None:
    await add_policy(db, at_risk_fraction=1.0)
    at = utcnow()
    one, many = [uuid.uuid4() for _ in range(3)], [uuid.uuid4() for _ in range(3)]
    async with db.transaction() as session:
        for sid in one:
            await sla.start(session, subject(sid), METRICS, at=at)
        await sla.start_many(session, [subject(sid) for sid in many], METRICS, at=at)
    for a, b in zip(one, many, strict=True):
        assert await clocks(db, b) == await clocks(db, a)
        assert owed(emitted, b) == owed(emitted, a) == [
            ("sla.at_risk", "first_response", "at_risk"),
            ("sla.at_risk", "next_response", "at_risk")]
