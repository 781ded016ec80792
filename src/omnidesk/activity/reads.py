"""Reading several small result sets in one round trip.

A page like the screen pop needs a handful of small, unrelated SELECTs. Each round trip
costs more than the rows it returns (driver, SQLAlchemy execution, on SQLite a hop to the
driver's thread), so :func:`tagged_union` runs them as ONE statement: each part is a
subquery (its WHERE / ORDER BY / LIMIT stay its own), tagged with its number and the rank
of the row within it, padded with typed NULLs to a common set of columns, all in one
``UNION ALL`` ordered by (part, rank). The rows are plain Core rows: no ORM entities, no
identity map.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Row,
    Select,
    cast,
    func,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

Order = tuple[tuple[str, bool], ...]  # (column name, descending) within a part
Part = tuple[str, Select[Any], Order]  # name, SELECT, the order of its rows


def tagged_union(parts: list[Part]) -> CompoundSelect[Any]:
    """``SELECT part_, rank_, <every column of every part>`` for each part, the columns it
    lacks as typed NULLs, in one UNION ALL ordered by (part_, rank_). A column name must
    mean the same (and have the same type) in every part that selects it."""
    subs = [stmt.subquery() for _, stmt, _ in parts]
    types: dict[str, TypeEngine[Any]] = {}
    for sub in subs:
        for col in sub.c:
            types.setdefault(col.name, col.type)
    branches = []
    for number, ((_, _, order), sub) in enumerate(zip(parts, subs, strict=True)):
        by = [sub.c[name].desc() if desc else sub.c[name] for name, desc in order]
        rank = func.row_number().over(order_by=by) if by else literal_column("0")
        branches.append(select(
            literal_column(str(number)).label("part_"), rank.label("rank_"),
            *(sub.c[n] if n in sub.c else cast(null(), type_).label(n)
              for n, type_ in types.items())))
    return union_all(*branches).order_by("part_", "rank_")


def split_parts(rows: Any, names: list[str]) -> dict[str, list[Row[Any]]]:
    """The rows of a :func:`tagged_union` result by part name, in order."""
    parts: dict[str, list[Row[Any]]] = {name: [] for name in names}
    for row in rows:
        parts[names[row[0]]].append(row)
    return parts


async def flush_pending(session: AsyncSession) -> None:
    """Flush what this transaction changed, as an ORM query would (autoflush), before a
    Core read; nothing (and no round trip) when there is nothing to flush."""
    sync = session.sync_session
    if sync.autoflush and (sync.new or sync.dirty or sync.deleted):
        await session.flush()
