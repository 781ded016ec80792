"""Who is using the browser: the session cookie, CSRF for forms, the locale."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from starlette.responses import RedirectResponse

from omnidesk.auth.deps import CSRF_HEADER, SAFE_METHODS, SESSION_COOKIE
from omnidesk.auth.service import Principal, get_principal_for_session
from omnidesk.kit.errors import Forbidden, Unauthorized
from omnidesk.kit.web import SessionDep
from omnidesk.models import User
from omnidesk.web import i18n


class LoginRequired(Exception):
    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def login_redirect(exc: LoginRequired) -> RedirectResponse:
    return RedirectResponse(f"/agent/login?next={exc.next_url}", status_code=303)


async def page_user(request: Request, session: SessionDep) -> Principal:
    """The signed-in staff member, or a redirect to the sign-in page."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise LoginRequired(request.url.path)
    try:
        principal = await get_principal_for_session(session, cookie)
    except Unauthorized as exc:
        raise LoginRequired(request.url.path) from exc
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER) or ""
        if not sent:
            form = await request.form()
            sent = str(form.get("csrf_token") or "")
        if not principal.csrf_token or not hmac.compare_digest(sent, principal.csrf_token):
            raise Forbidden("missing or wrong CSRF token")
    user = await session.get(User, principal.user_id) if principal.user_id else None
    request.state.locale = i18n.pick(request, user.locale if user else None)
    request.state.principal = principal
    return principal


PageUser = Annotated[Principal, Depends(page_user)]
