"""Console pages for some roles only: supervisors (and admins), admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from omnidesk.auth.service import Principal
from omnidesk.kit.errors import Forbidden
from omnidesk.web import i18n
from omnidesk.web.session import PageUser


async def supervisor_user(request: Request, principal: PageUser) -> Principal:
    i18n.activate(request.state.locale)  # messages built before rendering are localised
    if principal.role not in ("admin", "supervisor"):
        raise Forbidden("this page is for supervisors and admins")
    return principal


async def admin_user(request: Request, principal: PageUser) -> Principal:
    i18n.activate(request.state.locale)
    if principal.role != "admin":
        raise Forbidden("this page is for admins")
    return principal


SupervisorUser = Annotated[Principal, Depends(supervisor_user)]
AdminUser = Annotated[Principal, Depends(admin_user)]
