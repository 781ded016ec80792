"""Calendars to and from their JSON form, and the validation of bad input."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from omnidesk.sla.calendar import (
    BusinessCalendar,
    Holiday,
    MakeupDay,
    WorkInterval,
)

NATIONAL_DAY: dict[str, Any] = {
    "timezone": "Asia/Shanghai",
    "weekly": {
        "mon": [["09:00", "12:00"], ["13:30", "18:00"]],
        "tue": [["09:00", "12:00"], ["13:30", "18:00"]],
        "wed": [["09:00", "12:00"], ["13:30", "18:00"]],
        "thu": [["09:00", "12:00"], ["13:30", "18:00"]],
        "fri": [["09:00", "12:00"], ["13:30", "18:00"]],
        "sat": [["10:00", "16:00:30"]],
    },
    "holidays": [
        {"date": "2026-10-01", "name": "国庆节"},
        "2026-10-02",
        "2026-10-03",
    ],
    "workdays": [
        "2026-09-27",
        {"date": "2026-10-10", "name": "调休", "hours": [["09:00", "12:00"]]},
    ],
}


def test_round_trip_is_exact_and_json_able() -> None:
    cal = BusinessCalendar.from_dict(NATIONAL_DAY)
    assert cal.to_dict() == NATIONAL_DAY
    again = BusinessCalendar.from_dict(json.loads(json.dumps(cal.to_dict())))
    assert again == cal


def test_parsed_structure() -> None:
    cal = BusinessCalendar.from_dict(NATIONAL_DAY)
    assert cal.weekly[0] == (WorkInterval(9 * 3600, 12 * 3600), WorkInterval(48600, 64800))
    assert cal.weekly[5] == (WorkInterval(36000, 16 * 3600 + 30),)
    assert cal.weekly[6] == ()
    assert cal.holidays[0] == Holiday(date(2026, 10, 1), "国庆节")
    assert cal.workdays[0] == MakeupDay(date(2026, 9, 27))
    # A make-up day without hours works the default weekday hours (Monday's here).
    assert cal.hours_on(date(2026, 9, 27)) == cal.weekly[0]
    assert cal.hours_on(date(2026, 10, 10)) == (WorkInterval(9 * 3600, 12 * 3600),)
    assert cal.hours_on(date(2026, 10, 1)) == ()


def test_unsorted_input_is_normalised() -> None:
    cal = BusinessCalendar.from_dict(
        {
            "timezone": "UTC",
            "weekly": {"mon": [["13:00", "14:00"], ["09:00", "10:00"]]},
            "holidays": ["2026-12-25", "2026-01-01"],
        }
    )
    assert cal.to_dict()["weekly"] == {"mon": [["09:00", "10:00"], ["13:00", "14:00"]]}
    assert cal.to_dict()["holidays"] == ["2026-01-01", "2026-12-25"]


def test_always_has_a_json_form() -> None:
    cal = BusinessCalendar.always("Asia/Shanghai")
    data = cal.to_dict()
    assert data["weekly"]["sun"] == [["00:00", "24:00"]]
    assert BusinessCalendar.from_dict(data).is_always


def test_touching_intervals_are_allowed() -> None:
    cal = BusinessCalendar.from_dict(
        {"timezone": "UTC", "weekly": {"mon": [["09:00", "12:00"], ["12:00", "18:00"]]}}
    )
    assert len(cal.weekly[0]) == 2


def with_(**changes: Any) -> dict[str, Any]:
    data = {"timezone": "UTC", "weekly": {"mon": [["09:00", "18:00"]]}}
    data.update(changes)
    return data


BAD: list[tuple[Any, str]] = [
    ([], "calendar must be an object"),
    ({"weekly": {"mon": [["09:00", "18:00"]]}}, "'timezone' is required"),
    (with_(tz="UTC"), r"unknown keys \['tz'\]"),
    (with_(timezone="Mars/Olympus_Mons"), "unknown time zone 'Mars/Olympus_Mons'"),
    (with_(timezone="../etc/passwd"), "unknown time zone"),
    (with_(timezone=""), "IANA zone name"),
    (with_(timezone=8), "IANA zone name"),
    (with_(weekly=[["09:00", "18:00"]]), "weekly must be an object"),
    (with_(weekly={"monday": [["09:00", "18:00"]]}), r"unknown days \['monday'\]"),
    (with_(weekly={"mon": ["09:00", "18:00"]}), r"weekly.mon\[0\]: interval '09:00'"),
    (with_(weekly={"mon": "09:00-18:00"}), "expected a list"),
    (with_(weekly={"mon": [["18:00", "09:00"]]}), "end 09:00 is not after start 18:00"),
    (with_(weekly={"mon": [["09:00", "09:00"]]}), "not after start"),
    (with_(weekly={"mon": [["24:00", "24:00"]]}), "outside 00:00–24:00"),
    (
        with_(weekly={"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}),
        "weekly.mon: intervals 09:00–12:00 and 11:00–13:00 overlap",
    ),
    (with_(weekly={"tue": [["9:00", "18:00"]]}), r"weekly.tue\[0\]: time '9:00' is not HH:MM"),
    (with_(weekly={"mon": [["09:00", "25:00"]]}), "out of range"),
    (with_(weekly={"mon": [["09:00", "24:30"]]}), "out of range"),
    (with_(weekly={"mon": [["09:60", "10:00"]]}), "out of range"),
    (with_(weekly={"mon": [[900, 1800]]}), "is not HH:MM"),
    (with_(weekly={}), "no working hours"),
    (with_(holidays="2026-10-01"), "holidays must be a list"),
    (with_(holidays=["2026-02-30"]), r"holidays\[0\]: '2026-02-30' is not a valid date"),
    (with_(holidays=["2026/10/01"]), "is not YYYY-MM-DD"),
    (with_(holidays=[20261001]), "expected a date string"),
    (with_(holidays=[{"day": "2026-10-01"}]), "expected a date string or an object"),
    (with_(holidays=[{"date": "2026-10-01", "why": "x"}]), r"unknown keys \['why'\]"),
    (with_(holidays=[{"date": "2026-10-01", "name": 1}]), "name must be a string"),
    (with_(holidays=["2026-10-01", "2026-10-01"]), "2026-10-01 is listed twice"),
    (with_(workdays={"date": "2026-10-10"}), "workdays must be a list"),
    (
        with_(holidays=["2026-10-10"], workdays=["2026-10-10"]),
        "workdays 2026-10-10: the date is a holiday",
    ),
    (with_(workdays=["2026-10-10", "2026-10-10"]), "the date is listed twice"),
    (with_(workdays=[{"date": "2026-10-10", "hours": []}]), "hours must not be empty"),
    (
        with_(workdays=[{"date": "2026-10-10", "hours": [["12:00", "10:00"]]}]),
        r"workdays\[0\].hours\[0\]: interval end",
    ),
    (
        with_(weekly={"sat": [["09:00", "12:00"]]}, workdays=["2026-10-11"]),
        "no hours given and no default weekday hours",
    ),
]


@pytest.mark.parametrize(("data", "message"), BAD)
def test_bad_input_gets_a_clear_value_error(data: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar.from_dict(data)


def test_constructor_validation() -> None:
    day = (WorkInterval(9 * 3600, 18 * 3600),)
    with pytest.raises(ValueError, match="needs 7 days"):
        BusinessCalendar("UTC", (day,) * 5)
    with pytest.raises(ValueError, match="not a WorkInterval"):
        BusinessCalendar("UTC", (("09:00", "18:00"),) * 7)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a Holiday"):
        BusinessCalendar("UTC", (day,) * 7, ("2026-10-01",))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="is not a date"):
        Holiday("2026-10-01")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="int seconds"):
        WorkInterval(9.5, 10)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="overlap"):
        MakeupDay(date(2026, 10, 10), (WorkInterval(0, 7200), WorkInterval(3600, 9000)))
