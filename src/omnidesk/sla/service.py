"""SLA policies applied to cases and conversations: clocks start, pause, resume and stop
with what happens to them; ``scan`` moves them to at-risk and breached on time."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Executable, Select, Table, Uuid, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.kit.db import json_rows, one_of
from omnidesk.kit.ids import new_id
from omnidesk.kit.outbox import emit, interested
from omnidesk.kit.time import ensure_utc, utcnow
from omnidesk.models import SlaCalendar, SlaPolicy, SlaTarget
from omnidesk.sla.calendar import BusinessCalendar
from omnidesk.sla.clock import (
    Pause,
    SlaClock,
    SlaState,
    SlaStatus,
    counting_segments,
    deadline,
)

STAGE_PREFIX = "stage:"
_calendars: dict[tuple[uuid.UUID | None, str], BusinessCalendar] = {}


@dataclass(frozen=True)
class Subject:
    kind: str  # case | conversation
    id: uuid.UUID
    tier: str | None
    priority: str | None
    case_type: str | None
    channel: str | None


@dataclass(frozen=True, eq=False)  # eq=False: hashed by identity, a dict key per batch
class Policy:
    """An active policy as the clocks read it (one statement, no ORM instances)."""

    id: uuid.UUID
    name: str
    conditions: dict[str, Any]
    targets: dict[str, Any]
    calendar_id: uuid.UUID | None
    at_risk_fraction: float


def _matches(policy: Policy, s: Subject) -> bool:
    c = policy.conditions or {}
    checks = (("applies_to", s.kind), ("tiers", s.tier), ("priorities", s.priority),
              ("case_types", s.case_type), ("channels", s.channel))
    return all(not c.get(key) or value in c[key] for key, value in checks)


_ACTIVE_POLICIES = (select(SlaPolicy.id, SlaPolicy.name, SlaPolicy.conditions,
                           SlaPolicy.targets, SlaPolicy.calendar_id,
                           SlaPolicy.at_risk_fraction, SlaCalendar.definition)
                    .outerjoin(SlaCalendar, SlaCalendar.id == SlaPolicy.calendar_id)
                    .where(SlaPolicy.active.is_(True))
                    .order_by(SlaPolicy.position, SlaPolicy.name))


async def _policies(session: AsyncSession) -> list[tuple[Policy, dict[str, Any] | None]]:
    """The active policies in order, with their calendars' definitions (read once per
    transaction)."""
    cached = session.info.get("sla.policies")
    if cached is None:
        rows = await (await session.connection()).execute(_ACTIVE_POLICIES)
        cached = [(Policy(id=r.id, name=r.name, conditions=r.conditions, targets=r.targets,
                          calendar_id=r.calendar_id, at_risk_fraction=r.at_risk_fraction),
                   r.definition) for r in rows]
        session.info["sla.policies"] = cached
    return list(cached)


def calendar_for(calendar_id: uuid.UUID | None, definition: dict[str, Any] | None
                 ) -> BusinessCalendar:
    """Calendars are built once per definition (they cache their working spans)."""
    key = (calendar_id, repr(sorted((definition or {}).items())))
    cal = _calendars.get(key)
    if cal is None:
        cal = BusinessCalendar.from_dict(definition) if definition else BusinessCalendar.always()
        _calendars[key] = cal
    return cal


def clock_of(row: Any, calendar: BusinessCalendar, fraction: float) -> SlaClock:
    pauses = [Pause(ensure_utc(datetime.fromisoformat(p)),
                    ensure_utc(datetime.fromisoformat(r)) if r else None)
              for p, r in (row.pauses or [])]
    return SlaClock(calendar, timedelta(seconds=row.target_seconds),
                    ensure_utc(row.started_at), tuple(pauses),
                    ensure_utc(row.stopped_at) if row.stopped_at else None,
                    at_risk_fraction=fraction)


def apply_status(row: Any, status: SlaStatus) -> list[str]:
    """Store the computed state; return the notifications now owed (at_risk, breached)."""
    row.state = status.state.value
    row.due_at, row.at_risk_at = status.due_at, status.at_risk_at
    row.breached_at = status.breached_at
    row.next_check_at = status.next_change_at
    owed = []
    notified = dict(row.notified or {})
    # One event per change: a clock first seen breached raises "breached" only.
    if status.state in (SlaState.AT_RISK, SlaState.BREACHED):
        state = status.state.value
        if not notified.get(state):
            notified[state] = status.now.isoformat()
            owed.append(state)
    row.notified = notified
    return owed


def _status_into(row: Any, policy: Policy, definition: dict[str, Any] | None,
                 now: datetime) -> list[str]:
    """Compute the clock's state at ``now`` into ``row``; return the notifications owed."""
    cal = calendar_for(policy.calendar_id, definition)
    status = clock_of(row, cal, policy.at_risk_fraction).status(max(now, ensure_utc(
        row.started_at)))
    return apply_status(row, status)


