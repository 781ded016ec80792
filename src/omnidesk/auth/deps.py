"""Authentication dependencies: bearer tokens for integrations, cookies (+CSRF) for the UI."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from omnidesk.auth.service import (
    Principal,
    get_principal_for_session,
    get_principal_for_token,
)
from omnidesk.kit.errors import Forbidden, Unauthorized
from omnidesk.kit.web import SessionDep

SESSION_COOKIE = "omnidesk_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_principal(request: Request, session: SessionDep) -> Principal:
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("use 'Authorization: Bearer <token>'")
        principal = await get_principal_for_token(session, value.strip())
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise Unauthorized("sign in or send an API token")
        principal = await get_principal_for_session(session, cookie)
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER) or ""
            if not principal.csrf_token or not hmac.compare_digest(sent, principal.csrf_token):
                raise Forbidden(f"missing or wrong {CSRF_HEADER} header (CSRF protection)")
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require(
    *roles: str, scope: str | None = None
) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that admits only the given roles (and, for tokens, the scope)."""

    async def _check(principal: CurrentPrincipal) -> Principal:
        if roles and principal.role not in roles:
            raise Forbidden(f"role {principal.role!r} may not do this")
        if scope and not principal.has_scope(scope):
            raise Forbidden(f"this token lacks the {scope!r} scope")
        return principal

    return _check


STAFF = ("admin", "supervisor", "agent", "backoffice", "account_manager")
FRONTLINE = ("admin", "supervisor", "agent", "account_manager")

ReadContacts = Annotated[Principal, Depends(require(*STAFF, scope="contacts:read"))]
WriteContacts = Annotated[Principal, Depends(require(*FRONTLINE, scope="contacts:write"))]
WriteEvents = Annotated[Principal, Depends(require("admin", "supervisor", scope="events:write"))]
ReadConversations = Annotated[Principal, Depends(require(*STAFF, scope="conversations:read"))]
WriteConversations = Annotated[
    Principal, Depends(require(*FRONTLINE, scope="conversations:write"))
]
AdminOnly = Annotated[Principal, Depends(require("admin", scope="admin"))]
CurrentAgent = ReadConversations
