"""The event feed: business events from other systems land on the customer timeline.

A batch is validated item by item; good items are stored (exactly once per
``(source, id)``), bad ones are reported by index. Lookups are done per batch, not per
item, so that ingest stays close to the speed of a raw insert.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, insert, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.customers.identities import normalize_identity
from omnidesk.events.schemas import EventIn
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


@dataclass
class ItemResult:
    index: int
    status: str  # created | duplicate | error
    id: str | None = None
    contact_id: str | None = None
    outcome: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "status": self.status}
        if self.status == "error":
            out["errors"] = self.errors
        else:
            out.update(id=self.id, contact_id=self.contact_id, outcome=self.outcome)
        return out


def infer_outcome(event_type: str) -> str:
    last = event_type.replace("-", ".").replace("_", ".").rsplit(".", 1)[-1].lower()
    return SUFFIX_OUTCOMES.get(last, Outcome.info)


def _validate(index: int, raw: Any, region: str) -> tuple[EventIn | None, dict[str, str],
                                                           ItemResult | None]:
    try:
        event = EventIn.model_validate(raw)
    except ValidationError as exc:
        errors = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                  for e in exc.errors()]
        return None, {}, ItemResult(index, "error", errors=errors)
    try:
        ids = {k: normalize_identity(k, v, region) for k, v in event.contact.items()}
    except OmnideskError as exc:
        field_name = "contact." + str(exc.extra.get("field", ""))
        return None, {}, ItemResult(index, "error",
                                    errors=[{"field": field_name, "message": exc.detail}])
    return event, ids, None


async def _existing_keys(session: AsyncSession, keys: list[tuple[str, str]]) -> dict[
        tuple[str, str], Activity]:
    found: dict[tuple[str, str], Activity] = {}
    for start in range(0, len(keys), 400):
        chunk = keys[start:start + 400]
        rows = await session.scalars(
            select(Activity).where(tuple_(Activity.source, Activity.external_id).in_(chunk))
        )
        for a in rows:
            found[(str(a.source), str(a.external_id))] = a
    return found


async def _contacts_for(session: AsyncSession, wanted: list[tuple[str, str]]) -> dict[
        tuple[str, str], uuid.UUID]:
    by_kind: dict[str, set[str]] = defaultdict(set)
    for kind, value in wanted:
        by_kind[kind].add(value)
    found: dict[tuple[str, str], uuid.UUID] = {}
    clauses = [and_(Identity.kind == k, Identity.value.in_(sorted(v))) for k, v in by_kind.items()]
    if clauses:
        rows = await session.execute(
            select(Identity.kind, Identity.value, Identity.contact_id).where(or_(*clauses))
        )
        for kind, value, contact_id in rows:
            found[(kind, value)] = contact_id
    return found


@dataclass
class _Batch:
    """Rows of one batch, written with one bulk insert per table."""

    contacts: list[dict[str, Any]] = field(default_factory=list)
    identities: list[dict[str, Any]] = field(default_factory=list)
    activities: list[dict[str, Any]] = field(default_factory=list)


def _resolve(batch: _Batch, ids: dict[str, str], name: str | None,
             known: dict[tuple[str, str], uuid.UUID]) -> uuid.UUID:
    contact_id = next((known[(k, v)] for k, v in ids.items() if (k, v) in known), None)
    if contact_id is None:
        contact_id = new_id()
        now = utcnow()
        batch.contacts.append({"id": contact_id, "name": name,
                               "search_key": search_key(name or ""), "tags": [],
                               "attributes": {}, "created_at": now, "updated_at": now})
    for kind, value in ids.items():
        if (kind, value) not in known:
            batch.identities.append({"id": new_id(), "contact_id": contact_id, "kind": kind,
                                     "value": value, "verified": False,
                                     "created_at": utcnow()})
            known[(kind, value)] = contact_id
    return contact_id


async def ingest(session: AsyncSession, items: list[Any], region: str) -> list[ItemResult]:
    """Store the valid events of a batch; report every item's fate by index."""
    results: list[ItemResult | None] = [None] * len(items)
    valid: list[tuple[int, EventIn, dict[str, str]]] = []
    for index, raw in enumerate(items):
        event, ids, error = _validate(index, raw, region)
        if error is not None:
            results[index] = error
        elif event is not None:
            valid.append((index, event, ids))
    existing = await _existing_keys(session, sorted({(e.source, e.id) for _, e, _ in valid}))
    seen: dict[tuple[str, str], ItemResult] = {}
    known = await _contacts_for(session, [kv for _, _, ids in valid for kv in ids.items()])
    declared = {t.type: t.outcome for t in await session.scalars(select(EventType))}
    wanted = await interested(session, "event.received", {})
    batch = _Batch()
    for index, event, ids in valid:
        key = (event.source, event.id)
        if key in existing:
            a = existing[key]
            results[index] = ItemResult(index, "duplicate", str(a.id), str(a.contact_id),
                                        a.outcome)
            continue
        if key in seen:
            first = seen[key]
            results[index] = ItemResult(index, "duplicate", first.id, first.contact_id,
                                        first.outcome)
            continue
        contact_id = _resolve(batch, ids, event.contact_name, known)
        outcome = event.outcome or declared.get(event.type) or infer_outcome(event.type)
        activity_id = new_id()
        now = utcnow()
        batch.activities.append({
            "id": activity_id, "contact_id": contact_id, "organisation_id": None,
            "kind": ActivityKind.event.value, "channel": event.channel, "conversation_id": None,
            "source": event.source, "external_id": event.id, "type": event.type,
            "outcome": outcome, "summary": event.summary, "data": event.data,
            "occurred_at": event.occurred_at, "created_at": now})
        result = ItemResult(index, "created", str(activity_id), str(contact_id), outcome)
        results[index] = seen[key] = result
        if wanted:
            await emit(session, "event.received", {
                "event": {"id": str(activity_id), "source": event.source,
                          "external_id": event.id, "type": event.type, "outcome": outcome,
                          "contact_id": str(contact_id), "summary": event.summary,
                          "data": event.data, "occurred_at": event.occurred_at.isoformat()}})
    await _write(session, batch)
    return [r for r in results if r is not None]


async def _write(session: AsyncSession, batch: _Batch) -> None:
    for model, rows in ((Contact, batch.contacts), (Identity, batch.identities),
                        (Activity, batch.activities)):
        if rows:  # Core inserts: one executemany per table, no ORM bookkeeping
            await session.execute(insert(model.__table__), rows)  # type: ignore[arg-type]