async def _refresh(session: AsyncSession, rows: list[Any], now: datetime) -> None:
    """Compute each clock's state at ``now`` into the row (an ORM target or a namespace
    of its columns) and emit the notifications that are owed."""
    policies = {p.id: (p, d) for p, d in await _policies(session)}
    for row in rows:
        policy, definition = policies.get(row.policy_id, (None, None))
        if policy is None:
            continue
        for kind in _status_into(row, policy, definition, now):
            await emit(session, f"sla.{kind}", target_json(row))


def target_json(t: Any) -> dict[str, Any]:
    def iso(v: datetime | None) -> str | None:
        return v.isoformat() if v else None

    return {"id": str(t.id), "subject_kind": t.subject_kind, "subject_id": str(t.subject_id),
            "metric": t.metric, "state": t.state, "target_minutes": t.target_seconds // 60,
            "started_at": iso(t.started_at), "due_at": iso(t.due_at),
            "at_risk_at": iso(t.at_risk_at), "breached_at": iso(t.breached_at),
            "stopped_at": iso(t.stopped_at), "paused": any(r is None for _, r in t.pauses)}


async def start(session: AsyncSession, subject: Subject, metrics: list[str],
                at: datetime | None = None) -> list[SlaTarget]:
    """Start the clocks the first matching policy defines for these metrics."""
    policy = next((p for p, _ in await _policies(session) if _matches(p, subject)), None)
    if policy is None:
        return []
    at = at or utcnow()
    rows = []
    for metric in metrics:
        minutes = _target_minutes(policy, metric)
        if minutes is None:
            continue
        rows.append(SlaTarget(subject_kind=subject.kind, subject_id=subject.id, metric=metric,
                              policy_id=policy.id, target_seconds=int(minutes * 60),
                              started_at=at, pauses=[], notified={}))
    session.add_all(rows)
    await _refresh(session, rows, at)
    return rows


# start_many / stop_many serve the chat group commit: a batch starts and stops hundreds
# of clocks, so they are written set-based, a statement for many clocks (no ORM entities:
# loading, tracking and flushing those cost as much as the rest of the batch together).
# They go past the session's identity map: its caller holds no SlaTarget entities of its
# own.
_targets = cast(Table, SlaTarget.__table__)
_STATE_COLUMNS = ("state", "due_at", "at_risk_at", "breached_at", "next_check_at", "notified")
_STOP = (update(_targets).where(_targets.c.id == bindparam("b_id"))
         .values({c: bindparam(c) for c in ("stopped_at", "pauses", "updated_at",
                                            *_STATE_COLUMNS)}))
# A started clock's own columns; the rest is the same for every clock of a policy and
# metric started at the same instant (its state, due and at-risk times included).
_START_ROWS = (("id", Uuid()), ("subject_id", Uuid()))
_START_SHARED = ("subject_kind", "metric", "policy_id", "target_seconds", "started_at",
                 "pauses", "stopped_at", *_STATE_COLUMNS, "updated_at")


