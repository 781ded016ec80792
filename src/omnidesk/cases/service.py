"""Cases as closed loops: discovery → confirmed → solution → execution → follow-up →
closed, with explicit, recorded transitions; work orders for back-office departments."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.activity.service import add_activity, short
from omnidesk.cases.schemas import (
    STAGES,
    CaseCreate,
    CaseUpdate,
    FollowUp,
    Stage,
    WorkOrderAction,
    WorkOrderCreate,
)
from omnidesk.customers.service import get_contact
from omnidesk.kit.errors import Conflict, NotFound, ValidationFailed
from omnidesk.kit.ids import new_id
from omnidesk.kit.outbox import emit
from omnidesk.kit.time import utcnow
from omnidesk.models import (
    Activity,
    AuditEntry,
    Case,
    CaseLink,
    CaseTransition,
    Conversation,
    Department,
    Membership,
    Organisation,
    User,
    WorkOrder,
)
from omnidesk.sla import service as sla

OPEN_WORK = ("open", "accepted")


def audit(session: AsyncSession, entity: str, entity_id: uuid.UUID, action: str, actor: str,
          **data: Any) -> None:
    session.add(AuditEntry(entity=entity, entity_id=entity_id, action=action, actor=actor,
                           data=data))


def case_json(c: Case) -> dict[str, Any]:
    def iso(v: Any) -> str | None:
        return v.isoformat() if v is not None else None

    return {
        "id": str(c.id), "number": c.number, "contact_id": str(c.contact_id),
        "organisation_id": str(c.organisation_id) if c.organisation_id else None,
        "type": c.type, "priority": c.priority, "product": c.product, "title": c.subject,
        "subject": c.subject,
        "description": c.description, "channel": c.channel, "stage": c.stage,
        "status": c.status, "assignee_id": str(c.assignee_id) if c.assignee_id else None,
        "team_id": str(c.team_id) if c.team_id else None, "tier": c.tier,
        "flagged": c.flagged, "waiting_on_customer": c.waiting_on_customer,
        "escalation_level": c.escalation_level,
        "reopen_count": c.reopen_count, "follow_up": c.follow_up, "source": c.source,
        "created_by": c.created_by, "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at), "closed_at": iso(c.closed_at),
    }


def timeline_entry(session: AsyncSession, case: Case, type_: str, summary: str,
              data: dict[str, Any]) -> None:
    add_activity(session, contact_id=case.contact_id, organisation_id=case.organisation_id,
                 kind="case", channel=case.channel, source="case",
                 external_id=f"{case.id}:{new_id()}", type=type_, outcome="info",
                 summary=short(summary), data={"case_id": str(case.id),
                                               "number": case.number, **data})


async def get_case(session: AsyncSession, case_id: uuid.UUID) -> Case:
    case = await session.get(Case, case_id)
    if case is None:
        raise NotFound(f"case {case_id} not found")
    return case


async def _organisation_and_tier(session: AsyncSession, contact_id: uuid.UUID,
                                 org_id: uuid.UUID | None) -> tuple[uuid.UUID | None, str | None]:
    if org_id is not None:
        org = await session.get(Organisation, org_id)
        if org is None:
            raise ValidationFailed(f"organisation {org_id} not found", field="organisation_id")
        member = await session.scalar(select(Membership.id).where(
            Membership.organisation_id == org_id, Membership.contact_id == contact_id))
        if member is None:
            raise ValidationFailed("the contact is not a member of that organisation",
                                   field="organisation_id")
        return org.id, org.tier
    rows = list(await session.execute(
        select(Organisation.id, Organisation.tier).join(
            Membership, Membership.organisation_id == Organisation.id)
        .where(Membership.contact_id == contact_id)))
    if len(rows) == 1:
        return rows[0][0], rows[0][1]
    return None, None


async def _check_user(session: AsyncSession, user_id: uuid.UUID | None, field: str) -> None:
    if user_id is not None and await session.get(User, user_id) is None:
        raise ValidationFailed(f"user {user_id} not found", field=field)


async def do_create_case(
    session: AsyncSession, data: CaseCreate, *, actor: str, source: str = "agent",
    channel: str | None = None,
) -> Case:
    contact = await get_contact(session, data.contact_id)
    await _check_user(session, data.assignee_id, "assignee_id")
    org_id, org_tier = await _organisation_and_tier(session, contact.id, data.organisation_id)
    case_id = new_id()
    case = Case(
        id=case_id, number=f"C{utcnow():%y%m%d}-{case_id.hex[-6:].upper()}",
        contact_id=contact.id, organisation_id=org_id, type=data.type, priority=data.priority,
        product=data.product, subject=data.subject, description=data.description,
        channel=channel, assignee_id=data.assignee_id, team_id=data.team_id,
        tier=org_tier or contact.tier or (f"vip{contact.vip_level}" if contact.vip_level
                                          else None),
        source=source, created_by=actor,
    )
    session.add(case)
    await session.flush()
    session.add(CaseTransition(case_id=case.id, from_stage=None, to_stage=case.stage,
                               actor=actor, reason="created"))
    audit(session, "case", case.id, "created", actor, source=source, type=data.type)
    for conv_id in data.conversation_ids:
        await do_link(session, case, conversation_id=conv_id, activity_id=None, actor=actor)
    for act_id in data.activity_ids:
        await do_link(session, case, conversation_id=None, activity_id=act_id, actor=actor)
    timeline_entry(session, case, "case.created", f"{case.number} {case.subject}",
              {"stage": case.stage, "type": case.type})
    await sla.start(session, case_subject(case),
                    ["resolution", *[sla.STAGE_PREFIX + st for st in STAGES[1:-1]]],
                    at=case.created_at)
    await emit(session, "case.created", {"case": case_json(case)})
    return case


def case_subject(case: Case) -> sla.Subject:
    return sla.Subject(kind="case", id=case.id, tier=case.tier, priority=case.priority,
                       case_type=case.type, channel=case.channel)


async def do_link(session: AsyncSession, case: Case, *, conversation_id: uuid.UUID | None,
                  activity_id: uuid.UUID | None, actor: str) -> CaseLink:
    if (conversation_id is None) == (activity_id is None):
        raise ValidationFailed("link exactly one conversation_id or activity_id")
    if conversation_id is not None:
        conv = await session.get(Conversation, conversation_id)
        if conv is None or conv.contact_id != case.contact_id:
            raise ValidationFailed("conversation not found for this case's contact",
                                   field="conversation_id")
        kind, target = "conversation", conversation_id
        case.channel = case.channel or conv.channel
    else:
        act = await session.get(Activity, activity_id)
        if act is None or act.contact_id != case.contact_id:
            raise ValidationFailed("activity not found for this case's contact",
                                   field="activity_id")
        kind, target = "activity", act.id
    existing = await session.scalar(select(CaseLink).where(
        CaseLink.case_id == case.id, CaseLink.kind == kind, CaseLink.target_id == target))
    if existing is not None:
        return existing
    link = CaseLink(case_id=case.id, kind=kind, target_id=target)
    session.add(link)
    audit(session, "case", case.id, "linked", actor, kind=kind, target_id=str(target))
    await session.flush()
    return link


async def _open_work_orders(session: AsyncSession, case_id: uuid.UUID) -> int:
    return int(await session.scalar(select(func.count()).select_from(WorkOrder).where(
        WorkOrder.case_id == case_id, WorkOrder.status.in_(OPEN_WORK))) or 0)


def _check_move(case: Case, to: Stage, reason: str | None) -> list[str]:
    """The stages skipped by this move; raises when the move is not allowed as asked."""
    if case.stage == to:
        raise Conflict(f"case is already in stage {to}", rule="already-in-stage")
    current, target = STAGES.index(case.stage), STAGES.index(to)
    if case.stage == Stage.closed:
        if not reason:
            raise Conflict("reopening a case needs a reason", rule="reopen-needs-reason")
        return []
    skipped = STAGES[current + 1:target] if target > current + 1 else []
    if skipped and not reason:
        raise Conflict(f"skipping {', '.join(skipped)} needs a recorded reason",
                       rule="skip-needs-reason", skipped=skipped)
    if target < current and not reason:
        raise Conflict("moving a case back needs a reason", rule="back-needs-reason")
    return skipped


async def do_transition(session: AsyncSession, case: Case, to: Stage, *, actor: str,
                        reason: str | None, follow_up: FollowUp | None) -> Case:
    skipped = _check_move(case, to, reason)
    if to in (Stage.follow_up, Stage.closed) and case.stage != Stage.closed:
        open_orders = await _open_work_orders(session, case.id)
        if open_orders:
            raise Conflict(f"{open_orders} work order(s) still open; they must be done or "
                           "rejected before follow-up", rule="open-work-orders")
    if follow_up is not None:
        case.follow_up = {**follow_up.model_dump(mode="json"), "recorded_by": actor,
                          "recorded_at": utcnow().isoformat()}
    if to == Stage.closed:
        _check_follow_up(case)
    previous = case.stage
    reopened = previous == Stage.closed
    case.stage = to
    case.status = "closed" if to == Stage.closed else "open"
    case.closed_at = utcnow() if to == Stage.closed else None
    if reopened:
        case.reopen_count += 1
        case.follow_up = {}
    case.updated_at = utcnow()
    await _sla_on_stage(session, case, reopened)
    session.add(CaseTransition(case_id=case.id, from_stage=previous, to_stage=to,
                               skipped=skipped, actor=actor, reason=reason))
    action = "reopened" if reopened else "stage_changed"
    audit(session, "case", case.id, action, actor, from_stage=previous, to_stage=to,
          skipped=skipped, reason=reason)
    timeline_entry(session, case, f"case.{action}", f"{case.number}: {previous} → {to}",
              {"from": previous, "to": to, "reason": reason})
    await emit(session, f"case.{action}", {"case": case_json(case), "from": previous})
    return case


async def _sla_on_stage(session: AsyncSession, case: Case, reopened: bool) -> None:
    """Milestones up to the new stage are met; closing meets the resolution target."""
    if reopened:
        await sla.restart(session, case.id, ["resolution"])
    reached = STAGES[: STAGES.index(case.stage) + 1]
    met = [sla.STAGE_PREFIX + st for st in reached]
    if case.stage == Stage.closed:
        met.append("resolution")
    await sla.stop(session, case.id, met)


def _check_follow_up(case: Case) -> None:
    fu = case.follow_up or {}
    outcome = fu.get("outcome")
    if not outcome:
        raise Conflict("a case is closed only with a follow-up outcome (customer confirmed, "
                       "a satisfaction answer, or failed contact attempts)",
                       rule="close-needs-follow-up")
    if outcome == "satisfaction" and fu.get("satisfaction") is None:
        raise Conflict("a satisfaction follow-up needs the score",
                       rule="close-needs-follow-up")
    if outcome == "failed_contact" and len(fu.get("attempts") or []) < 1:
        raise Conflict("document the failed contact attempts", rule="close-needs-follow-up")


async def do_update_case(session: AsyncSession, case: Case, data: CaseUpdate,
                         actor: str) -> Case:
    changes = data.model_dump(exclude_unset=True)
    if "assignee_id" in changes:
        await _check_user(session, data.assignee_id, "assignee_id")
    for key, value in changes.items():
        setattr(case, key, value)
    case.updated_at = utcnow()
    if "waiting_on_customer" in changes:
        await sla.set_paused(session, case.id, bool(case.waiting_on_customer))
    audit(session, "case", case.id, "updated", actor,
          **{k: str(v) if isinstance(v, uuid.UUID) else v for k, v in changes.items()})
    return case


async def do_create_department(session: AsyncSession, name: str,
                               team_id: uuid.UUID | None) -> Department:
    if await session.scalar(select(Department.id).where(Department.name == name)):
        raise Conflict(f"a department named {name!r} exists")
    dept = Department(name=name, team_id=team_id)
    session.add(dept)
    await session.flush()
    return dept


async def do_dispatch(session: AsyncSession, case: Case, data: WorkOrderCreate,
                      actor: str) -> WorkOrder:
    if case.status == "closed":
        raise Conflict("the case is closed; reopen it first")
    if await session.get(Department, data.department_id) is None:
        raise ValidationFailed("department not found", field="department_id")
    await _check_user(session, data.assignee_id, "assignee_id")
    order = WorkOrder(case_id=case.id, department_id=data.department_id,
                      instructions=data.instructions, assignee_id=data.assignee_id,
                      due_at=data.due_at, created_by=actor)
    session.add(order)
    await session.flush()
    audit(session, "work_order", order.id, "dispatched", actor, case_id=str(case.id))
    timeline_entry(session, case, "work_order.dispatched", short(data.instructions, 120),
              {"work_order_id": str(order.id), "department_id": str(data.department_id)})
    await emit(session, "work_order.dispatched", {"work_order": work_order_json(order)})
    return order


async def do_work_order_action(session: AsyncSession, order: WorkOrder, data: WorkOrderAction,
                               actor: str, actor_id: uuid.UUID | None) -> WorkOrder:
    allowed = {"accept": ("open",), "done": ("open", "accepted"),
               "reject": ("open", "accepted")}[data.action]
    if order.status not in allowed:
        raise Conflict(f"a work order that is {order.status} cannot be {data.action}ed")
    if data.action == "reject" and not data.reason:
        raise ValidationFailed("rejecting needs a reason", field="reason")
    if data.action == "done" and not data.result:
        raise ValidationFailed("a done work order needs its result", field="result")
    order.status = {"accept": "accepted", "done": "done", "reject": "rejected"}[data.action]
    if data.action == "accept" and order.assignee_id is None:
        order.assignee_id = actor_id
    order.result = data.result if data.action == "done" else order.result
    order.reject_reason = data.reason if data.action == "reject" else order.reject_reason
    order.updated_at = utcnow()
    audit(session, "work_order", order.id, order.status, actor, result=data.result,
          reason=data.reason)
    case = await get_case(session, order.case_id)
    timeline_entry(session, case, f"work_order.{order.status}",
              short(data.result or data.reason or order.status, 200),
              {"work_order_id": str(order.id)})
    await emit(session, f"work_order.{order.status}", {"work_order": work_order_json(order)})
    return order


def work_order_json(o: WorkOrder) -> dict[str, Any]:
    return {
        "id": str(o.id), "case_id": str(o.case_id), "department_id": str(o.department_id),
        "instructions": o.instructions,
        "assignee_id": str(o.assignee_id) if o.assignee_id else None,
        "due_at": o.due_at.isoformat() if o.due_at else None, "status": o.status,
        "result": o.result, "reject_reason": o.reject_reason, "created_by": o.created_by,
        "created_at": o.created_at.isoformat(), "updated_at": o.updated_at.isoformat(),
    }
