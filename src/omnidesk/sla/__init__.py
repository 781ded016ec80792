"""SLA maths: business-hours calendars and SLA clocks (pure, no I/O). See docs/sla.md."""

from omnidesk.sla.calendar import (
    WEEKDAYS,
    BusinessCalendar,
    Holiday,
    MakeupDay,
    WorkInterval,
)
from omnidesk.sla.clock import Pause, SlaClock, SlaMetric, SlaState, SlaStatus, evaluate

__all__ = [
    "WEEKDAYS",
    "BusinessCalendar",
    "Holiday",
    "MakeupDay",
    "Pause",
    "SlaClock",
    "SlaMetric",
    "SlaState",
    "SlaStatus",
    "WorkInterval",
    "evaluate",
]