@cache
def _start_group(dialect: str) -> Executable:
    v = json_rows(dialect, "rows", _START_ROWS)
    return insert(_targets).from_select(
        [n for n, _ in _START_ROWS] + list(_START_SHARED),
        select(v.c.id, v.c.subject_id,
               *(bindparam(c, type_=_targets.c[c].type) for c in _START_SHARED)))


async def start_many(session: AsyncSession, subjects: list[Subject], metrics: list[str],
                     at: datetime | None = None) -> int:
    """:func:`start` for many subjects at once; returns how many clocks started.

    The clocks of one policy and metric started at one instant are alike but for their
    subject: their state is computed once and they are inserted in one statement."""
    policies = await _policies(session)
    definitions = dict(policies)
    at = at or utcnow()
    groups: dict[tuple[Policy, str, str], list[uuid.UUID]] = {}
    for subject in subjects:
        policy = next((p for p, _ in policies if _matches(p, subject)), None)
        if policy is not None:
            for metric in metrics:
                if _target_minutes(policy, metric) is not None:
                    groups.setdefault((policy, metric, subject.kind), []).append(subject.id)
    conn = await session.connection()
    for (policy, metric, kind), ids in groups.items():
        minutes = _target_minutes(policy, metric)
        assert minutes is not None
        rows = [SimpleNamespace(
            id=new_id(), subject_kind=kind, subject_id=i, metric=metric, policy_id=policy.id,
            target_seconds=int(minutes * 60), started_at=at, pauses=[], stopped_at=None,
            state="on_track", due_at=None, at_risk_at=None, breached_at=None,
            next_check_at=None, notified={}, updated_at=at) for i in ids]
        shared = SimpleNamespace(**vars(rows[0]))
        if _status_into(shared, policy, definitions[policy], at):
            # notifications owed from the start (a policy at risk at once): per clock
            await _refresh(session, rows, at)
            await conn.execute(insert(_targets), [vars(r) for r in rows])
            continue
        await conn.execute(_start_group(conn.dialect.name), {
            "rows": [{"id": r.id.hex, "subject_id": r.subject_id.hex} for r in rows],
            **{c: getattr(shared, c) for c in _START_SHARED}})
    return sum(len(ids) for ids in groups.values())


@cache
def _running_of(dialect: str) -> Select[Any]:
    return select(*_targets.c).where(
        one_of(dialect, _targets.c.subject_id, "ids"), _targets.c.stopped_at.is_(None),
        one_of(dialect, _targets.c.metric, "metrics"))


@cache
def _stop_met(dialect: str) -> Executable:
    """Stop the clocks met in time: running, their due time known (an open pause leaves
    it unknown) and not passed. Such a clock is ``met``, its due and at-risk times those
    stored when it started or last resumed; nothing is owed."""
    t = _targets.c
    now = bindparam("now", type_=t.stopped_at.type)
    return (update(_targets).where(
        one_of(dialect, t.subject_id, "ids"), one_of(dialect, t.metric, "metrics"),
        one_of(dialect, t.policy_id, "policies"), t.stopped_at.is_(None),
        t.started_at <= now, t.due_at >= now, t.at_risk_at.is_not(None))
        .values(stopped_at=now, updated_at=now, state=SlaState.MET.value, breached_at=None,
                next_check_at=None))


