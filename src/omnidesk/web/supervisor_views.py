"""The supervisor's page: live queues (refreshed every 10 s), SLA clocks at risk,
escalations waiting, and charts over a period (drawn from /api/v1/reports/overview)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from babel.dates import format_timedelta
from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from omnidesk.config import get_settings
from omnidesk.kit.errors import ValidationFailed
from omnidesk.kit.web import SessionDep
from omnidesk.models import User
from omnidesk.web import i18n, live
from omnidesk.web.page_roles import SupervisorUser
from omnidesk.web.render import env, render
from omnidesk.web.reports import check_period, check_zone

router = APIRouter(include_in_schema=False)
REFRESH_SECONDS = 10


def _duration(seconds: float | None) -> str:
    """A wait or a handling time, localised ("3 minutes", "2 小时")."""
    if seconds is None:
        return "—"
    return format_timedelta(timedelta(seconds=seconds), threshold=1.5,
                            locale=i18n.current().replace("-", "_"))


env.filters["duration"] = _duration


async def _queues_context(session: SessionDep) -> dict[str, Any]:
    return {"live": await live.live_queues(session),
            "refresh": REFRESH_SECONDS}


@router.get("/agent/supervisor")
async def supervisor(request: Request, session: SessionDep, principal: SupervisorUser,
                     ) -> HTMLResponse:
    user = await session.get(User, principal.user_id) if principal.user_id else None
    zone = check_zone(user.timezone if user else get_settings().default_timezone)
    error = None
    try:
        period = check_period(request.query_params.get("from"),
                              request.query_params.get("to"), zone)
    except ValidationFailed as exc:
        error, period = exc.detail, check_period(None, None, zone)
    return render(request, "supervisor/dashboard.html", principal=principal, period=period,
                  error=error, risks=await live.at_risk(session),
                  escalations=await live.open_escalations(session),
                  **await _queues_context(session))


@router.get("/agent/supervisor/queues")
async def queues(request: Request, session: SessionDep,
                 principal: SupervisorUser) -> HTMLResponse:
    return render(request, "supervisor/_queues.html", principal=principal,
                  **await _queues_context(session))
