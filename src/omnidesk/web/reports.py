"""Supervisor reports: conversation volume, first response and resolution times,
self-service deflection and satisfaction per day, over a period.

Counting is SQL that runs on SQLite and PostgreSQL alike; days are cut in the viewer's
time zone (the user's setting, else the deployment's default) by a small dialect helper:
PostgreSQL converts with ``timezone()``, SQLite — which has no zone database — shifts
each timestamp by the zone's UTC offset, switching offsets at the zone's transitions
inside the period (so daylight-saving zones are right too)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Query
from sqlalchemy import (
    Float,
    Text,
    and_,
    case,
    cast,
    exists,
    extract,
    func,
    literal,
    not_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from omnidesk.auth.deps import require
from omnidesk.auth.service import Principal
from omnidesk.config import get_settings
from omnidesk.kit.db import UTCDateTime
from omnidesk.kit.errors import ValidationFailed
from omnidesk.kit.web import SessionDep
from omnidesk.models import Case, Conversation, Message, User
from omnidesk.models.enums import SenderType

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
Supervisors = Annotated[Principal, Depends(require("admin", "supervisor"))]
MAX_DAYS = 366
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Period:
    """Whole local days ``start``..``end`` (inclusive) in ``zone``."""

    start: date
    end: date
    zone: ZoneInfo

    @property
    def start_utc(self) -> datetime:
        return datetime.combine(self.start, time(), self.zone).astimezone(UTC)

    @property
    def end_utc(self) -> datetime:
        """The instant the day after ``end`` begins (exclusive bound)."""
        return datetime.combine(self.end + timedelta(days=1), time(), self.zone).astimezone(UTC)

    def days(self) -> list[str]:
        n = (self.end - self.start).days + 1
        return [(self.start + timedelta(days=i)).isoformat() for i in range(n)]


def check_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed(f"unknown time zone {name!r}", field="tz") from exc


def _parse_day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed(f"{field} must be a date YYYY-MM-DD", field=field) from exc


def check_period(start: str | None, end: str | None, zone: ZoneInfo,
                 today: date | None = None) -> Period:
    """The period asked for; by default the last 30 days up to today (in ``zone``)."""
    today = today or datetime.now(zone).date()
    last = _parse_day(end, "to") if end else today
    first = _parse_day(start, "from") if start else last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ValidationFailed("'from' is after 'to'", field="from")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationFailed(f"a report covers at most {MAX_DAYS} days", field="from")
    return Period(first, last, zone)


def offsets(zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """The zone's UTC offset (seconds) over [start, end): (from instant, offset) pieces.
    Found hour by hour, then the switch is located to the second."""
    def off(at: datetime) -> int:
        delta = at.astimezone(zone).utcoffset()
        return int(delta.total_seconds()) if delta else 0

    pieces = [(start, off(start))]
    at = start
    while at < end:
        nxt = min(at + timedelta(hours=1), end)
        if off(nxt) != pieces[-1][1]:
            lo, hi = at, nxt
            while (hi - lo) > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                lo, hi = (mid, hi) if off(mid) == pieces[-1][1] else (lo, mid)
            pieces.append((hi, off(hi)))
        at = nxt
    return pieces


def local_day(dialect: str, column: Any, period: Period) -> ColumnElement[str]:
    """``YYYY-MM-DD`` of a UTC timestamp column, in the period's time zone."""
    if dialect == "postgresql":
        local = func.timezone(cast(literal(period.zone.key), Text), column)
        return func.to_char(local, "YYYY-MM-DD")
    pieces = offsets(period.zone, period.start_utc, period.end_utc)
    mods = [f"{seconds:+d} seconds" for _, seconds in pieces]
    if len(pieces) == 1:
        return func.date(column, mods[0])
    whens = [(column < literal(at, UTCDateTime()), mod)
             for (at, _), mod in zip(pieces[1:], mods, strict=False)]
    return func.date(column, case(*whens, else_=mods[-1]))


def seconds_between(dialect: str, later: Any, earlier: Any) -> ColumnElement[float]:
    if dialect == "postgresql":
        return cast(extract("epoch", later - earlier), Float)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _in(column: Any, period: Period) -> ColumnElement[bool]:
    return and_(column >= period.start_utc, column < period.end_utc)


async def volume(session: AsyncSession, dialect: str, p: Period) -> dict[str, dict[str, int]]:
    """Conversations created per channel per day."""
    sub = (select(local_day(dialect, Conversation.created_at, p).label("day"),
                  Conversation.channel.label("channel"))
           .where(_in(Conversation.created_at, p)).subquery())
    rows = await session.execute(select(sub.c.day, sub.c.channel, func.count())
                                 .group_by(sub.c.day, sub.c.channel))
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for day, channel, n in rows:
        out[channel][day] = int(n)
    return out


def _summary(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"median": None, "avg": None, "count": 0}
    return {"median": round(statistics.median(values), 1),
            "avg": round(statistics.fmean(values), 1), "count": len(values)}


