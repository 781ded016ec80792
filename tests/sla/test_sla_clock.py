"""SLA clocks: due times, pauses and states, hand-computed.

Unless said otherwise: Asia/Shanghai (UTC+8), Mon–Fri 09:00–12:00 and 13:30–18:00; the
clock starts Mon 5 Jan 2026 10:00 local with a 4h target and a 20 % at-risk threshold
(48 min). Without pauses it is due at 10:00–12:00 (2h) + 13:30–15:30 (2h) = 15:30 local
(07:30Z), and at risk once 3h12m are counted: 13:30 + 1h12m = 14:42 local (06:42Z).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from omnidesk.sla.calendar import BusinessCalendar
from omnidesk.sla.clock import Pause, SlaClock, SlaState, evaluate

SHANGHAI = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)
M = timedelta(minutes=1)
US = timedelta(microseconds=1)
OFFICE = BusinessCalendar.weekdays("Asia/Shanghai", [("09:00", "12:00"), ("13:30", "18:00")])
START = datetime(2026, 1, 5, 10, tzinfo=SHANGHAI)


def sh(h: int, mi: int = 0, d: int = 5, mo: int = 1, y: int = 2026) -> datetime:
    """Local Shanghai time, on Mon 5 Jan 2026 unless told."""
    return datetime(y, mo, d, h, mi, tzinfo=SHANGHAI)


def clock(**kw: object) -> SlaClock:
    args: dict[str, object] = {"calendar": OFFICE, "target": 4 * H, "started_at": START}
    args.update(kw)
    return SlaClock(**args)  # type: ignore[arg-type]


def test_running_clock_states_over_the_day() -> None:
    c = clock()
    at_11 = c.status(sh(11))
    assert at_11.state is SlaState.ON_TRACK
    assert (at_11.elapsed, at_11.remaining) == (H, 3 * H)
    assert at_11.due_at == datetime(2026, 1, 5, 7, 30, tzinfo=UTC)
    assert at_11.at_risk_at == datetime(2026, 1, 5, 6, 42, tzinfo=UTC)
    assert at_11.next_change_at == at_11.at_risk_at
    assert at_11.breached_at is None
    # Lunch counts nothing: at 12:45, 2h counted.
    assert c.status(sh(12, 45)).elapsed == 2 * H
    assert c.status(sh(12, 45)).state is SlaState.ON_TRACK


def test_at_risk_edge() -> None:
    c = clock()
    assert c.status(sh(14, 42) - US).state is SlaState.ON_TRACK
    at_risk = c.status(sh(14, 42))
    assert at_risk.state is SlaState.AT_RISK
    assert at_risk.remaining == 48 * M
    assert at_risk.next_change_at == sh(15, 30)


def test_breach_edge() -> None:
    c = clock()
    assert c.status(sh(15, 30) - US).state is SlaState.AT_RISK
    at_due = c.status(sh(15, 30))
    assert at_due.state is SlaState.BREACHED
    assert at_due.breached_at == sh(15, 30)
    assert at_due.remaining == timedelta(0)
    assert at_due.next_change_at is None
    # 17:00: 1.5h over target.
    assert c.status(sh(17)).remaining == -1.5 * H
    # After closing no more business time passes (15:30–18:00 is 2.5h over at 20:00 too),
    # but the clock stays breached.
    evening = c.status(sh(20))
    assert evening.state is SlaState.BREACHED
    assert evening.remaining == -2.5 * H
    # Sat 10 Jan: + Tue–Fri (4 × 7.5h) = 32.5h over.
    assert c.status(sh(10, d=10)).remaining == -32.5 * H


def test_met_when_stopped_at_or_before_due() -> None:
    met = clock(stopped_at=sh(15, 30)).status(sh(16))
    assert met.state is SlaState.MET
    assert met.elapsed == 4 * H
    assert met.breached_at is None
    assert met.stopped_at == sh(15, 30)
    early = clock(stopped_at=sh(11)).status(sh(17))
    assert (early.state, early.elapsed, early.remaining) == (SlaState.MET, H, 3 * H)


def test_stopped_after_due_is_breached() -> None:
    late = clock(stopped_at=sh(15, 31)).status(sh(16))
    assert late.state is SlaState.BREACHED
    assert late.breached_at == sh(15, 30)
    assert late.elapsed == 4 * H + M
    assert late.remaining == -M


def test_stop_in_the_future_of_now_is_not_yet_known() -> None:
    status = clock(stopped_at=sh(14)).status(sh(13))
    assert status.state is SlaState.ON_TRACK
    assert status.stopped_at is None
    assert status.elapsed == 2 * H


def test_pause_inside_working_time_pushes_due_out() -> None:
    # Paused 10:30–11:30 (1h of business time): due 15:30 + 1h = 16:30 local.
    c = clock(pauses=[(sh(10, 30), sh(11, 30))])
    assert c.due_at() == sh(16, 30)
    after = c.status(sh(12))
    assert after.state is SlaState.ON_TRACK
    assert after.elapsed == H  # 10:00–10:30 and 11:30–12:00
    assert after.due_at == sh(16, 30)
    # At 11:00 the pause is still open as far as anyone knew then.
    during = c.status(sh(11))
    assert during.state is SlaState.PAUSED
    assert during.elapsed == 30 * M
    assert during.due_at is None
    assert during.next_change_at is None
    # Before the pause began, the pause was unknown: due 15:30.
    assert c.status(sh(10, 15)).due_at == sh(15, 30)


def test_pause_outside_working_time_changes_nothing() -> None:
    # Paused during lunch only: no business time paused.
    assert clock(pauses=[(sh(12, 10), sh(13, 20))]).due_at() == sh(15, 30)
    # Paused 11:45–13:45: 15 min before lunch + 15 min after = 30 min → due 16:00.
    assert clock(pauses=[(sh(11, 45), sh(13, 45))]).due_at() == sh(16)


def test_pause_over_a_weekend() -> None:
    # Start Fri 9 Jan 17:00, target 4h: Fri 1h, Mon 09:00–12:00 3h → due Mon 12:00 exactly.
    fri = sh(17, d=9)
    assert clock(started_at=fri).due_at() == sh(12, d=12)
    # Paused Fri 17:30 → Mon 10:00: 30 min Friday + 1h Monday paused → due Mon 15:00.
    paused = clock(started_at=fri, pauses=[Pause(sh(17, 30, d=9), sh(10, d=12))])
    assert paused.due_at() == sh(15, d=12)


def test_open_pause() -> None:
    c = clock(pauses=[Pause(sh(11))])
    status = c.status(sh(14))
    assert status.state is SlaState.PAUSED
    assert (status.elapsed, status.remaining) == (H, 3 * H)
    assert status.due_at is None
    assert c.due_at() is None
    # Paused days later: still paused, nothing counted.
    assert c.status(sh(10, d=20)).elapsed == H


def test_pause_exact_edges() -> None:
    c = clock(pauses=[(sh(11), sh(12))])
    assert c.status(sh(11)).state is SlaState.PAUSED  # paused at now
    assert c.status(sh(12)).state is SlaState.ON_TRACK  # resumed at now
    assert c.status(sh(11) - US).state is SlaState.ON_TRACK


def test_breach_is_sticky_through_a_later_pause() -> None:
    c = clock(pauses=[Pause(sh(16))])
    status = c.status(sh(17))
    assert status.state is SlaState.BREACHED
    assert status.breached_at == sh(15, 30)


def test_stopped_while_paused_is_met() -> None:
    status = clock(pauses=[Pause(sh(11))], stopped_at=sh(14)).status(sh(15))
    assert (status.state, status.elapsed) == (SlaState.MET, H)


def test_pauses_are_clipped_and_merged() -> None:
    # A pause from before the start counts from the start: 10:00–11:00 → due 16:30.
    assert clock(pauses=[(sh(9), sh(11))]).due_at() == sh(16, 30)
    # A pause wholly before the start is dropped.
    assert clock(pauses=[(sh(9), sh(9, 30))]).pauses == ()
    # Overlapping pauses merge into 10:30–11:30 → due 16:30.
    c = clock(pauses=[(sh(10, 45), sh(11, 30)), (sh(10, 30), sh(11))])
    assert c.pauses == (Pause(sh(10, 30), sh(11, 30)),)
    assert c.due_at() == sh(16, 30)
    # An open pause swallows a later one.
    assert clock(pauses=[Pause(sh(11)), (sh(13), sh(14))]).pauses == (Pause(sh(11)),)


def test_absolute_at_risk_lead() -> None:
    # At risk with 1h left: 3h counted = 13:30 + 1h = 14:30.
    c = clock(at_risk_lead=H)
    assert c.status(sh(11)).at_risk_at == sh(14, 30)
    assert c.status(sh(14, 30)).state is SlaState.AT_RISK
    assert c.status(sh(14, 29)).state is SlaState.ON_TRACK


def test_lead_longer_than_target_is_at_risk_from_the_start() -> None:
    status = clock(at_risk_lead=5 * H).status(START)
    assert status.state is SlaState.AT_RISK
    assert status.at_risk_at == START


def test_zero_fraction_is_at_risk_only_at_due() -> None:
    c = clock(at_risk_fraction=0)
    assert c.status(sh(11)).at_risk_at == sh(15, 30)
    assert c.status(sh(15, 30) - US).state is SlaState.ON_TRACK


def test_zero_target() -> None:
    # Inside working time: due at once; breached unless stopped at that instant.
    assert clock(target=timedelta(0)).status(START).state is SlaState.BREACHED
    met = clock(target=timedelta(0), stopped_at=START).status(START)
    assert met.state is SlaState.MET
    # Started on Saturday: due at Monday's opening.
    saturday = clock(target=timedelta(0), started_at=sh(10, d=10))
    assert saturday.due_at() == sh(9, d=12)


def test_national_day_first_response() -> None:
    holidays = [date(2026, 10, d) for d in range(1, 8)]
    cal = BusinessCalendar.weekdays(
        "Asia/Shanghai", [("09:00", "12:00"), ("13:30", "18:00")], holidays
    )
    c = SlaClock(cal, 8 * H, sh(17, d=30, mo=9))
    # Wed 30 Sep 17:00: 1h that day, then Thu 8 Oct 09:00–12:00, 13:30–17:30 (7h).
    holiday = c.status(sh(10, d=5, mo=10))
    assert (holiday.state, holiday.elapsed) == (SlaState.ON_TRACK, H)
    assert holiday.due_at == sh(17, 30, d=8, mo=10)


def test_always_calendar_clock() -> None:
    start = datetime(2026, 1, 5, 10, tzinfo=UTC)
    c = SlaClock(BusinessCalendar.always(), H, start, (Pause(start + 15 * M, start + 45 * M),))
    assert c.due_at() == start + 90 * M
    assert evaluate(c, start + 80 * M).state is SlaState.AT_RISK  # 50 min counted, 10 left
    assert evaluate(c, start + 70 * M).state is SlaState.ON_TRACK  # 40 min counted


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"started_at": datetime(2026, 1, 5, 10)}, "timezone-aware"),  # noqa: DTZ001
        ({"target": -H}, "must not be negative"),
        ({"stopped_at": sh(9)}, "is before started_at"),
        ({"pauses": [(sh(11), sh(10))]}, "resumed at .* before it was paused"),
        ({"pauses": [sh(11)]}, "is not a Pause"),
        ({"pauses": [(sh(11), datetime(2026, 1, 5, 12))]}, "timezone-aware"),  # noqa: DTZ001
        ({"at_risk_fraction": 1.5}, r"within 0…1"),
        ({"at_risk_fraction": "0.2"}, "must be a number"),
        ({"at_risk_lead": -M}, "must not be negative"),
        ({"calendar": {"timezone": "UTC"}}, "must be a BusinessCalendar"),
    ],
)
def test_invalid_clocks(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        clock(**kwargs)


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        clock().status(datetime(2026, 1, 5, 11))  # noqa: DTZ001


def test_random_clocks_obey_their_definitions() -> None:
    rng = random.Random(20260927)
    origin = datetime(2026, 9, 1, tzinfo=UTC)
    for _ in range(300):
        start = origin + timedelta(hours=rng.uniform(0, 24 * 60))
        target = timedelta(minutes=rng.randint(1, 60 * 40))
        pauses, cursor = [], start
        for _ in range(rng.randint(0, 4)):
            paused = cursor + timedelta(hours=rng.uniform(0, 30))
            cursor = paused + timedelta(hours=rng.uniform(0, 30))
            pauses.append(Pause(paused, cursor))
        c = SlaClock(OFFICE, target, start, tuple(pauses))
        due = c.due_at()
        assert due is not None
        at_due = c.status(due)
        assert (at_due.state, at_due.elapsed) == (SlaState.BREACHED, target)
        assert c.status(due - US).state is not SlaState.BREACHED
        assert c.status(due - US).elapsed < target
        # Due = start + target + the business time paused before it.
        paused_time = sum(
            (
                OFFICE.business_time_between(p.paused_at, min(p.resumed_at or due, due))
                for p in c.pauses
                if p.paused_at < due
            ),
            timedelta(0),
        )
        assert OFFICE.add_business_time(start, target + paused_time) == due
        risk = c.status(due).at_risk_at
        assert risk is not None
        assert c.status(risk).elapsed == target - c.at_risk_threshold
