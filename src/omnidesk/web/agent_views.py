"""The agent console: sign-in, one inbox for every channel, the conversation with the
customer context beside it, and the actions on it."""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy import select
from starlette.responses import HTMLResponse, RedirectResponse, Response

from omnidesk.activity.context import get_context
from omnidesk.auth.deps import SESSION_COOKIE
from omnidesk.auth.service import do_login, do_logout
from omnidesk.cases.schemas import CaseCreate
from omnidesk.cases.service import do_create_case
from omnidesk.config import get_settings
from omnidesk.conversations import service as conv
from omnidesk.kit.errors import OmnideskError, Unauthorized, ValidationFailed
from omnidesk.kit.time import utcnow
from omnidesk.kit.web import SessionDep
from omnidesk.knowledge.library import library
from omnidesk.models import Attachment, Contact, User
from omnidesk.models.enums import Channel, SenderType
from omnidesk.web import i18n, queries
from omnidesk.web.canned_views import list_canned
from omnidesk.web.render import render
from omnidesk.web.session import PageUser

router = APIRouter(include_in_schema=False)
PRE_CSRF = "omnidesk_login_csrf"


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/agent") and "//" not in target else "/agent"


@router.get("/agent/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "agent/login.html", csrf=token, next=_safe_next(next),
                      error=None)
    response.set_cookie(PRE_CSRF, token, httponly=True, samesite="strict", path="/agent")
    return response


