"""Property-style loops with a fixed seed: laws of business time, and a brute-force oracle.

The oracle decides minute by minute from the local wall clock whether a minute is working
time; it agrees with the span arithmetic for calendars whose boundaries avoid the skipped
and repeated hours of DST changes (those are pinned down in test_sla_calendar.py).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from omnidesk.sla.calendar import BusinessCalendar

SEED = 20261001
US = timedelta(microseconds=1)
MINUTE = timedelta(minutes=1)
ZERO = timedelta(0)

SHANGHAI = BusinessCalendar.weekdays(
    "Asia/Shanghai",
    [("09:00", "12:00"), ("13:30", "18:00")],
    holidays=[date(2026, 10, d) for d in range(1, 8)] + [date(2027, 2, d) for d in range(6, 13)],
    workdays=[date(2026, 9, 27), date(2026, 10, 10), date(2027, 2, 20)],
)
BERLIN = BusinessCalendar.from_dict(
    {
        "timezone": "Europe/Berlin",
        "weekly": {d: [["08:30", "17:15"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        "holidays": ["2026-12-24", "2026-12-25", "2026-12-31", "2027-01-01"],
        "workdays": [{"date": "2026-03-28", "hours": [["10:00", "14:00"]]}],
    }
)
NEW_YORK = BusinessCalendar.from_dict(
    {
        "timezone": "America/New_York",
        "weekly": {
            **{
                d: [["00:00", "00:30"], ["07:00", "12:00"], ["18:00", "24:00"]]
                for d in ("mon", "tue", "wed", "thu", "fri")
            },
            "sat": [["10:00", "14:00"]],
        },
        "holidays": ["2026-11-26", "2026-12-25"],
    }
)
BERLIN_NIGHT_HOURS = BusinessCalendar.from_dict(
    {
        "timezone": "Europe/Berlin",
        "weekly": {
            "sat": [["22:00", "24:00"]],
            "sun": [["00:00", "02:15"], ["02:30", "02:45"], ["03:00", "05:00"]],
        },
    }
)
# Every hour of every day, but not the 7×24 fast path (a holiday far away).
FULL_DAYS_BERLIN = BusinessCalendar.from_dict(
    {
        "timezone": "Europe/Berlin",
        "weekly": {
            d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        },
        "holidays": ["2035-01-01"],
    }
)
FULL_DAYS_NEW_YORK = BusinessCalendar.from_dict(
    {
        "timezone": "America/New_York",
        "weekly": {
            d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        },
        "holidays": ["2035-01-01"],
    }
)
ORACLE_CALENDARS = {"shanghai": SHANGHAI, "berlin": BERLIN, "new_york": NEW_YORK}
ALL_CALENDARS = {
    **ORACLE_CALENDARS,
    "berlin_night": BERLIN_NIGHT_HOURS,
    "always_berlin": BusinessCalendar.always("Europe/Berlin"),
}
FULL_DAY_CALENDARS = {"berlin": FULL_DAYS_BERLIN, "new_york": FULL_DAYS_NEW_YORK}
# DST changes and holiday periods that random ranges should often hit.
HOT_SPOTS = [
    datetime(2026, 3, 8, 7, tzinfo=UTC),
    datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 10, 1, tzinfo=UTC),
    datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2026, 11, 1, 6, tzinfo=UTC),
    datetime(2026, 12, 24, tzinfo=UTC),
    datetime(2027, 2, 10, tzinfo=UTC),
    datetime(2027, 3, 28, 1, tzinfo=UTC),
]
ORIGIN = datetime(2026, 1, 1, tzinfo=UTC)


def random_instant(rng: random.Random, *, minute: bool = False) -> datetime:
    if rng.random() < 0.5:
        base = rng.choice(HOT_SPOTS) + timedelta(hours=rng.uniform(-120, 120))
    else:
        base = ORIGIN + timedelta(days=rng.uniform(0, 730))
    if minute:
        return base.replace(second=0, microsecond=0)
    return base


def random_duration(rng: random.Random) -> timedelta:
    pick = rng.random()
    if pick < 0.1:
        return ZERO
    if pick < 0.4:
        return timedelta(minutes=15 * rng.randint(1, 400))
    return timedelta(microseconds=rng.randint(1, 600 * 3600 * 10**6))


def wall_working(cal: BusinessCalendar, t: datetime) -> bool:
    local = t.astimezone(cal.zone)
    seconds = local.hour * 3600 + local.minute * 60 + local.second
    return any(iv.start <= seconds < iv.end for iv in cal.hours_on(local.date()))


@pytest.mark.parametrize("cal", ALL_CALENDARS.values(), ids=ALL_CALENDARS)
def test_between_inverts_add(cal: BusinessCalendar) -> None:
    rng = random.Random(SEED)
    for _ in range(300):
        start, duration = random_instant(rng), random_duration(rng)
        due = cal.add_business_time(start, duration)
        assert due >= start
        assert cal.business_time_between(start, due) == duration, (start, duration)
        if duration > ZERO:
            # The due time is the earliest such instant: working time just before it.
            assert cal.is_working(due - US), (start, duration)
        else:
            assert due == cal.next_opening(start)


@pytest.mark.parametrize("cal", ALL_CALENDARS.values(), ids=ALL_CALENDARS)
def test_add_is_monotonic_and_additive(cal: BusinessCalendar) -> None:
    rng = random.Random(SEED + 1)
    for _ in range(200):
        start = random_instant(rng)
        d1, d2 = sorted((random_duration(rng), random_duration(rng)))
        first = cal.add_business_time(start, d1)
        assert first <= cal.add_business_time(start, d2)
        if d2 - d1 > ZERO:
            assert cal.add_business_time(first, d2 - d1) == cal.add_business_time(start, d2)


@pytest.mark.parametrize("cal", ALL_CALENDARS.values(), ids=ALL_CALENDARS)
def test_between_is_additive_and_antisymmetric(cal: BusinessCalendar) -> None:
    rng = random.Random(SEED + 2)
    for _ in range(200):
        a, b, c = sorted(random_instant(rng) for _ in range(3))
        ab, bc = cal.business_time_between(a, b), cal.business_time_between(b, c)
        assert ab >= ZERO
        assert ab + bc == cal.business_time_between(a, c)
        assert cal.business_time_between(b, a) == -ab


@pytest.mark.parametrize("cal", ALL_CALENDARS.values(), ids=ALL_CALENDARS)
def test_next_opening(cal: BusinessCalendar) -> None:
    rng = random.Random(SEED + 3)
    for _ in range(300):
        t = random_instant(rng)
        opening = cal.next_opening(t)
        assert opening >= t
        assert cal.is_working(opening)
        assert cal.business_time_between(t, opening) == ZERO
        assert (opening == t) == cal.is_working(t)


@pytest.mark.parametrize("cal", ORACLE_CALENDARS.values(), ids=ORACLE_CALENDARS)
def test_agrees_with_minute_by_minute_wall_clock(cal: BusinessCalendar) -> None:
    rng = random.Random(SEED + 4)
    for _ in range(6):
        start = random_instant(rng, minute=True)
        minutes = rng.randint(0, 4 * 24 * 60)
        working = [wall_working(cal, start + i * MINUTE) for i in range(minutes)]
        end = start + minutes * MINUTE
        assert cal.business_time_between(start, end) == sum(working) * MINUTE, start
        if any(working):
            # Due time of the counted minutes: the end of the last working minute.
            last = max(i for i, w in enumerate(working) if w)
            due = cal.add_business_time(start, sum(working) * MINUTE)
            assert due == start + (last + 1) * MINUTE, start
    for _ in range(2000):
        t = random_instant(rng)
        assert cal.is_working(t) == wall_working(cal, t), t


@pytest.mark.parametrize("cal", FULL_DAY_CALENDARS.values(), ids=FULL_DAY_CALENDARS)
def test_full_days_count_real_time_across_dst(cal: BusinessCalendar) -> None:
    assert not cal.is_always
    rng = random.Random(SEED + 5)
    for _ in range(300):
        a, b = sorted(random_instant(rng) for _ in range(2))
        assert cal.business_time_between(a, b) == b - a
        duration = random_duration(rng) * rng.randint(1, 20)
        assert cal.add_business_time(a, duration) == a + duration
