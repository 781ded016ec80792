"""The event feed: business events from other systems land on the customer timeline.

A batch is validated as a whole (item by item only when some item is bad); good items are
stored (exactly once per ``(source, id)``), bad ones are reported by index. Lookups are
done per batch, not per item (one statement each: stored events, known identities,
declared types), and the rows are written with one Core ``executemany`` per table, so
that ingest stays close to the speed of a raw insert of the same rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.customers.identities import normalize_identity
from omnidesk.events.schemas import EventIn
from omnidesk.kit.db import rows_for_pairs
from omnidesk.kit.errors import OmnideskError
from omnidesk.kit.ids import new_id
from omnidesk.kit.outbox import emit, interested
from omnidesk.kit.text import search_key
from omnidesk.kit.time import utcnow
from omnidesk.models import Activity, Contact, EventType, Identity
from omnidesk.models.enums import ActivityKind, Outcome

SUFFIX_OUTCOMES = {
    "failed": Outcome.failed, "failure": Outcome.failed, "error": Outcome.failed,
    "declined": Outcome.failed, "rejected": Outcome.failed,
    "abandoned": Outcome.abandoned, "cancelled": Outcome.abandoned,
    "expired": Outcome.abandoned,
    "succeeded": Outcome.succeeded, "completed": Outcome.succeeded,
    "paid": Outcome.succeeded, "delivered": Outcome.succeeded,
}


@dataclass(slots=True)
class ItemResult:
    index: int
    status: str  # created | duplicate | error
    id: str | None = None
    contact_id: str | None = None
    outcome: str | None = None
    errors: Sequence[dict[str, Any]] = ()

    def as_dict(self) -> dict[str, Any]:
        if self.status == "error":
            return {"index": self.index, "status": self.status, "errors": list(self.errors)}
        return {"index": self.index, "status": self.status, "id": self.id,
                "contact_id": self.contact_id, "outcome": self.outcome}


def infer_outcome(event_type: str) -> str:
    last = event_type.replace("-", ".").replace("_", ".").rsplit(".", 1)[-1].lower()
    return SUFFIX_OUTCOMES.get(last, Outcome.info)


_BATCH = TypeAdapter(list[EventIn])
_ONE = TypeAdapter(EventIn)


def _errors(exc: ValidationError) -> list[dict[str, str]]:
    return [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in exc.errors()]


@dataclass
class _Valid:
    """The valid items of a batch: their indexes, and by index the event and its canonical
    identities (parallel lists rather than a tuple per item)."""

    indexes: list[int]
    events: list[EventIn | None]
    identities: list[dict[str, str] | None]


def _validate(items: list[Any], region: str, results: list[ItemResult | None]) -> _Valid:
    """The valid events with their canonical identities; the bad ones go to ``results``.

    The whole list is validated in one call (the common case: every item is good); when
    that fails, item by item, so that each bad item is reported with its own errors."""
    try:
        events: list[EventIn | None] = list(_BATCH.validate_python(items))
    except ValidationError:
        events = []
        for index, raw in enumerate(items):
            try:
                events.append(_ONE.validate_python(raw))
            except ValidationError as exc:
                events.append(None)
                results[index] = ItemResult(index, "error", errors=_errors(exc))
    valid = _Valid([], events, [None] * len(events))
    for index, event in enumerate(events):
        if event is None:
            continue
        try:
            ids = {k: normalize_identity(k, v, region) for k, v in event["contact"].items()}
        except OmnideskError as exc:
            field_name = "contact." + str(exc.extra.get("field", ""))
            results[index] = ItemResult(index, "error", errors=[
                {"field": field_name, "message": exc.detail}])
            continue
        valid.indexes.append(index)
        valid.identities[index] = ids
    return valid


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def _existing_keys(session: AsyncSession, keys: set[tuple[str, str]]) -> dict[
        tuple[str, str], ItemResult]:
    """The events of this batch stored before: ``(source, id)`` → its result."""
    table = Activity.__table__
    a = table.c
    rows = await session.execute(*rows_for_pairs(
        _dialect(session), table, a.source, a.external_id, sorted(keys),
        [a.source, a.external_id, a.id, a.contact_id, a.outcome]))
    return {(s, e): ItemResult(0, "duplicate", str(id_), str(contact_id), str(outcome))
            for s, e, id_, contact_id, outcome in rows}


async def _contacts_for(session: AsyncSession, wanted: set[tuple[str, str]]) -> dict[
        tuple[str, str], uuid.UUID]:
    """The contact of each known ``(kind, value)`` identity."""
    table = Identity.__table__
    i = table.c
    rows = await session.execute(*rows_for_pairs(
        _dialect(session), table, i.kind, i.value, sorted(wanted),
        [i.kind, i.value, i.contact_id]))
    return {(kind_, value_): contact_id for kind_, value_, contact_id in rows}


@dataclass
class _Batch:
    """Rows of one batch, written with one bulk insert per table."""

    now: datetime
    contacts: list[dict[str, Any]] = field(default_factory=list)
    identities: list[dict[str, Any]] = field(default_factory=list)
    activities: list[dict[str, Any]] = field(default_factory=list)


def _resolve(batch: _Batch, ids: dict[str, str], name: str | None,
             known: dict[tuple[str, str], uuid.UUID]) -> uuid.UUID:
    """The contact of an event: the one its first known identity belongs to, or a new one.
    Identities not yet known are added to that contact."""
    contact_id = None
    for kv in ids.items():
        contact_id = known.get(kv)
        if contact_id is not None:
            break
    if contact_id is None:
        contact_id = new_id()
        batch.contacts.append({"id": contact_id, "name": name,
                               "search_key": search_key(name or ""), "tags": [],
                               "attributes": {}, "created_at": batch.now,
                               "updated_at": batch.now})
    for kv in ids.items():
        if kv not in known:
            batch.identities.append({"id": new_id(), "contact_id": contact_id, "kind": kv[0],
                                     "value": kv[1], "verified": False,
                                     "created_at": batch.now})
            known[kv] = contact_id
    return contact_id


async def ingest(session: AsyncSession, items: list[Any], region: str) -> list[ItemResult]:
    """Store the valid events of a batch; report every item's fate by index."""
    results: list[ItemResult | None] = [None] * len(items)
    valid = _validate(items, region, results)
    if valid.indexes:
        await _store(session, valid, results)
    return [r for r in results if r is not None]


