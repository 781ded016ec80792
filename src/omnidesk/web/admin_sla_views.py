"""Administration of SLA calendars (business hours, holidays, make-up days as JSON) and
SLA policies (conditions and targets), with validation errors shown on the form."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from sqlalchemy import select
from starlette.responses import HTMLResponse, RedirectResponse, Response

from omnidesk.auth.service import Principal
from omnidesk.kit.errors import Conflict, NotFound, OmnideskError, ValidationFailed
from omnidesk.kit.web import SessionDep
from omnidesk.models import SlaCalendar, SlaPolicy
from omnidesk.sla.calendar import BusinessCalendar
from omnidesk.sla.endpoints import PolicyIn
from omnidesk.web.admin_views import parse_json_object, pydantic_errors
from omnidesk.web.page_roles import AdminUser
from omnidesk.web.render import render

router = APIRouter(include_in_schema=False)
SAMPLE_CALENDAR = {
    "timezone": "Asia/Shanghai",
    "weekly": {d: [["09:00", "12:00"], ["13:30", "18:00"]]
               for d in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": [{"date": "2026-10-01", "name": "国庆节"}],
    "workdays": ["2026-09-27"],
}
SAMPLE_TARGETS = {"first_response": 30, "next_response": 60, "resolution": 1440}


def pretty(value: Any, indent: str = "") -> str:
    """JSON for a form: one key a line for two levels, values compact."""
    if not isinstance(value, dict) or not value or len(indent) >= 4:
        return json.dumps(value, ensure_ascii=False)
    inner = indent + "  "
    lines = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {pretty(v, inner)}"
             for k, v in value.items()]
    return "{\n" + ",\n".join(lines) + f"\n{indent}}}"


async def _show(request: Request, session: SessionDep, principal: Principal,
                status: int = 200, **extra: Any) -> HTMLResponse:
    calendars = list(await session.scalars(select(SlaCalendar).order_by(SlaCalendar.name)))
    names = {c.id: c.name for c in calendars}
    policies = list(await session.scalars(select(SlaPolicy).order_by(SlaPolicy.position,
                                                                      SlaPolicy.name)))
    extra.setdefault("cal_form", {"name": "", "definition": pretty(SAMPLE_CALENDAR)})
    extra.setdefault("pol_form", {"name": "", "position": 100, "conditions": "{}",
                                  "targets": pretty(SAMPLE_TARGETS), "calendar": "",
                                  "at_risk_fraction": 0.2, "active": True, "id": ""})
    return render(request, "admin/sla.html", status_code=status, principal=principal,
                  section="sla", calendars=calendars, calendar_names=names,
                  policies=policies, pretty=pretty, **extra)


def _policy_form(p: SlaPolicy, calendar: str | None) -> dict[str, Any]:
    return {"name": p.name, "position": p.position, "conditions": pretty(p.conditions),
            "targets": pretty(p.targets), "calendar": calendar or "",
            "at_risk_fraction": p.at_risk_fraction, "active": p.active, "id": str(p.id)}


@router.get("/agent/admin/sla")
async def sla_page(request: Request, session: SessionDep, principal: AdminUser,
                   calendar: str | None = None, policy: uuid.UUID | None = None,
                   ) -> HTMLResponse:
    """``?calendar=<name>`` or ``?policy=<id>`` opens that one in its form for editing."""
    extra: dict[str, Any] = {}
    if calendar:
        row = await session.scalar(select(SlaCalendar).where(SlaCalendar.name == calendar))
        if row is None:
            raise NotFound("calendar not found")
        extra["cal_form"] = {"name": row.name, "definition": pretty(row.definition)}
    if policy:
        found = await session.get(SlaPolicy, policy)
        if found is None:
            raise NotFound("policy not found")
        cal = await session.get(SlaCalendar, found.calendar_id) if found.calendar_id else None
        extra["pol_form"] = _policy_form(found, cal.name if cal else None)
    return await _show(request, session, principal, **extra)


@router.post("/agent/admin/sla/calendars")
async def save_calendar(request: Request, session: SessionDep, principal: AdminUser,
                        name: Annotated[str, Form()],
                        definition: Annotated[str, Form()]) -> Response:
    form = {"name": name, "definition": definition}
    try:
        if not name.strip():
            raise ValidationFailed("name: required", field="name")
        try:
            checked = BusinessCalendar.from_dict(
                parse_json_object(definition, "definition")).to_dict()
        except ValueError as exc:
            raise ValidationFailed(f"definition: {exc}", field="definition") from exc
        row = await session.scalar(select(SlaCalendar).where(SlaCalendar.name == name.strip()))
        if row is None:
            row = SlaCalendar(name=name.strip())
            session.add(row)
        row.definition = checked
        await session.flush()
    except OmnideskError as exc:
        return await _show(request, session, principal, status=exc.status,
                           cal_error=exc.detail, cal_form=form)
    return RedirectResponse("/agent/admin/sla", status_code=303)


async def _check_policy(session: SessionDep, form: dict[str, Any]) -> tuple[PolicyIn,
                                                                           uuid.UUID | None]:
    try:
        body = PolicyIn.model_validate({
            "name": form["name"].strip(), "position": form["position"],
            "active": form["active"], "calendar": form["calendar"] or None,
            "conditions": parse_json_object(form["conditions"], "conditions"),
            "targets": parse_json_object(form["targets"], "targets"),
            "at_risk_fraction": form["at_risk_fraction"]})
    except ValidationError as exc:
        raise ValidationFailed(pydantic_errors(exc)) from exc
    calendar_id = None
    if body.calendar:
        calendar_id = await session.scalar(select(SlaCalendar.id).where(
            SlaCalendar.name == body.calendar))
        if calendar_id is None:
            raise ValidationFailed(f"calendar: no calendar named {body.calendar!r}")
    return body, calendar_id


@router.post("/agent/admin/sla/policies")
async def save_policy(request: Request, session: SessionDep, principal: AdminUser,
                      name: Annotated[str, Form()], targets: Annotated[str, Form()],
                      conditions: Annotated[str, Form()] = "{}",
                      position: Annotated[str, Form()] = "100",
                      calendar: Annotated[str, Form()] = "",
                      at_risk_fraction: Annotated[str, Form()] = "0.2",
                      active: Annotated[bool, Form()] = False,
                      id: Annotated[str, Form()] = "") -> Response:
    """Create a policy, or update the one named by ``id``."""
    form = {"name": name, "targets": targets, "conditions": conditions, "position": position,
            "calendar": calendar, "at_risk_fraction": at_risk_fraction, "active": active,
            "id": id}
    try:
        body, calendar_id = await _check_policy(session, form)
        policy = await session.get(SlaPolicy, uuid.UUID(id)) if id else None
        clash = await session.scalar(select(SlaPolicy.id).where(SlaPolicy.name == body.name))
        if clash is not None and (policy is None or clash != policy.id):
            raise Conflict(f"a policy named {body.name!r} exists")
        if policy is None:
            policy = SlaPolicy(name=body.name)
            session.add(policy)
        policy.name, policy.position, policy.active = body.name, body.position, body.active
        policy.conditions, policy.targets = body.conditions, body.targets
        policy.calendar_id, policy.at_risk_fraction = calendar_id, body.at_risk_fraction
        await session.flush()
    except OmnideskError as exc:
        await session.rollback()
        return await _show(request, session, principal, status=exc.status,
                           pol_error=exc.detail, pol_form=form)
    return RedirectResponse("/agent/admin/sla", status_code=303)


@router.post("/agent/admin/sla/policies/{policy_id}/active")
async def policy_active(policy_id: uuid.UUID, session: SessionDep, principal: AdminUser,
                        active: Annotated[bool, Form()]) -> Response:
    policy = await session.get(SlaPolicy, policy_id)
    if policy is None:
        raise NotFound("policy not found")
    policy.active = active
    return RedirectResponse("/agent/admin/sla", status_code=303)
