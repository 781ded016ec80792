"""Cases in the console: the list, a case with its stages, work orders and audit."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlalchemy import select
from starlette.responses import HTMLResponse, RedirectResponse, Response

from omnidesk.cases import service
from omnidesk.cases.schemas import STAGES, FollowUp, Stage, WorkOrderCreate
from omnidesk.kit.errors import OmnideskError
from omnidesk.kit.web import SessionDep
from omnidesk.models import AuditEntry, Case, CaseTransition, Contact, Department, WorkOrder
from omnidesk.web.render import render
from omnidesk.web.session import PageUser

router = APIRouter(include_in_schema=False)


@router.get("/agent/cases")
async def cases(request: Request, session: SessionDep, principal: PageUser,
                status: str = "open") -> HTMLResponse:
    stmt = (select(Case, Contact.name).join(Contact, Contact.id == Case.contact_id)
            .order_by(Case.created_at.desc()).limit(200))
    if status != "all":
        stmt = stmt.where(Case.status == status)
    rows = list(await session.execute(stmt))
    return render(request, "agent/cases.html", principal=principal, rows=rows, status=status)


async def _page(request: Request, session: SessionDep, principal: PageUser, case: Case,
                error: str | None = None, status: int = 200) -> HTMLResponse:
    contact = await session.get(Contact, case.contact_id)
    transitions = list(await session.scalars(select(CaseTransition).where(
        CaseTransition.case_id == case.id).order_by(CaseTransition.at)))
    orders = list(await session.scalars(select(WorkOrder).where(
        WorkOrder.case_id == case.id).order_by(WorkOrder.created_at)))
    audit = list(await session.scalars(select(AuditEntry).where(
        AuditEntry.entity_id == case.id).order_by(AuditEntry.at, AuditEntry.id)))
    departments = list(await session.scalars(select(Department).order_by(Department.name)))
    return render(request, "agent/case.html", status_code=status, principal=principal, case=case,
                  contact=contact, transitions=transitions, orders=orders, audit=audit,
                  departments=departments, stages=STAGES, error=error)


@router.get("/agent/cases/{case_id}")
async def case_page(request: Request, case_id: uuid.UUID, session: SessionDep,
                    principal: PageUser) -> HTMLResponse:
    return await _page(request, session, principal, await service.get_case(session, case_id))


@router.post("/agent/cases/{case_id}/transition")
async def transition(request: Request, case_id: uuid.UUID, session: SessionDep,
                     principal: PageUser, to: Annotated[str, Form()],
                     reason: Annotated[str, Form()] = "",
                     outcome: Annotated[str, Form()] = "",
                     satisfaction: Annotated[str, Form()] = "",
                     note: Annotated[str, Form()] = "") -> Response:
    case = await service.get_case(session, case_id)
    try:
        follow_up = None
        if outcome:
            follow_up = FollowUp(outcome=outcome,
                                 satisfaction=int(satisfaction) if satisfaction else None,
                                 note=note,
                                 attempts=[datetime.now().astimezone()] if outcome ==
                                 "failed_contact" else [])
        await service.do_transition(session, case, Stage(to), actor=principal.label,
                                    reason=reason or None, follow_up=follow_up)
    except (OmnideskError, ValueError) as exc:
        detail = exc.detail if isinstance(exc, OmnideskError) else str(exc)
        await session.rollback()
        case = await service.get_case(session, case_id)
        return await _page(request, session, principal, case, error=detail, status=422)
    return RedirectResponse(f"/agent/cases/{case.id}", status_code=303)


@router.post("/agent/cases/{case_id}/work-orders")
async def dispatch(request: Request, case_id: uuid.UUID, session: SessionDep,
                   principal: PageUser, department_id: Annotated[uuid.UUID, Form()],
                   instructions: Annotated[str, Form()],
                   due_at: Annotated[str, Form()] = "") -> Response:
    case = await service.get_case(session, case_id)
    try:
        due = datetime.fromisoformat(due_at).astimezone() if due_at else None
        await service.do_dispatch(session, case, WorkOrderCreate(
            department_id=department_id, instructions=instructions, due_at=due),
            principal.label)
    except (OmnideskError, ValueError) as exc:
        detail = exc.detail if isinstance(exc, OmnideskError) else str(exc)
        return await _page(request, session, principal, case, error=detail, status=422)
    return RedirectResponse(f"/agent/cases/{case.id}", status_code=303)
