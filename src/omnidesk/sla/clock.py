"""SLA clocks: one target measured in business time, with pauses, against a calendar.

A clock counts working time (per its :class:`BusinessCalendar`) from ``started_at``,
except while paused (waiting on the customer), until ``stopped_at`` (the target was met).
Its state at an instant ``now`` is computed from what was known at ``now``: a pause that
began after ``now`` is ignored and one that ended after ``now`` is still open. The maths,
conventions and examples are in ``docs/sla.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from omnidesk.sla.calendar import BusinessCalendar, require_aware, require_duration

_ZERO = timedelta(0)
DEFAULT_AT_RISK_FRACTION = 0.2

# A window of counting time [start, end); end None means open-ended.
Segment = tuple[datetime, datetime | None]


class SlaMetric(StrEnum):
    """What an SLA target measures."""

    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"
    MILESTONE = "milestone"


class SlaState(StrEnum):
    """The state of a clock at an instant."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    PAUSED = "paused"
    MET = "met"


@dataclass(frozen=True)
class Pause:
    """The clock stood still from ``paused_at`` until ``resumed_at`` (None: still paused)."""

    paused_at: datetime
    resumed_at: datetime | None = None

    def __post_init__(self) -> None:
        paused = require_aware(self.paused_at, "paused_at")
        object.__setattr__(self, "paused_at", paused)
        if self.resumed_at is not None:
            resumed = require_aware(self.resumed_at, "resumed_at")
            if resumed < paused:
                raise ValueError(
                    f"pause resumed at {resumed.isoformat()} before it was paused at "
                    f"{paused.isoformat()}"
                )
            object.__setattr__(self, "resumed_at", resumed)

    @property
    def is_open(self) -> bool:
        return self.resumed_at is None


@dataclass(frozen=True)
class SlaStatus:
    """A clock seen at ``now``. Datetimes are UTC; durations are business time."""

    state: SlaState
    now: datetime
    due_at: datetime | None
    elapsed: timedelta
    remaining: timedelta
    at_risk_at: datetime | None
    breached_at: datetime | None
    stopped_at: datetime | None

    @property
    def next_change_at(self) -> datetime | None:
        """When the state changes next without a new event (for schedulers), else None."""
        if self.state is SlaState.ON_TRACK:
            return self.at_risk_at
        if self.state is SlaState.AT_RISK:
            return self.due_at
        return None


@dataclass(frozen=True)
class SlaClock:
    """One SLA target.

    ``target`` is business time. At-risk threshold: ``at_risk_lead`` when given, else
    ``at_risk_fraction × target``. Pauses may be given as :class:`Pause` or
    ``(paused_at, resumed_at | None)`` pairs, in any order: they are clipped to
    ``started_at`` and overlapping ones are merged.
    """

    calendar: BusinessCalendar
    target: timedelta
    started_at: datetime
    pauses: tuple[Pause, ...] = ()
    stopped_at: datetime | None = None
    at_risk_fraction: float = DEFAULT_AT_RISK_FRACTION
    at_risk_lead: timedelta | None = None
    _threshold: timedelta = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.calendar, BusinessCalendar):
            raise ValueError("calendar must be a BusinessCalendar")
        require_duration(self.target, "target")
        started = require_aware(self.started_at, "started_at")
        object.__setattr__(self, "started_at", started)
        object.__setattr__(self, "pauses", normalise_pauses(self.pauses, started))
        if self.stopped_at is not None:
            stopped = require_aware(self.stopped_at, "stopped_at")
            if stopped < started:
                raise ValueError(
                    f"stopped_at {stopped.isoformat()} is before started_at {started.isoformat()}"
                )
            object.__setattr__(self, "stopped_at", stopped)
        object.__setattr__(self, "_threshold", self._compute_threshold())

    def _compute_threshold(self) -> timedelta:
        if self.at_risk_lead is not None:
            return require_duration(self.at_risk_lead, "at_risk_lead")
        fraction = self.at_risk_fraction
        if not isinstance(fraction, int | float) or isinstance(fraction, bool):
            raise ValueError(f"at_risk_fraction must be a number, got {fraction!r}")
        if not 0 <= fraction <= 1:
            raise ValueError(f"at_risk_fraction must be within 0…1, got {fraction}")
        return self.target * fraction

    @property
    def at_risk_threshold(self) -> timedelta:
        """Remaining business time at or below which the clock is at risk."""
        return self._threshold

    def status(self, now: datetime) -> SlaStatus:
        """The clock as seen at ``now``."""
        return evaluate(self, now)

    def due_at(self, now: datetime | None = None) -> datetime | None:
        """The due time given the pauses known at ``now`` (all pauses when None).

        None while an open pause holds the clock before its target is reached.
        """
        pauses = self.pauses if now is None else pauses_known_at(self.pauses, _utc(now))
        return deadline(self.calendar, counting_segments(self.started_at, pauses), self.target)