async def stop_many(session: AsyncSession, subject_ids: list[uuid.UUID], metrics: list[str],
                    at: datetime | None = None) -> int:
    """:func:`stop` for many subjects at once; returns how many clocks stopped.

    The clocks met in time (nearly all: a chat answered within its target) are stopped
    by one statement; the rest (late, paused) as :func:`stop` does."""
    at = at or utcnow()
    conn = await session.connection()
    policies = [p.id for p, _ in await _policies(session)]
    met = 0
    if policies:
        met = (await conn.execute(_stop_met(conn.dialect.name), {
            "ids": subject_ids, "metrics": metrics, "policies": policies, "now": at})).rowcount
    rows = [SimpleNamespace(**r._mapping) for r in await conn.execute(
        _running_of(conn.dialect.name), {"ids": subject_ids, "metrics": metrics})]
    for row in rows:
        row.stopped_at = at
        row.pauses = [[p, r or at.isoformat()] for p, r in row.pauses]
    if rows:
        await _refresh(session, rows, at)
        await conn.execute(_STOP, [
            {"b_id": r.id, "stopped_at": at, "pauses": r.pauses, "updated_at": at,
             **{c: getattr(r, c) for c in _STATE_COLUMNS}} for r in rows])
    return met + len(rows)


def _target_minutes(policy: Policy, metric: str) -> float | None:
    targets = policy.targets or {}
    if metric.startswith(STAGE_PREFIX):
        value = (targets.get("stages") or {}).get(metric[len(STAGE_PREFIX):])
    else:
        value = targets.get(metric)
    return float(value) if value is not None else None


async def running(session: AsyncSession, subject_id: uuid.UUID,
                  metrics: list[str] | None = None) -> list[SlaTarget]:
    stmt = select(SlaTarget).where(SlaTarget.subject_id == subject_id,
                                   SlaTarget.stopped_at.is_(None))
    if metrics:
        stmt = stmt.where(SlaTarget.metric.in_(metrics))
    return list(await session.scalars(stmt))


async def stop(session: AsyncSession, subject_id: uuid.UUID, metrics: list[str],
               at: datetime | None = None) -> list[SlaTarget]:
    at = at or utcnow()
    rows = await running(session, subject_id, metrics)
    for row in rows:
        row.stopped_at = at
        row.pauses = [[p, r or at.isoformat()] for p, r in row.pauses]
    await _refresh(session, rows, at)
    return rows


async def restart(session: AsyncSession, subject_id: uuid.UUID, metrics: list[str]) -> None:
    """Un-stop (a reopened case's resolution clock keeps counting from its start)."""
    rows = list(await session.scalars(select(SlaTarget).where(
        SlaTarget.subject_id == subject_id, SlaTarget.metric.in_(metrics))))
    for row in rows:
        row.stopped_at = None
    await _refresh(session, rows, utcnow())


async def set_paused(session: AsyncSession, subject_id: uuid.UUID, paused: bool,
                     at: datetime | None = None) -> None:
    """Waiting on the customer pauses the running clocks; an answer resumes them."""
    at = at or utcnow()
    rows = await running(session, subject_id)
    for row in rows:
        pauses = [list(p) for p in row.pauses]
        is_open = bool(pauses) and pauses[-1][1] is None
        if paused and not is_open:
            pauses.append([at.isoformat(), None])
        elif not paused and is_open:
            pauses[-1][1] = at.isoformat()
        row.pauses = pauses
    await _refresh(session, rows, at)


@dataclass(frozen=True)
class Breach:
    subject_kind: str
    subject_id: uuid.UUID
    metric: str


_SCAN_COLUMNS = (SlaTarget.id, SlaTarget.subject_kind, SlaTarget.subject_id, SlaTarget.metric,
                 SlaTarget.policy_id, SlaTarget.target_seconds, SlaTarget.started_at,
                 SlaTarget.pauses, SlaTarget.state, SlaTarget.due_at, SlaTarget.at_risk_at)
_TABLE = SlaTarget.__table__
_SCAN_UPDATE = (
    update(_TABLE).where(_TABLE.c.id == bindparam("_id"))  # type: ignore[arg-type]
    .values(state=bindparam("_state"), due_at=bindparam("_due_at"),
            at_risk_at=bindparam("_at_risk_at"), breached_at=bindparam("_breached_at"),
            next_check_at=bindparam("_next_check_at"))
)