@router.post("/agent/login")
async def login(request: Request, session: SessionDep, email: Annotated[str, Form()],
                password: Annotated[str, Form()], csrf_token: Annotated[str, Form()],
                next: Annotated[str, Form()] = "/agent") -> Response:
    expected = request.cookies.get(PRE_CSRF, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        return render(request, "agent/login.html", status_code=403, csrf=expected, next=next,
                      error=i18n.gettext("The form expired. Please try again."))
    settings = get_settings()
    try:
        user, plain, _ = await do_login(session, email, password, settings.session_days)
    except Unauthorized:
        return render(request, "agent/login.html", status_code=401, csrf=expected, next=next,
                      error=i18n.gettext("Wrong e-mail or password."))
    response = RedirectResponse(_safe_next(next), status_code=303)
    secure = settings.cookie_secure
    response.set_cookie(SESSION_COOKIE, plain, max_age=settings.session_days * 86400,
                        httponly=True, samesite="lax", path="/",
                        secure=request.url.scheme == "https" if secure is None else secure)
    response.set_cookie(i18n.COOKIE, user.locale, max_age=365 * 86400, samesite="lax",
                        path="/")
    response.delete_cookie(PRE_CSRF, path="/agent")
    return response


@router.post("/agent/logout")
async def logout(request: Request, session: SessionDep, principal: PageUser) -> Response:
    await do_logout(session, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/agent/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/agent/locale")
async def set_locale(request: Request, session: SessionDep, principal: PageUser,
                     locale: Annotated[str, Form()], back: Annotated[str, Form()] = "/agent",
                     ) -> Response:
    chosen = i18n.normalise(locale) or i18n.DEFAULT
    user = await session.get(User, principal.user_id) if principal.user_id else None
    if user is not None:
        user.locale = chosen
    response = RedirectResponse(_safe_next(back), status_code=303)
    response.set_cookie(i18n.COOKIE, chosen, max_age=365 * 86400, samesite="lax", path="/")
    return response


def _filters(request: Request) -> dict[str, str]:
    keys = ("status", "channel", "assignee", "team", "tier", "sort")
    return {k: request.query_params.get(k, "") for k in keys}


@router.get("/agent")
async def inbox(request: Request, session: SessionDep, principal: PageUser) -> HTMLResponse:
    filters = _filters(request)
    _, teams = await queries.agents_and_teams(session)
    return render(request, "agent/inbox.html", principal=principal, filters=filters,
                  rows=await queries.conversation_rows(session, principal, filters),
                  counts=await queries.status_counts(session, principal), teams=teams,
                  channels=[c.value for c in Channel])


@router.get("/agent/inbox/list")
async def inbox_list(request: Request, session: SessionDep,
                     principal: PageUser) -> HTMLResponse:
    filters = _filters(request)
    return render(request, "agent/_list.html", principal=principal, filters=filters,
                  rows=await queries.conversation_rows(session, principal, filters),
                  counts=await queries.status_counts(session, principal))


async def _conversation_page(request: Request, session: SessionDep, principal: PageUser,
                             conversation_id: uuid.UUID, error: str | None = None,
                             status: int = 200) -> HTMLResponse:
    started = time.perf_counter()
    c = await conv.get_conversation(session, conversation_id, principal)
    inbox_ = await conv.get_inbox(session, c.inbox_id)
    users, teams = await queries.agents_and_teams(session)
    context = await get_context(session, c.contact_id)
    thread = await queries.thread(session, c.id)
    return render(request, "agent/conversation.html", status_code=status, principal=principal,
                  c=c, inbox=inbox_, thread=thread, ctx=context, users=users, teams=teams,
                  error=error, suggestions=await _suggestions(session, thread),
                  canned=await list_canned(session),
                  build_ms=round((time.perf_counter() - started) * 1000, 1))


async def _suggestions(session: SessionDep, thread: list[dict[str, Any]]
                       ) -> list[dict[str, str]]:
    """Knowledge suggestions for the customer's latest message (internal articles too)."""
    last = next((t["m"].body for t in reversed(thread)
                 if t["m"].sender_type == "contact" and t["m"].body.strip()), None)
    if not last:
        return []
    hits = await library().search(session, last[:500], public_only=False, limit=3)
    return [{"title": a.title, "url": f"/help/articles/{a.id}"} for _, a in hits]


@router.get("/agent/conversations/{conversation_id}")
async def conversation(request: Request, conversation_id: uuid.UUID, session: SessionDep,
                       principal: PageUser) -> HTMLResponse:
    return await _conversation_page(request, session, principal, conversation_id)


def _attachment_ids(values: list[str] | None) -> list[uuid.UUID]:
    try:
        return [uuid.UUID(v) for v in values or [] if v]
    except ValueError as exc:
        raise ValidationFailed("attachment_ids must be ids of uploaded attachments",
                               field="attachment_ids") from exc


@router.post("/agent/conversations/{conversation_id}/reply")
async def reply(request: Request, conversation_id: uuid.UUID, session: SessionDep,
                principal: PageUser, body: Annotated[str, Form()] = "",
                is_note: Annotated[bool, Form()] = False,
                client_id: Annotated[str | None, Form()] = None,
                attachment_ids: Annotated[list[str] | None, Form()] = None) -> HTMLResponse:
    """A reply or note; ``attachment_ids`` are files uploaded first to
    POST /api/v1/attachments (the composer does it when a file is chosen)."""
    c = await conv.get_conversation(session, conversation_id, principal)
    try:
        message, _ = await conv.reply(session, c, body=body, sender_type=SenderType.agent,
                                      sender_id=principal.user_id, author_name=principal.name,
                                      is_note=is_note, client_id=client_id or None,
                                      attachment_ids=_attachment_ids(attachment_ids))
    except OmnideskError as exc:
        await session.rollback()
        return render(request, "agent/_error.html", status_code=exc.status, error=exc.detail)
    attachments = list(await session.scalars(select(Attachment).where(
        Attachment.message_id == message.id).order_by(Attachment.created_at)))
    return render(request, "agent/_message.html", item={"m": message,
                                                       "attachments": attachments}, c=c)


@router.post("/agent/conversations/{conversation_id}/status")
async def set_status(request: Request, conversation_id: uuid.UUID, session: SessionDep,
                     principal: PageUser, status: Annotated[str, Form()],
                     snooze_hours: Annotated[int, Form()] = 4) -> Response:
    c = await conv.get_conversation(session, conversation_id, principal)
    until = utcnow() + timedelta(hours=snooze_hours) if status == "snoozed" else None
    await conv.do_set_status(session, c, status, until)
    return RedirectResponse(f"/agent/conversations/{c.id}", status_code=303)


@router.post("/agent/conversations/{conversation_id}/assign")
async def assign(request: Request, conversation_id: uuid.UUID, session: SessionDep,
                 principal: PageUser, assignee_id: Annotated[str, Form()] = "",
                 team_id: Annotated[str, Form()] = "") -> Response:
    c = await conv.get_conversation(session, conversation_id, principal)
    assignee = uuid.UUID(assignee_id) if assignee_id else None
    context = await get_context(session, c.contact_id) if assignee else None
    await conv.do_assign(session, c, assignee_id=assignee,
                         team_id=uuid.UUID(team_id) if team_id else None, context=context)
    return RedirectResponse(f"/agent/conversations/{c.id}", status_code=303)


@router.post("/agent/conversations/{conversation_id}/case")
async def open_case(request: Request, conversation_id: uuid.UUID, session: SessionDep,
                    principal: PageUser, type: Annotated[str, Form()] = "inquiry",
                    subject: Annotated[str, Form()] = "") -> Response:
    c = await conv.get_conversation(session, conversation_id, principal)
    contact = await session.get(Contact, c.contact_id)
    data = CaseCreate(contact_id=c.contact_id, type=type,
                      subject=subject or c.subject or f"{contact.name if contact else ''} "
                      f"{c.channel}".strip(), assignee_id=principal.user_id,
                      conversation_ids=[c.id])
    case = await do_create_case(session, data, actor=principal.label, channel=c.channel)
    return RedirectResponse(f"/agent/cases/{case.id}", status_code=303)