async def _store(session: AsyncSession, valid: _Valid,
                 results: list[ItemResult | None]) -> None:
    events = [e for e in valid.events if e is not None]
    seen = await _existing_keys(session, {(e["source"], e["id"]) for e in events})
    known = await _contacts_for(session, {kv for ids in valid.identities if ids is not None
                                          for kv in ids.items()})
    declared: dict[str, str] = {
        t: o for t, o in await session.execute(select(EventType.type, EventType.outcome))}
    wanted = await interested(session, "event.received", {})
    batch = _Batch(now=utcnow())
    outcomes: dict[str, str] = {}  # per type: declared, else inferred from its name
    contact_texts: dict[uuid.UUID, str] = {}
    kind = ActivityKind.event.value
    for index in valid.indexes:
        event, ids = valid.events[index], valid.identities[index]
        assert event is not None and ids is not None
        key = (event["source"], event["id"])
        first = seen.get(key)  # stored before, or earlier in this batch
        if first is not None:
            results[index] = ItemResult(index, "duplicate", first.id, first.contact_id,
                                        first.outcome)
            continue
        contact_id = _resolve(batch, ids, event.get("contact_name"), known)
        contact_text = contact_texts.get(contact_id)
        if contact_text is None:
            contact_text = contact_texts[contact_id] = str(contact_id)
        type_ = event["type"]
        outcome = event.get("outcome") or outcomes.get(type_)
        if outcome is None:
            outcome = outcomes[type_] = declared.get(type_) or infer_outcome(type_)
        outcome = str(outcome)  # a plain string, not the enum member
        summary, data = event.get("summary", ""), event.get("data", {})
        activity_id = new_id()
        batch.activities.append({
            "id": activity_id, "contact_id": contact_id, "organisation_id": None,
            "kind": kind, "channel": event.get("channel"), "conversation_id": None,
            "source": key[0], "external_id": key[1], "type": type_, "outcome": outcome,
            "summary": summary, "data": data, "occurred_at": event["occurred_at"],
            "created_at": batch.now})
        result = ItemResult(index, "created", str(activity_id), contact_text, outcome)
        results[index] = seen[key] = result
        if wanted:
            await emit(session, "event.received", {
                "event": {"id": result.id, "source": key[0], "external_id": key[1],
                          "type": type_, "outcome": outcome, "contact_id": contact_text,
                          "summary": summary, "data": data,
                          "occurred_at": event["occurred_at"].isoformat()}})
    await _write(session, batch)


async def _write(session: AsyncSession, batch: _Batch) -> None:
    """One Core ``executemany`` per table on the session's connection (no ORM
    bookkeeping): the same statements as a raw insert of these rows."""
    conn = await session.connection()
    for model, rows in ((Contact, batch.contacts), (Identity, batch.identities),
                        (Activity, batch.activities)):
        if rows:
            await conn.execute(insert(model.__table__), rows)  # type: ignore[arg-type]
