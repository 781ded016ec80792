"""Business-hours calendars: when a contact centre works, computed exactly.

A :class:`BusinessCalendar` is a weekly schedule in an IANA time zone, with holidays and
make-up working days (调休) overriding it. Working time is a set of half-open UTC spans
``[opening, closing)``; every operation takes timezone-aware datetimes and answers in UTC.
The maths, conventions and examples are in ``docs/sla.md``.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_SECONDS = 86_400
_CLOCK = re.compile(r"(\d{2}):(\d{2})(?::(\d{2}))?")
_ONE_DAY = timedelta(days=1)
_WEEK = timedelta(days=7)
_ZERO = timedelta(0)
_CACHE_LIMIT = 4096
_CALENDAR_KEYS = frozenset({"timezone", "weekly", "holidays", "workdays"})

Span = tuple[datetime, datetime]


def require_aware(value: datetime, name: str) -> datetime:
    """Return ``value`` converted to UTC; naive datetimes are rejected."""
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def require_duration(value: timedelta, name: str) -> timedelta:
    """Return ``value`` if it is a non-negative timedelta."""
    if not isinstance(value, timedelta):
        raise ValueError(f"{name} must be a timedelta, got {type(value).__name__}")
    if value < _ZERO:
        raise ValueError(f"{name} must not be negative, got {value}")
    return value


def parse_clock(text: Any) -> int:
    """Parse ``"HH:MM"`` or ``"HH:MM:SS"`` (``"24:00"`` allowed) into seconds after midnight."""
    match = _CLOCK.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"time {text!r} is not HH:MM or HH:MM:SS")
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    if minutes > 59 or seconds > 59 or hours > 24 or (hours == 24 and (minutes or seconds)):
        raise ValueError(f"time {text!r} is out of range 00:00–24:00")
    return hours * 3600 + minutes * 60 + seconds


def format_clock(seconds: int) -> str:
    """Format seconds after midnight as ``"HH:MM"`` (or ``"HH:MM:SS"`` when needed)."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def _parse_date(value: Any, where: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError(f"{where}: date {value!r} is not YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not a valid date") from None


@dataclass(frozen=True, order=True)
class WorkInterval:
    """Local working hours within one day: ``[start, end)`` in seconds after midnight."""

    start: int
    end: int

    def __post_init__(self) -> None:
        for value in (self.start, self.end):
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"interval bounds must be int seconds, got {value!r}")
        if not 0 <= self.start < DAY_SECONDS:
            raise ValueError(f"interval start {self.start}s is outside 00:00–24:00")
        if not self.start < self.end <= DAY_SECONDS:
            raise ValueError(
                f"interval end {format_clock(self.end)} is not after start "
                f"{format_clock(self.start)} (or beyond 24:00)"
            )

    @classmethod
    def parse(cls, value: Any) -> WorkInterval:
        """Build from ``["09:00", "18:00"]``."""
        if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
            raise ValueError(f"interval {value!r} is not a [start, end] pair")
        return cls(parse_clock(value[0]), parse_clock(value[1]))

    @property
    def duration(self) -> timedelta:
        return timedelta(seconds=self.end - self.start)

    def to_list(self) -> list[str]:
        return [format_clock(self.start), format_clock(self.end)]

    def __str__(self) -> str:
        return f"{format_clock(self.start)}–{format_clock(self.end)}"


def hours_of(pairs: Iterable[Any]) -> tuple[WorkInterval, ...]:
    """``[("09:00", "12:00"), ("13:30", "18:00")]`` → sorted intervals (no overlap check)."""
    return tuple(sorted(WorkInterval.parse(pair) for pair in pairs))


def _check_day(intervals: Iterable[WorkInterval], where: str) -> tuple[WorkInterval, ...]:
    items = tuple(intervals)
    for item in items:
        if not isinstance(item, WorkInterval):
            raise ValueError(f"{where}: {item!r} is not a WorkInterval")
    ordered = tuple(sorted(items))
    for before, after in pairwise(ordered):
        if after.start < before.end:
            raise ValueError(f"{where}: intervals {before} and {after} overlap")
    return ordered


def _check_entry(day: Any, name: Any, kind: str) -> None:
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValueError(f"{kind}: {day!r} is not a date")
    if not isinstance(name, str):
        raise ValueError(f"{kind} {day}: name must be a string")


@dataclass(frozen=True)
class Holiday:
    """A date with no work at all, whatever the weekly schedule says."""

    day: date
    name: str = ""

    def __post_init__(self) -> None:
        _check_entry(self.day, self.name, "holiday")