def _utc(value: datetime) -> datetime:
    return require_aware(value, "now")


def normalise_pauses(pauses: Iterable[Any], started_at: datetime) -> tuple[Pause, ...]:
    """Sorted, clipped to ``started_at``, overlapping (or touching) pauses merged."""
    items = sorted((_as_pause(p) for p in pauses), key=lambda p: p.paused_at)
    merged: list[Pause] = []
    for pause in items:
        if pause.resumed_at is not None and pause.resumed_at <= started_at:
            continue
        pause = Pause(max(pause.paused_at, started_at), pause.resumed_at)
        last = merged[-1] if merged else None
        if last is not None and (last.resumed_at is None or pause.paused_at <= last.resumed_at):
            if last.resumed_at is None or pause.resumed_at is None:
                end = None
            else:
                end = max(last.resumed_at, pause.resumed_at)
            merged[-1] = Pause(last.paused_at, end)
        else:
            merged.append(pause)
    return tuple(merged)


def _as_pause(value: Any) -> Pause:
    if isinstance(value, Pause):
        return value
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        return Pause(value[0], value[1])
    raise ValueError(f"pause {value!r} is not a Pause or a (paused_at, resumed_at) pair")


def pauses_known_at(pauses: Sequence[Pause], now: datetime) -> tuple[Pause, ...]:
    """The pauses as known at ``now``: later ones dropped, ones resumed later still open."""
    known = []
    for pause in pauses:
        if pause.paused_at > now:
            break
        if pause.resumed_at is not None and pause.resumed_at > now:
            pause = Pause(pause.paused_at, None)
        known.append(pause)
    return tuple(known)


def counting_segments(started_at: datetime, pauses: Sequence[Pause]) -> list[Segment]:
    """The windows in which the clock runs: from the start, between pauses, after them."""
    segments: list[Segment] = []
    cursor = started_at
    for pause in pauses:
        segments.append((cursor, pause.paused_at))
        if pause.resumed_at is None:
            return segments
        cursor = pause.resumed_at
    segments.append((cursor, None))
    return segments


def deadline(
    calendar: BusinessCalendar, segments: Sequence[Segment], amount: timedelta
) -> datetime | None:
    """The first instant at which ``amount`` of business time has been counted.

    A zero amount gives the first working instant of the counting windows. None when the
    windows (ending in an open pause) hold less than ``amount``.
    """
    remaining = amount
    for start, end in segments:
        if end is None:
            return calendar.add_business_time(start, remaining)
        if remaining == _ZERO:
            opening = calendar.next_opening(start)
            if opening < end:
                return opening
            continue
        span = calendar.business_time_between(start, end)
        if remaining <= span:
            return calendar.add_business_time(start, remaining)
        remaining -= span
    return None


def counted_time(
    calendar: BusinessCalendar, segments: Sequence[Segment], until: datetime
) -> timedelta:
    """Business time counted in the windows before ``until``."""
    total = _ZERO
    for start, end in segments:
        if start >= until:
            break
        stop = until if end is None else min(end, until)
        total += calendar.business_time_between(start, stop)
    return total


def evaluate(clock: SlaClock, now: datetime) -> SlaStatus:
    """The state of ``clock`` at ``now`` from what was known at ``now``."""
    now = _utc(now)
    known = pauses_known_at(clock.pauses, now)
    segments = counting_segments(clock.started_at, known)
    due = deadline(clock.calendar, segments, clock.target)
    stopped = clock.stopped_at if clock.stopped_at is not None and clock.stopped_at <= now else None
    elapsed = counted_time(clock.calendar, segments, now if stopped is None else stopped)
    remaining = clock.target - elapsed
    threshold = clock.at_risk_threshold
    if threshold >= clock.target:
        at_risk_at: datetime | None = clock.started_at
    else:
        at_risk_at = deadline(clock.calendar, segments, clock.target - threshold)
    paused = bool(known) and known[-1].is_open
    state = _classify(now, due, stopped, paused, remaining <= threshold)
    return SlaStatus(
        state=state,
        now=now,
        due_at=due,
        elapsed=elapsed,
        remaining=remaining,
        at_risk_at=at_risk_at,
        breached_at=due if state is SlaState.BREACHED else None,
        stopped_at=stopped,
    )


def _classify(
    now: datetime,
    due: datetime | None,
    stopped: datetime | None,
    paused: bool,
    within_threshold: bool,
) -> SlaState:
    if stopped is not None:
        return SlaState.MET if due is None or stopped <= due else SlaState.BREACHED
    if due is not None and now >= due:
        return SlaState.BREACHED
    if paused:
        return SlaState.PAUSED
    return SlaState.AT_RISK if within_threshold else SlaState.ON_TRACK