async def durations(session: AsyncSession, dialect: str, p: Period, end_col: Any,
                    day_col: Any) -> dict[str, Any]:
    """Median and average seconds from ``created_at`` to ``end_col``, per day of
    ``day_col`` (medians need the values: fetched as two numbers a row)."""
    stmt = (select(local_day(dialect, day_col, p),
                   seconds_between(dialect, end_col, Conversation.created_at))
            .where(end_col.is_not(None), _in(day_col, p)))
    per_day: dict[str, list[float]] = defaultdict(list)
    every: list[float] = []
    for day, seconds in await session.execute(stmt):
        value = max(float(seconds or 0), 0.0)
        per_day[day].append(value)
        every.append(value)
    days = p.days()
    stats = {d: _summary(per_day.get(d, [])) for d in days}
    return {"median_seconds": [stats[d]["median"] for d in days],
            "avg_seconds": [stats[d]["avg"] for d in days],
            "count": [stats[d]["count"] for d in days], "overall": _summary(every)}


async def deflection(session: AsyncSession, dialect: str, p: Period) -> dict[str, Any]:
    """Per day a conversation was created: resolved with only bot/system replies
    (self-service) vs answered by an agent (handed off)."""
    def replied(*senders: str) -> Any:
        return exists().where(Message.conversation_id == Conversation.id,
                              Message.sender_type.in_(senders), Message.is_note.is_(False))

    by_agent = replied(SenderType.agent)
    self_served = and_(Conversation.status == "resolved",
                       replied(SenderType.bot, SenderType.system), not_(by_agent))
    sub = (select(local_day(dialect, Conversation.created_at, p).label("day"),
                  case((self_served, 1), else_=0).label("ss"),
                  case((by_agent, 1), else_=0).label("ho"))
           .where(_in(Conversation.created_at, p)).subquery())
    rows = await session.execute(select(sub.c.day, func.sum(sub.c.ss), func.sum(sub.c.ho))
                                 .group_by(sub.c.day))
    found = {day: (int(ss or 0), int(ho or 0)) for day, ss, ho in rows}
    days = p.days()
    ss_days = [found.get(d, (0, 0))[0] for d in days]
    ho_days = [found.get(d, (0, 0))[1] for d in days]
    total_ss, total_ho = sum(ss_days), sum(ho_days)
    rate = round(total_ss / (total_ss + total_ho), 4) if total_ss + total_ho else None
    return {"self_service": ss_days, "handed_off": ho_days,
            "totals": {"self_service": total_ss, "handed_off": total_ho, "rate": rate}}


async def satisfaction(session: AsyncSession, dialect: str, p: Period) -> dict[str, Any]:
    """Average follow-up satisfaction (1–5) of cases, per day it was recorded (the case's
    close, else its last update)."""
    score = Case.follow_up["satisfaction"].as_float()
    when = func.coalesce(Case.closed_at, Case.updated_at, type_=UTCDateTime())
    sub = (select(local_day(dialect, when, p).label("day"), score.label("score"))
           .where(score.is_not(None), _in(when, p)).subquery())
    rows = await session.execute(select(sub.c.day, func.sum(sub.c.score), func.count())
                                 .group_by(sub.c.day))
    found = {day: (float(total or 0), int(n)) for day, total, n in rows}
    days = p.days()
    avg = [round(found[d][0] / found[d][1], 2) if d in found else None for d in days]
    total = sum(v[0] for v in found.values())
    count = sum(v[1] for v in found.values())
    return {"average": avg, "responses": [found.get(d, (0, 0))[1] for d in days],
            "overall": round(total / count, 2) if count else None, "count": count}


async def overview(session: AsyncSession, p: Period) -> dict[str, Any]:
    dialect = session.get_bind().dialect.name
    days = p.days()
    by_channel = await volume(session, dialect, p)
    return {
        "from": p.start.isoformat(), "to": p.end.isoformat(), "timezone": p.zone.key,
        "days": days,
        "volume": {"channels": {ch: [counts.get(d, 0) for d in days]
                                for ch, counts in sorted(by_channel.items())},
                   "total": sum(sum(c.values()) for c in by_channel.values())},
        "first_response": await durations(session, dialect, p, Conversation.first_response_at,
                                          Conversation.created_at),
        "resolution": await durations(session, dialect, p, Conversation.resolved_at,
                                      Conversation.resolved_at),
        "deflection": await deflection(session, dialect, p),
        "satisfaction": await satisfaction(session, dialect, p),
    }


async def viewer_zone(session: AsyncSession, principal: Principal, tz: str | None) -> ZoneInfo:
    if tz:
        return check_zone(tz)
    user = await session.get(User, principal.user_id) if principal.user_id else None
    return check_zone(user.timezone if user else get_settings().default_timezone)


@router.get("/overview", summary="Volume, response and resolution times, deflection and "
            "satisfaction per day")
async def report_overview(
    session: SessionDep, principal: Supervisors,
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    tz: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """Days run from ``from`` to ``to`` inclusive (default: the last 30 days) in ``tz``
    (default: the user's time zone). Durations are in seconds; lists follow ``days``."""
    zone = await viewer_zone(session, principal, tz)
    return await overview(session, check_period(start, end, zone))