@dataclass(frozen=True)
class MakeupDay:
    """A date worked with ``hours`` (or the default weekday hours when ``None``).

    Used for make-up working days (调休: a Saturday or Sunday worked) and for any date with
    special hours (a half day before a festival).
    """

    day: date
    hours: tuple[WorkInterval, ...] | None = None
    name: str = ""

    def __post_init__(self) -> None:
        _check_entry(self.day, self.name, "workday")
        if self.hours is not None:
            hours = _check_day(self.hours, f"workday {self.day}")
            if not hours:
                raise ValueError(f"workday {self.day}: hours must not be empty")
            object.__setattr__(self, "hours", hours)


@dataclass(frozen=True)
class BusinessCalendar:
    """A weekly schedule in an IANA zone, with holidays and make-up working days.

    ``weekly`` holds seven tuples of :class:`WorkInterval`, Monday first. A make-up day
    without hours uses the default weekday hours: the first non-empty schedule of
    Monday…Friday.
    """

    timezone: str
    weekly: tuple[tuple[WorkInterval, ...], ...]
    holidays: tuple[Holiday, ...] = ()
    workdays: tuple[MakeupDay, ...] = ()
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _overrides: dict[date, tuple[WorkInterval, ...]] = field(init=False, repr=False, compare=False)
    _override_dates: list[date] = field(init=False, repr=False, compare=False)
    _week_total: timedelta = field(init=False, repr=False, compare=False)
    _always: bool = field(init=False, repr=False, compare=False)
    _cache: dict[date, tuple[Span, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._set("_zone", _load_zone(self.timezone))
        if len(self.weekly) != 7:
            raise ValueError(f"weekly schedule needs 7 days, got {len(self.weekly)}")
        weekly = tuple(
            _check_day(day, f"weekly.{name}")
            for name, day in zip(WEEKDAYS, self.weekly, strict=True)
        )
        if not any(weekly):
            raise ValueError("the weekly schedule has no working hours")
        self._set("weekly", weekly)
        self._set("holidays", tuple(sorted(self.holidays, key=_by_day)))
        self._set("workdays", tuple(sorted(self.workdays, key=_by_day)))
        self._set("_overrides", self._build_overrides())
        self._set("_override_dates", sorted(self._overrides))
        total = sum((iv.duration for day in weekly for iv in day), _ZERO)
        self._set("_week_total", total)
        full = (WorkInterval(0, DAY_SECONDS),)
        days = (*weekly, *self._overrides.values())
        self._set("_always", all(day == full for day in days))
        self._set("_cache", {})

    def _set(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)

    def _build_overrides(self) -> dict[date, tuple[WorkInterval, ...]]:
        overrides: dict[date, tuple[WorkInterval, ...]] = {}
        for holiday in self.holidays:
            if not isinstance(holiday, Holiday):
                raise ValueError(f"holidays: {holiday!r} is not a Holiday")
            if holiday.day in overrides:
                raise ValueError(f"holidays: {holiday.day} is listed twice")
            overrides[holiday.day] = ()
        default = next((day for day in self.weekly[:5] if day), ())
        for extra in self.workdays:
            if not isinstance(extra, MakeupDay):
                raise ValueError(f"workdays: {extra!r} is not a MakeupDay")
            where = f"workdays {extra.day}"
            if extra.day in overrides:
                kind = "a holiday" if overrides[extra.day] == () else "listed twice"
                raise ValueError(f"{where}: the date is {kind}")
            hours = default if extra.hours is None else extra.hours
            if not hours:
                raise ValueError(f"{where}: no hours given and no default weekday hours")
            overrides[extra.day] = hours
        return overrides

    # -- construction -------------------------------------------------------------------

    @classmethod
    def always(cls, timezone: str = "UTC") -> BusinessCalendar:
        """The 7×24 calendar: every instant is working time."""
        return cls(timezone, tuple((WorkInterval(0, DAY_SECONDS),) for _ in WEEKDAYS))

    @classmethod
    def weekdays(
        cls,
        timezone: str,
        hours: Iterable[Any],
        holidays: Iterable[date] = (),
        workdays: Iterable[date] = (),
    ) -> BusinessCalendar:
        """Monday–Friday ``hours`` (``[("09:00", "18:00")]``), plus holidays/make-up days."""
        day = hours_of(hours)
        return cls(
            timezone,
            (day,) * 5 + ((), ()),
            tuple(Holiday(d) for d in holidays),
            tuple(MakeupDay(d) for d in workdays),
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BusinessCalendar:
        """Build from the JSON form (see ``docs/sla.md``); raises ValueError on bad input."""
        if not isinstance(data, Mapping):
            raise ValueError("calendar must be an object")
        unknown = sorted(set(data) - _CALENDAR_KEYS)
        if unknown:
            raise ValueError(f"calendar: unknown keys {unknown}")
        if "timezone" not in data:
            raise ValueError("calendar: 'timezone' is required")
        return cls(
            data["timezone"],
            _parse_weekly(data.get("weekly", {})),
            _parse_holidays(data.get("holidays", [])),
            _parse_workdays(data.get("workdays", [])),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form; ``from_dict(c.to_dict()) == c``."""
        holidays: list[Any] = [
            {"date": h.day.isoformat(), "name": h.name} if h.name else h.day.isoformat()
            for h in self.holidays
        ]
        return {
            "timezone": self.timezone,
            "weekly": {
                name: [iv.to_list() for iv in day]
                for name, day in zip(WEEKDAYS, self.weekly, strict=True)
                if day
            },
            "holidays": holidays,
            "workdays": [_makeup_to_json(extra) for extra in self.workdays],
        }

    # -- queries ------------------------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    @property
    def is_always(self) -> bool:
        """True for a 7×24 calendar (every instant is working time)."""
        return self._always

    def hours_on(self, day: date) -> tuple[WorkInterval, ...]:
        """The local working hours of ``day`` after holidays and make-up days."""
        found = self._overrides.get(day)
        return self.weekly[day.weekday()] if found is None else found

    def spans_on(self, day: date) -> tuple[Span, ...]:
        """The working spans of local date ``day`` as UTC ``(opening, closing)`` pairs."""
        spans = self._cache.get(day)
        if spans is None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            spans = tuple(self._convert(day, iv) for iv in self.hours_on(day))
            spans = tuple((s, e) for s, e in spans if s < e)
            self._cache[day] = spans
        return spans

    def is_working(self, at: datetime) -> bool:
        """True when ``at`` lies inside working time (openings inclusive, closings not)."""
        t = require_aware(at, "at")
        if self._always:
            return True
        day = self._local_date(t)
        return any(s <= t < e for d in (day - _ONE_DAY, day) for s, e in self.spans_on(d))

    def next_opening(self, at: datetime) -> datetime:
        """``at`` (in UTC) if it is working time, else the next opening after it."""
        t = require_aware(at, "at")
        if self._always:
            return t
        return next(self._spans_from(t))[0]

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which ``duration`` of working time has passed since ``start``.

        Counting starts at ``next_opening(start)``; a zero duration gives that opening. A
        duration that ends exactly at a closing gives the closing, not the next opening.
        """
        t = require_aware(start, "start")
        remaining = require_duration(duration, "duration")
        try:
            if self._always:
                return t + remaining
            return self._add(t, remaining)
        except OverflowError:
            raise ValueError(f"{start.isoformat()} + {duration} is out of range") from None

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time in ``[a, b)``; negative when ``b`` is before ``a``."""
        t0, t1 = require_aware(a, "a"), require_aware(b, "b")
        if t1 < t0:
            return -self.business_time_between(t1, t0)
        if self._always:
            return t1 - t0
        total = _ZERO
        day, first_full = self._local_date(t0) - _ONE_DAY, self._local_date(t0) + _ONE_DAY
        last = self._local_date(t1)
        while day <= last + _ONE_DAY:
            if first_full <= day and day + _WEEK < last and self._plain_week(day):
                total += self._week_total
                day += _WEEK
                continue
            for s, e in self.spans_on(day):
                lo, hi = max(s, t0), min(e, t1)
                if lo < hi:
                    total += hi - lo
            day += _ONE_DAY
        return total

    # -- internals ----------------------------------------------------------------------

    def _add(self, t: datetime, remaining: timedelta) -> datetime:
        day, first_full = self._local_date(t) - _ONE_DAY, self._local_date(t) + _ONE_DAY
        while True:
            # Strictly more than a week left: a full plain week can be skipped without
            # landing the result on the week's last closing.
            if first_full <= day and remaining > self._week_total and self._plain_week(day):
                remaining -= self._week_total
                day += _WEEK
                continue
            for s, e in self.spans_on(day):
                if e <= t:
                    continue
                s = max(s, t)
                if remaining <= e - s:
                    return s + remaining
                remaining -= e - s
            day += _ONE_DAY

    def _spans_from(self, t: datetime) -> Iterator[Span]:
        day = self._local_date(t) - _ONE_DAY
        while True:
            for s, e in self.spans_on(day):
                if e > t:
                    yield max(s, t), e
            day += _ONE_DAY

    def _plain_week(self, day: date) -> bool:
        """No holiday/make-up day and no UTC-offset change in the 7 days from ``day``."""
        i = bisect_left(self._override_dates, day)
        if i < len(self._override_dates) and self._override_dates[i] < day + _WEEK:
            return False
        offset = self._midnight(day).utcoffset()
        return all(self._midnight(day + k * _ONE_DAY).utcoffset() == offset for k in range(1, 8))

    def _midnight(self, day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=self._zone)

    def _local_date(self, t: datetime) -> date:
        return t.astimezone(self._zone).date()

    def _convert(self, day: date, interval: WorkInterval) -> Span:
        return self._wall_to_utc(day, interval.start), self._wall_to_utc(day, interval.end)

    def _wall_to_utc(self, day: date, seconds: int) -> datetime:
        """Local wall time → UTC: the first occurrence if repeated, the jump if skipped."""
        wall = self._midnight(day) + timedelta(seconds=seconds)
        utc = wall.astimezone(UTC)
        if utc.astimezone(self._zone).replace(tzinfo=None) == wall.replace(tzinfo=None):
            return utc
        return self._transition_within(wall)

    def _transition_within(self, wall: datetime) -> datetime:
        """The instant the clock jumps over ``wall`` (a wall time that does not exist)."""
        candidates = [wall.replace(fold=f).astimezone(UTC) for f in (0, 1)]
        lo, hi = math.floor(min(candidates).timestamp()), math.ceil(max(candidates).timestamp())
        before = self._offset_at(lo)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self._offset_at(mid) == before:
                lo = mid
            else:
                hi = mid
        return datetime.fromtimestamp(hi, UTC)

    def _offset_at(self, timestamp: int) -> timedelta | None:
        return datetime.fromtimestamp(timestamp, UTC).astimezone(self._zone).utcoffset()


def _by_day(entry: Holiday | MakeupDay) -> date:
    if not isinstance(entry, Holiday | MakeupDay):
        raise ValueError(f"{entry!r} is not a Holiday or MakeupDay")
    return entry.day


def _load_zone(name: Any) -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise ValueError(f"timezone must be an IANA zone name, got {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {name!r}") from None


def _parse_weekly(value: Any) -> tuple[tuple[WorkInterval, ...], ...]:
    if not isinstance(value, Mapping):
        raise ValueError("weekly must be an object keyed by mon…sun")
    unknown = sorted(str(key) for key in value if key not in WEEKDAYS)
    if unknown:
        raise ValueError(f"weekly: unknown days {unknown}; use {list(WEEKDAYS)}")
    return tuple(_parse_hours(value.get(name, []), f"weekly.{name}") for name in WEEKDAYS)


def _parse_hours(value: Any, where: str) -> tuple[WorkInterval, ...]:
    if not isinstance(value, list | tuple):
        raise ValueError(f"{where}: expected a list of [start, end] pairs")
    intervals = []
    for i, pair in enumerate(value):
        try:
            intervals.append(WorkInterval.parse(pair))
        except ValueError as exc:
            raise ValueError(f"{where}[{i}]: {exc}") from None
    return _check_day(intervals, where)


def _entry(item: Any, keys: frozenset[str], where: str) -> dict[str, Any]:
    entry = {"date": item} if isinstance(item, str) else item
    if not isinstance(entry, Mapping) or "date" not in entry:
        raise ValueError(f"{where}: expected a date string or an object with 'date'")
    unknown = sorted(set(entry) - keys)
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown}")
    name = entry.get("name", "")
    if not isinstance(name, str):
        raise ValueError(f"{where}: name must be a string")
    return dict(entry)


def _parse_holidays(value: Any) -> tuple[Holiday, ...]:
    if not isinstance(value, list | tuple):
        raise ValueError("holidays must be a list")
    keys = frozenset({"date", "name"})
    result = []
    for i, item in enumerate(value):
        entry = _entry(item, keys, f"holidays[{i}]")
        result.append(Holiday(_parse_date(entry["date"], f"holidays[{i}]"), entry.get("name", "")))
    return tuple(result)


def _parse_workdays(value: Any) -> tuple[MakeupDay, ...]:
    if not isinstance(value, list | tuple):
        raise ValueError("workdays must be a list")
    keys = frozenset({"date", "name", "hours"})
    result = []
    for i, item in enumerate(value):
        where = f"workdays[{i}]"
        entry = _entry(item, keys, where)
        hours = entry.get("hours")
        parsed = None if hours is None else _parse_hours(hours, f"{where}.hours")
        result.append(MakeupDay(_parse_date(entry["date"], where), parsed, entry.get("name", "")))
    return tuple(result)


def _makeup_to_json(extra: MakeupDay) -> Any:
    if extra.hours is None and not extra.name:
        return extra.day.isoformat()
    entry: dict[str, Any] = {"date": extra.day.isoformat()}
    if extra.name:
        entry["name"] = extra.name
    if extra.hours is not None:
        entry["hours"] = [iv.to_list() for iv in extra.hours]
    return entry
