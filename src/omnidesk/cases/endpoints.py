"""REST API for cases, departments and work orders."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from omnidesk.auth.deps import AdminOnly, ReadConversations, WriteConversations
from omnidesk.auth.service import Principal
from omnidesk.cases import service
from omnidesk.cases.escalations import do_escalate
from omnidesk.cases.schemas import (
    CaseCreate,
    CaseUpdate,
    DepartmentCreate,
    FromConversation,
    LinkIn,
    Transition,
    WorkOrderAction,
    WorkOrderCreate,
)
from omnidesk.conversations.service import get_conversation
from omnidesk.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from omnidesk.kit.idempotency import once
from omnidesk.kit.web import SessionDep, decode_cursor, encode_cursor
from omnidesk.models import AuditEntry, Case, CaseLink, CaseTransition, Department, WorkOrder
from omnidesk.sla.service import targets_of

router = APIRouter(prefix="/api/v1", tags=["cases"])


async def _detail(session: SessionDep, case: Case) -> dict[str, Any]:
    links = await session.scalars(select(CaseLink).where(CaseLink.case_id == case.id))
    transitions = await session.scalars(select(CaseTransition).where(
        CaseTransition.case_id == case.id).order_by(CaseTransition.at))
    orders = await session.scalars(select(WorkOrder).where(
        WorkOrder.case_id == case.id).order_by(WorkOrder.created_at))
    return {
        **service.case_json(case),
        "links": [{"kind": lk.kind, "id": str(lk.target_id)} for lk in links],
        "transitions": [{"from": t.from_stage, "to": t.to_stage, "skipped": t.skipped,
                         "actor": t.actor, "reason": t.reason, "at": t.at.isoformat()}
                        for t in transitions],
        "work_orders": [service.work_order_json(o) for o in orders],
        "sla": await targets_of(session, case.id),
    }


@router.post("/cases", status_code=201)
async def create_case(
    body: CaseCreate, request: Request, session: SessionDep, principal: WriteConversations,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> Any:
    """Open a case (a retry with the same ``Idempotency-Key`` opens nothing new)."""

    async def create() -> dict[str, Any]:
        case = await service.do_create_case(session, body, actor=principal.label)
        return await _detail(session, case)

    return await once(session, principal.label, idempotency_key, request.url.path, body,
                      create)


@router.post("/conversations/{conversation_id}/case", status_code=201,
             summary="Open a case from a conversation in one click")
async def case_from_conversation(conversation_id: uuid.UUID, body: FromConversation,
                                 session: SessionDep,
                                 principal: WriteConversations) -> dict[str, Any]:
    conv = await get_conversation(session, conversation_id, principal)
    data = CaseCreate(contact_id=conv.contact_id, type=body.type,
                      subject=body.subject or conv.subject or f"{conv.channel} conversation",
                      priority=body.priority, product=body.product,
                      assignee_id=principal.user_id, conversation_ids=[conv.id])
    case = await service.do_create_case(session, data, actor=principal.label,
                                        channel=conv.channel)
    return await _detail(session, case)


@router.get("/cases")
async def list_cases(
    session: SessionDep, _: ReadConversations, status: str | None = None,
    stage: str | None = None, contact_id: uuid.UUID | None = None,
    organisation_id: uuid.UUID | None = None, assignee_id: uuid.UUID | None = None,
    type: str | None = None, limit: int = Query(25, ge=1, le=200), cursor: str | None = None,
) -> dict[str, Any]:
    stmt = select(Case)
    for column, value in ((Case.status, status), (Case.stage, stage),
                          (Case.contact_id, contact_id), (Case.organisation_id, organisation_id),
                          (Case.assignee_id, assignee_id), (Case.type, type)):
        if value is not None:
            stmt = stmt.where(column == value)
    if cursor:
        (after,) = decode_cursor(cursor, 1)
        stmt = stmt.where(Case.id < uuid.UUID(after))
    rows = list(await session.scalars(stmt.order_by(Case.id.desc()).limit(limit + 1)))
    page = rows[:limit]
    return {"items": [service.case_json(c) for c in page],
            "next_cursor": encode_cursor(page[-1].id) if len(rows) > limit and page else None}


@router.get("/cases/{case_id}")
async def get_case(case_id: uuid.UUID, session: SessionDep,
                   _: ReadConversations) -> dict[str, Any]:
    return await _detail(session, await service.get_case(session, case_id))


@router.patch("/cases/{case_id}")
async def update_case(case_id: uuid.UUID, body: CaseUpdate, session: SessionDep,
                      principal: WriteConversations) -> dict[str, Any]:
    case = await service.get_case(session, case_id)
    newly_flagged = bool(body.flagged) and not case.flagged
    await service.do_update_case(session, case, body, principal.label)
    if newly_flagged:
        try:
            await do_escalate(session, case, trigger="flagged", actor=principal.label,
                              reason="flagged by " + principal.name)
        except (ValidationFailed, Conflict) as exc:  # no chain configured, or at the top
            service.timeline_entry(session, case, "case.flagged", exc.detail, {})
    return await _detail(session, case)


@router.post("/cases/{case_id}/transitions",
             summary="Move a case; an illegal move is 409 with the rule it broke")
async def transition(case_id: uuid.UUID, body: Transition, session: SessionDep,
                     principal: WriteConversations) -> dict[str, Any]:
    case = await service.get_case(session, case_id)
    await service.do_transition(session, case, body.to, actor=principal.label,
                                reason=body.reason, follow_up=body.follow_up)
    return await _detail(session, case)


@router.post("/cases/{case_id}/links", status_code=201)
async def link(case_id: uuid.UUID, body: LinkIn, session: SessionDep,
               principal: WriteConversations) -> dict[str, Any]:
    case = await service.get_case(session, case_id)
    await service.do_link(session, case, conversation_id=body.conversation_id,
                          activity_id=body.activity_id, actor=principal.label)
    return await _detail(session, case)


@router.get("/cases/{case_id}/audit")
async def case_audit(case_id: uuid.UUID, session: SessionDep,
                     _: ReadConversations) -> list[dict[str, Any]]:
    case = await service.get_case(session, case_id)
    order_ids = list(await session.scalars(select(WorkOrder.id).where(
        WorkOrder.case_id == case.id)))
    rows = await session.scalars(select(AuditEntry).where(
        AuditEntry.entity_id.in_([case.id, *order_ids])).order_by(AuditEntry.at, AuditEntry.id))
    return [{"entity": a.entity, "entity_id": str(a.entity_id), "action": a.action,
             "actor": a.actor, "data": a.data, "at": a.at.isoformat()} for a in rows]


@router.post("/departments", status_code=201)
async def create_department(body: DepartmentCreate, session: SessionDep,
                            _: AdminOnly) -> dict[str, Any]:
    dept = await service.do_create_department(session, body.name, body.team_id)
    return {"id": str(dept.id), "name": dept.name,
            "team_id": str(dept.team_id) if dept.team_id else None}


@router.get("/departments")
async def list_departments(session: SessionDep, _: ReadConversations) -> list[dict[str, Any]]:
    rows = await session.scalars(select(Department).order_by(Department.name))
    return [{"id": str(d.id), "name": d.name} for d in rows]


@router.post("/cases/{case_id}/work-orders", status_code=201)
async def dispatch(case_id: uuid.UUID, body: WorkOrderCreate, session: SessionDep,
                   principal: WriteConversations) -> dict[str, Any]:
    case = await service.get_case(session, case_id)
    return service.work_order_json(await service.do_dispatch(session, case, body,
                                                             principal.label))


async def _department_for(session: SessionDep, principal: Principal,
                          department_id: uuid.UUID) -> Department:
    dept = await session.get(Department, department_id)
    if dept is None:
        raise NotFound("department not found")
    if principal.role in ("admin", "supervisor"):
        return dept
    if dept.team_id is None or dept.team_id not in principal.team_ids:
        raise Forbidden("only the department's members work its queue")
    return dept


@router.get("/departments/{department_id}/work-orders")
async def department_queue(department_id: uuid.UUID, session: SessionDep,
                           principal: ReadConversations,
                           status: list[str] = Query(default=["open", "accepted"]),
                           ) -> list[dict[str, Any]]:
    """The department's queue, soonest due first."""
    dept = await _department_for(session, principal, department_id)
    rows = await session.scalars(select(WorkOrder).where(
        WorkOrder.department_id == dept.id, WorkOrder.status.in_(status))
        .order_by(WorkOrder.due_at.is_(None), WorkOrder.due_at, WorkOrder.created_at))
    return [service.work_order_json(o) for o in rows]


class OrderOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")
    result: str | None = Field(default=None, max_length=20_000)
    reason: str | None = Field(default=None, max_length=5000)


async def _act(session: SessionDep, principal: Principal, order_id: uuid.UUID,
               body: WorkOrderAction) -> dict[str, Any]:
    order = await session.get(WorkOrder, order_id)
    if order is None:
        raise NotFound("work order not found")
    await _department_for(session, principal, order.department_id)
    await service.do_work_order_action(session, order, body, principal.label,
                                       principal.user_id)
    return service.work_order_json(order)


@router.post("/work-orders/{order_id}/actions")
async def work_order_action(order_id: uuid.UUID, body: WorkOrderAction, session: SessionDep,
                            principal: ReadConversations) -> dict[str, Any]:
    return await _act(session, principal, order_id, body)


@router.post("/work-orders/{order_id}/accept")
async def accept_work_order(order_id: uuid.UUID, session: SessionDep,
                            principal: ReadConversations) -> dict[str, Any]:
    return await _act(session, principal, order_id, WorkOrderAction(action="accept"))


@router.post("/work-orders/{order_id}/complete")
async def complete_work_order(order_id: uuid.UUID, body: OrderOutcome, session: SessionDep,
                              principal: ReadConversations) -> dict[str, Any]:
    return await _act(session, principal, order_id,
                      WorkOrderAction(action="done", result=body.result))


@router.post("/work-orders/{order_id}/reject")
async def reject_work_order(order_id: uuid.UUID, body: OrderOutcome, session: SessionDep,
                            principal: ReadConversations) -> dict[str, Any]:
    return await _act(session, principal, order_id,
                      WorkOrderAction(action="reject", reason=body.reason))
