"""Business calendars: due times and business time, hand-computed.

Shanghai is UTC+8 all year. Berlin is CET (UTC+1) / CEST (UTC+2): in 2026 summer time
starts Sun 29 March 02:00 CET → 03:00 CEST (01:00Z) and ends Sun 25 October
03:00 CEST → 02:00 CET (01:00Z). New York is EST (UTC−5) / EDT (UTC−4): summer time
starts Sun 8 March 2026 and ends Sun 1 November 2026.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from omnidesk.sla.calendar import BusinessCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
H = timedelta(hours=1)
M = timedelta(minutes=1)
US = timedelta(microseconds=1)
LUNCH = [("09:00", "12:00"), ("13:30", "18:00")]  # 3h + 4.5h = 7.5h a day, 37.5h a week


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def sh(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SHANGHAI)


@pytest.fixture
def office() -> BusinessCalendar:
    """Asia/Shanghai, Mon–Fri 09:00–12:00 and 13:30–18:00. 2026-01-05 is a Monday."""
    return BusinessCalendar.weekdays("Asia/Shanghai", LUNCH)


@pytest.fixture
def national_day() -> BusinessCalendar:
    """National Day 2026: Thu 1 – Wed 7 Oct off; Sun 27 Sep and Sat 10 Oct worked."""
    holidays = [date(2026, 10, d) for d in range(1, 8)]
    workdays = [date(2026, 9, 27), date(2026, 10, 10)]
    return BusinessCalendar.weekdays("Asia/Shanghai", LUNCH, holidays, workdays)


# -- 7×24 ------------------------------------------------------------------------------


def test_always_is_plain_elapsed_time() -> None:
    cal = BusinessCalendar.always()
    assert cal.is_always
    start = utc(2026, 1, 9, 23, 30)
    assert cal.add_business_time(start, 90 * M) == utc(2026, 1, 10, 1, 0)
    assert cal.business_time_between(start, utc(2026, 1, 12)) == 48 * H + 30 * M
    assert cal.is_working(start)
    assert cal.next_opening(start) == start


def test_always_in_berlin_counts_real_hours_across_dst() -> None:
    cal = BusinessCalendar.always("Europe/Berlin")
    # Sat 28 Mar 12:00 CET = 11:00Z; 24 real hours later is 11:00Z = 13:00 CEST on Sunday.
    start = datetime(2026, 3, 28, 12, tzinfo=BERLIN)
    assert cal.add_business_time(start, 24 * H) == utc(2026, 3, 29, 11)
    # Local midnight to midnight on the spring-forward Sunday is 23 hours.
    sunday = datetime(2026, 3, 29, tzinfo=BERLIN)
    assert cal.business_time_between(sunday, sunday + timedelta(days=1)) == 23 * H


# -- Shanghai office hours with a lunch break -------------------------------------------


def test_inside_one_interval(office: BusinessCalendar) -> None:
    # Mon 10:00 + 1h = 11:00 local = 03:00Z.
    assert office.add_business_time(sh(2026, 1, 5, 10), H) == utc(2026, 1, 5, 3)


def test_lunch_break_is_skipped(office: BusinessCalendar) -> None:
    # Mon 11:00 + 2h: 11:00–12:00 (1h), lunch, 13:30 + 1h = 14:30 local = 06:30Z.
    assert office.add_business_time(sh(2026, 1, 5, 11), 2 * H) == utc(2026, 1, 5, 6, 30)
    # Starting during lunch: counting starts at 13:30; 13:30 + 1h = 14:30 local.
    assert office.add_business_time(sh(2026, 1, 5, 12, 30), H) == utc(2026, 1, 5, 6, 30)


def test_friday_evening_rolls_to_monday(office: BusinessCalendar) -> None:
    # Fri 9 Jan 17:00 + 2h: 17:00–18:00 (1h), weekend, Mon 12 Jan 09:00 + 1h = 10:00 = 02:00Z.
    assert office.add_business_time(sh(2026, 1, 9, 17), 2 * H) == utc(2026, 1, 12, 2)
    # Starting after closing, on Saturday: Mon 09:00 + 1h.
    assert office.add_business_time(sh(2026, 1, 9, 18), H) == utc(2026, 1, 12, 2)
    assert office.add_business_time(sh(2026, 1, 10, 11), H) == utc(2026, 1, 12, 2)


def test_exact_fill_ends_at_closing_not_next_opening(office: BusinessCalendar) -> None:
    # Mon 09:00 + 7.5h fills the day: due Mon 18:00 local = 10:00Z, not Tue 09:00.
    assert office.add_business_time(sh(2026, 1, 5, 9), 7.5 * H) == utc(2026, 1, 5, 10)
    # Mon 09:00 + 3h ends at 12:00 (the closing before lunch), not 13:30.
    assert office.add_business_time(sh(2026, 1, 5, 9), 3 * H) == utc(2026, 1, 5, 4)
    # A whole week: Mon 09:00 + 37.5h = Fri 18:00 = Fri 10:00Z.
    assert office.add_business_time(sh(2026, 1, 5, 9), 37.5 * H) == utc(2026, 1, 9, 10)
    # One more minute goes to Monday 09:01.
    assert office.add_business_time(sh(2026, 1, 5, 9), 37.5 * H + M) == utc(2026, 1, 12, 1, 1)


def test_zero_duration_is_the_next_opening(office: BusinessCalendar) -> None:
    inside = sh(2026, 1, 5, 10, 17)
    assert office.add_business_time(inside, timedelta(0)) == inside
    # At 12:00 (closing) → 13:30; Fri 18:00 → Mon 09:00 (01:00Z).
    assert office.add_business_time(sh(2026, 1, 5, 12), timedelta(0)) == utc(2026, 1, 5, 5, 30)
    assert office.add_business_time(sh(2026, 1, 9, 18), timedelta(0)) == utc(2026, 1, 12, 1)


def test_edges_at_opening_and_closing(office: BusinessCalendar) -> None:
    assert office.is_working(sh(2026, 1, 5, 9))  # opening is inside
    assert not office.is_working(sh(2026, 1, 5, 9) - US)
    assert office.is_working(sh(2026, 1, 5, 12) - US)
    assert not office.is_working(sh(2026, 1, 5, 12))  # closing is outside
    assert office.is_working(sh(2026, 1, 5, 13, 30))
    assert not office.is_working(sh(2026, 1, 5, 18))
    assert not office.is_working(sh(2026, 1, 10, 10))  # Saturday
    assert office.next_opening(sh(2026, 1, 5, 12)) == utc(2026, 1, 5, 5, 30)
    assert office.next_opening(sh(2026, 1, 10, 10)) == utc(2026, 1, 12, 1)
    assert office.next_opening(sh(2026, 1, 5, 10)) == utc(2026, 1, 5, 2)


def test_business_time_between(office: BusinessCalendar) -> None:
    monday, friday_close = sh(2026, 1, 5, 9), sh(2026, 1, 9, 18)
    assert office.business_time_between(monday, friday_close) == 37.5 * H
    # Fri 17:00 → Mon 10:00: 1h on Friday + 1h on Monday.
    fri, mon = sh(2026, 1, 9, 17), sh(2026, 1, 12, 10)
    assert office.business_time_between(fri, mon) == 2 * H
    assert office.business_time_between(mon, fri) == -2 * H
    assert office.business_time_between(mon, mon) == timedelta(0)
    # Lunch and night contribute nothing: 11:00 → 14:00 is 1h + 0.5h.
    assert office.business_time_between(sh(2026, 1, 5, 11), sh(2026, 1, 5, 14)) == 1.5 * H


def test_inputs_in_any_zone_outputs_in_utc(office: BusinessCalendar) -> None:
    start = datetime(2026, 1, 5, 11, tzinfo=BERLIN)  # = 10:00Z = 18:00 Shanghai (closed)
    due = office.add_business_time(start, H)
    assert due == utc(2026, 1, 6, 2)  # Tue 09:00 + 1h = 10:00 Shanghai
    assert due.tzinfo is UTC
    assert office.next_opening(start).tzinfo is UTC


# -- Chinese holiday week with make-up working days ------------------------------------


def test_national_day_holiday_week(national_day: BusinessCalendar) -> None:
    # Wed 30 Sep 17:00 + 8h: 17:00–18:00 (1h); 1–7 Oct off; Thu 8 Oct 09:00–12:00 (3h, 4h
    # counted), 13:30 + 4h = 17:30 local = 09:30Z.
    assert national_day.add_business_time(sh(2026, 9, 30, 17), 8 * H) == utc(2026, 10, 8, 9, 30)
    assert not national_day.is_working(sh(2026, 10, 1, 10))  # a Thursday, but a holiday
    assert national_day.next_opening(sh(2026, 10, 1, 10)) == utc(2026, 10, 8, 1)


def test_make_up_working_days(national_day: BusinessCalendar) -> None:
    # Fri 25 Sep 17:00 + 2h: Fri 1h; Sat 26 off; Sun 27 (make-up) 09:00 + 1h = 02:00Z.
    assert national_day.add_business_time(sh(2026, 9, 25, 17), 2 * H) == utc(2026, 9, 27, 2)
    assert national_day.is_working(sh(2026, 10, 10, 10))  # Saturday make-up day
    assert not national_day.is_working(sh(2026, 10, 11, 10))  # ordinary Sunday
    # Mon 28 Sep 09:00 → Mon 12 Oct 09:00: 28, 29, 30 Sep (22.5h) + 8, 9 Oct (15h)
    # + Sat 10 Oct (7.5h) = 45h.
    assert national_day.business_time_between(sh(2026, 9, 28, 9), sh(2026, 10, 12, 9)) == 45 * H
    # From Mon 21 Sep: + week of 21–25 Sep (37.5h) + Sun 27 Sep (7.5h) = 90h.
    assert national_day.business_time_between(sh(2026, 9, 21, 9), sh(2026, 10, 12, 9)) == 90 * H


def test_long_duration_across_the_holiday_week(national_day: BusinessCalendar) -> None:
    # Mon 14 Sep 09:00 + 100h: weeks of 14 and 21 Sep (75h), Sun 27 Sep (82.5h), Mon 28 and
    # Tue 29 Sep (97.5h), Wed 30 Sep 09:00 + 2.5h = 11:30 local = 03:30Z.
    due = national_day.add_business_time(sh(2026, 9, 14, 9), 100 * H)
    assert due == utc(2026, 9, 30, 3, 30)


def test_make_up_day_with_its_own_hours() -> None:
    cal = BusinessCalendar.from_dict(
        {
            "timezone": "Asia/Shanghai",
            "weekly": {d: LUNCH for d in ("mon", "tue", "wed", "thu", "fri")},
            "workdays": [{"date": "2026-10-10", "hours": [["10:00", "12:00"]]}],
        }
    )
    # Sat 10 Oct works 10:00–12:00 only: Sat 09:30 + 3h → 2h on Sat, Mon 12 Oct 09:00 + 1h.
    assert cal.add_business_time(sh(2026, 10, 10, 9, 30), 3 * H) == utc(2026, 10, 12, 2)


# -- long durations ---------------------------------------------------------------------


def test_five_hundred_business_hours(office: BusinessCalendar) -> None:
    # 500h = 13 weeks (487.5h) + 12.5h. Mon 5 Jan 09:00 + 13 weeks = Mon 6 Apr 09:00; Mon
    # 7.5h (5h left); Tue 7 Apr 09:00–12:00 (2h left); 13:30 + 2h = 15:30 local = 07:30Z.
    start = sh(2026, 1, 5, 9)
    due = office.add_business_time(start, 500 * H)
    assert due == utc(2026, 4, 7, 7, 30)
    assert office.business_time_between(start, due) == 500 * H


def test_decades_of_business_time_are_computed_by_weeks(office: BusinessCalendar) -> None:
    # 100 000h = 2666 weeks (99 975h) + 25h: Mon 5 Jan 2026 + 2666 weeks = Mon 8 Feb 2077;
    # Mon–Tue 15h, Wed 7.5h (22.5h), Thu 11 Feb 09:00 + 2.5h = 11:30 local = 03:30Z.
    start = sh(2026, 1, 5, 9)
    due = office.add_business_time(start, 100_000 * H)
    assert due == utc(2077, 2, 11, 3, 30)
    assert office.business_time_between(start, due) == 100_000 * H


# -- daylight saving time ---------------------------------------------------------------


def test_berlin_business_days_across_spring_forward() -> None:
    cal = BusinessCalendar.weekdays("Europe/Berlin", [("09:00", "17:00")])
    # Fri 27 Mar 16:00 CET (15:00Z) + 2h: 1h Friday; Mon 30 Mar 09:00 CEST (07:00Z) + 1h.
    start = datetime(2026, 3, 27, 16, tzinfo=BERLIN)
    assert cal.add_business_time(start, 2 * H) == utc(2026, 3, 30, 8)
    # Fri 09:00 CET → Mon 17:00 CEST is two 8h days, whatever the offsets.
    end = datetime(2026, 3, 30, 17, tzinfo=BERLIN)
    assert cal.business_time_between(start - 7 * H, end) == 16 * H


def test_berlin_business_days_across_fall_back() -> None:
    cal = BusinessCalendar.weekdays("Europe/Berlin", [("09:00", "17:00")])
    # Fri 23 Oct 16:00 CEST (14:00Z) + 2h: 1h Friday; Mon 26 Oct 09:00 CET (08:00Z) + 1h.
    start = datetime(2026, 10, 23, 16, tzinfo=BERLIN)
    assert cal.add_business_time(start, 2 * H) == utc(2026, 10, 26, 9)


def test_new_york_across_both_transitions() -> None:
    cal = BusinessCalendar.weekdays("America/New_York", [("09:00", "17:00")])
    # Fri 6 Mar 16:00 EST (21:00Z) + 2h → Mon 9 Mar 10:00 EDT = 14:00Z.
    assert cal.add_business_time(datetime(2026, 3, 6, 16, tzinfo=NEW_YORK), 2 * H) == utc(
        2026, 3, 9, 14
    )
    # Fri 30 Oct 16:00 EDT (20:00Z) + 2h → Mon 2 Nov 10:00 EST = 15:00Z.
    assert cal.add_business_time(datetime(2026, 10, 30, 16, tzinfo=NEW_YORK), 2 * H) == utc(
        2026, 11, 2, 15
    )


def test_full_day_is_23_or_25_hours_on_transition_sundays() -> None:
    cal = BusinessCalendar.from_dict(
        {"timezone": "Europe/Berlin", "weekly": {"sun": [["00:00", "24:00"]]}}
    )
    assert not cal.is_always
    # Sun 29 Mar: 00:00 CET (28 Mar 23:00Z) to 24:00 CEST (29 Mar 22:00Z) = 23h.
    assert cal.spans_on(date(2026, 3, 29)) == ((utc(2026, 3, 28, 23), utc(2026, 3, 29, 22)),)
    assert cal.business_time_between(utc(2026, 3, 27), utc(2026, 4, 1)) == 23 * H
    # Sun 25 Oct: 00:00 CEST (24 Oct 22:00Z) to 24:00 CET (25 Oct 23:00Z) = 25h.
    assert cal.business_time_between(utc(2026, 10, 23), utc(2026, 10, 28)) == 25 * H
    # Sat 28 Mar 12:00Z + 23h: opens 23:00Z, closes exactly 23h later at Mon 00:00 CEST.
    assert cal.add_business_time(utc(2026, 3, 28, 12), 23 * H) == utc(2026, 3, 29, 22)


def test_intervals_crossing_the_transition_hour() -> None:
    cal = BusinessCalendar.from_dict(
        {"timezone": "Europe/Berlin", "weekly": {"sun": [["01:00", "04:00"]]}}
    )
    # Spring: 01:00 CET (00:00Z) → 04:00 CEST (02:00Z): 2 real hours.
    assert cal.spans_on(date(2026, 3, 29)) == ((utc(2026, 3, 29, 0), utc(2026, 3, 29, 2)),)
    # Autumn: 01:00 CEST (24 Oct 23:00Z) → 04:00 CET (03:00Z): 4 real hours.
    assert cal.spans_on(date(2026, 10, 25)) == ((utc(2026, 10, 24, 23), utc(2026, 10, 25, 3)),)
    # An ordinary Sunday: 3 hours.
    assert cal.business_time_between(utc(2026, 6, 1), utc(2026, 6, 8)) == 3 * H


def test_opening_inside_the_spring_gap_opens_at_the_jump() -> None:
    cal = BusinessCalendar.from_dict(
        {"timezone": "Europe/Berlin", "weekly": {"sun": [["02:30", "05:00"], ["22:00", "23:00"]]}}
    )
    # 02:30 does not exist on 29 Mar: the office opens when clocks jump (01:00Z), until
    # 05:00 CEST (03:00Z).
    assert cal.spans_on(date(2026, 3, 29))[0] == (utc(2026, 3, 29, 1), utc(2026, 3, 29, 3))
    assert cal.next_opening(utc(2026, 3, 28, 12)) == utc(2026, 3, 29, 1)


def test_interval_wholly_inside_the_gap_vanishes() -> None:
    cal = BusinessCalendar.from_dict(
        {"timezone": "Europe/Berlin", "weekly": {"sun": [["02:15", "02:45"]]}}
    )
    assert cal.spans_on(date(2026, 3, 29)) == ()
    # Next opening is the following Sunday, 5 Apr 02:15 CEST = 00:15Z.
    assert cal.next_opening(utc(2026, 3, 28, 12)) == utc(2026, 4, 5, 0, 15)


def test_repeated_hour_counts_its_first_occurrence() -> None:
    cal = BusinessCalendar.from_dict(
        {"timezone": "Europe/Berlin", "weekly": {"sun": [["02:00", "02:30"]]}}
    )
    # 25 Oct: 02:00–02:30 CEST is 00:00Z–00:30Z; the repeat (02:00–02:30 CET, 01:00Z–01:30Z)
    # is not working time.
    assert cal.spans_on(date(2026, 10, 25)) == ((utc(2026, 10, 25, 0), utc(2026, 10, 25, 0, 30)),)
    assert cal.is_working(utc(2026, 10, 25, 0, 15))
    assert not cal.is_working(utc(2026, 10, 25, 1, 15))


def test_interval_ending_at_24_00_and_night_shift() -> None:
    night = [["00:00", "02:00"], ["18:00", "24:00"]]
    cal = BusinessCalendar.from_dict(
        {"timezone": "UTC", "weekly": {d: night for d in ("fri", "sat")}}
    )
    # Fri 9 Jan 23:00 + 2h: 23:00–24:00 (1h), Sat 00:00 + 1h = 01:00.
    assert cal.add_business_time(utc(2026, 1, 9, 23), 2 * H) == utc(2026, 1, 10, 1)
    assert cal.is_working(utc(2026, 1, 10, 0))
    # Sat 01:00 + 2h: 01:00–02:00 (1h), Sat 18:00 + 1h = 19:00.
    assert cal.add_business_time(utc(2026, 1, 10, 1), 2 * H) == utc(2026, 1, 10, 19)
    # Sat 23:00 + 2h: 1h Saturday, Sunday closed, next Fri 16 Jan 00:00 + 1h.
    assert cal.add_business_time(utc(2026, 1, 10, 23), 2 * H) == utc(2026, 1, 16, 1)


# -- invalid inputs ---------------------------------------------------------------------


def test_naive_datetimes_are_rejected(office: BusinessCalendar) -> None:
    naive = datetime(2026, 1, 5, 9)  # noqa: DTZ001 — deliberately naive
    with pytest.raises(ValueError, match="timezone-aware"):
        office.add_business_time(naive, H)
    with pytest.raises(ValueError, match="timezone-aware"):
        office.business_time_between(sh(2026, 1, 5, 9), naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        office.is_working(naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        office.next_opening(naive)


def test_bad_durations_are_rejected(office: BusinessCalendar) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        office.add_business_time(sh(2026, 1, 5, 9), -H)
    with pytest.raises(ValueError, match="timedelta"):
        office.add_business_time(sh(2026, 1, 5, 9), 3600)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="out of range"):
        office.add_business_time(sh(9999, 12, 1, 9), 1000 * H)