def running_deadlines(row: Any, policy: Policy, cal: BusinessCalendar
                      ) -> tuple[datetime, datetime]:
    """Due and at-risk instants of a running, unpaused clock: they do not depend on when
    one looks, so they are computed once (at start, or here if unknown) and kept."""
    if row.due_at is not None and row.at_risk_at is not None:
        return row.due_at, row.at_risk_at
    target = timedelta(seconds=row.target_seconds)
    threshold = target * policy.at_risk_fraction
    if not row.pauses:  # most clocks: straight from the start
        due = cal.add_business_time(row.started_at, target)
        return due, (row.started_at if threshold >= target
                     else cal.add_business_time(row.started_at, target - threshold))
    clock = clock_of(_WithStop(row), cal, policy.at_risk_fraction)
    segments = counting_segments(clock.started_at, clock.pauses)
    due_at = deadline(cal, segments, clock.target)
    threshold = clock.at_risk_threshold
    at_risk_at = (clock.started_at if threshold >= clock.target
                  else deadline(cal, segments, clock.target - threshold))
    assert due_at is not None and at_risk_at is not None  # no open pause: last window open
    return due_at, at_risk_at


class _WithStop:
    """A scanned row (never stopped) seen as a clock's row."""

    def __init__(self, row: Any) -> None:
        self._row = row
        self.stopped_at = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)


def state_at(now: datetime, due: datetime, at_risk: datetime) -> tuple[str, datetime | None]:
    """State of a running, unpaused clock and when it changes next (same rules as
    :func:`omnidesk.sla.clock.evaluate`: breached at exactly the due instant)."""
    if now >= due:
        return SlaState.BREACHED.value, None
    if now >= at_risk:
        return SlaState.AT_RISK.value, due
    return SlaState.ON_TRACK.value, at_risk


async def scan(session: AsyncSession, now: datetime | None = None,
               batch: int = 5000) -> tuple[int, list[Breach]]:
    """Re-evaluate every clock whose state may have changed by ``now`` (read and written
    in bulk; due times computed once per clock); return how many were looked at and
    those that breached now (for escalation)."""
    now = now or utcnow()
    rows = (await session.execute(
        select(*_SCAN_COLUMNS).where(SlaTarget.stopped_at.is_(None),
                                     SlaTarget.next_check_at <= now)
        .order_by(SlaTarget.next_check_at).limit(batch)
        .with_for_update(skip_locked=True))).all()
    policies = {p.id: (p, calendar_for(p.calendar_id, d)) for p, d in await _policies(session)}
    params, breached = [], []
    wanted = {state: await interested(session, f"sla.{state}", {})
              for state in ("at_risk", "breached")}
    for row in rows:
        policy, cal = policies.get(row.policy_id, (None, None))
        if policy is None or cal is None:
            continue
        if any(r is None for _, r in row.pauses or []):
            continue  # paused clocks are re-evaluated when they resume
        due, at_risk = running_deadlines(row, policy, cal)
        state, next_check = state_at(now, due, at_risk)
        if state != row.state and state in ("at_risk", "breached") and wanted[state]:
            await emit(session, f"sla.{state}", {
                "id": str(row.id), "subject_kind": row.subject_kind,
                "subject_id": str(row.subject_id), "metric": row.metric, "state": state,
                "due_at": due.isoformat()})
        if state == "breached" and row.state != "breached":
            breached.append(Breach(row.subject_kind, row.subject_id, row.metric))
        params.append({"_id": row.id, "_state": state, "_due_at": due, "_at_risk_at": at_risk,
                       "_breached_at": due if state == "breached" else None,
                       "_next_check_at": next_check})
    if params:
        await session.execute(_SCAN_UPDATE, params)
    return len(rows), breached


async def targets_of(session: AsyncSession, subject_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await session.scalars(select(SlaTarget).where(
        SlaTarget.subject_id == subject_id).order_by(SlaTarget.started_at, SlaTarget.metric))
    return [target_json(r) for r in rows]

