"""Canned responses: the admin's list and form, and for the composer the chosen
response filled in for one conversation (``{{contact.name}}``, ``{{contact.phone}}``,
``{{agent.name}}``), returned as escaped text for a textarea."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import HTMLResponse, RedirectResponse, Response

from omnidesk.auth.service import Principal
from omnidesk.conversations import service as conv
from omnidesk.kit.errors import Conflict, NotFound, OmnideskError, ValidationFailed
from omnidesk.kit.web import SessionDep
from omnidesk.models import CannedResponse, Contact, Identity
from omnidesk.models.enums import IdentityKind
from omnidesk.web import i18n
from omnidesk.web.page_roles import AdminUser
from omnidesk.web.render import render
from omnidesk.web.session import PageUser

router = APIRouter(include_in_schema=False)
SHORTCUT = re.compile(r"^[\w-]{1,64}$")
VARIABLE = re.compile(r"\{\{\s*(contact\.name|contact\.phone|contact\.email|agent\.name)\s*\}\}")
MAX_BODY = 5000


async def list_canned(session: AsyncSession) -> list[CannedResponse]:
    return list(await session.scalars(select(CannedResponse).order_by(CannedResponse.shortcut)))


def fill(body: str, values: dict[str, str]) -> str:
    """Replace the known variables; unknown ``{{…}}`` stay as typed."""
    return VARIABLE.sub(lambda m: values.get(m.group(1), ""), body)


async def variables_for(session: AsyncSession, contact_id: uuid.UUID,
                        principal: Principal) -> dict[str, str]:
    contact = await session.get(Contact, contact_id)
    ids = {kind: value for kind, value in await session.execute(
        select(Identity.kind, Identity.value).where(
            Identity.contact_id == contact_id,
            Identity.kind.in_((IdentityKind.phone, IdentityKind.email)))
        .order_by(Identity.created_at))}  # the newest of each kind wins
    return {"contact.name": (contact.name if contact else None) or "",
            "contact.phone": ids.get(IdentityKind.phone, ""),
            "contact.email": ids.get(IdentityKind.email, ""), "agent.name": principal.name}


@router.get("/agent/conversations/{conversation_id}/canned")
async def canned_for_conversation(conversation_id: uuid.UUID, session: SessionDep,
                                  principal: PageUser, response: str = "",
                                  shortcut: str = "") -> HTMLResponse:
    """The chosen response (by id or shortcut) with its variables filled, as escaped
    text: the composer puts it into a textarea, where it is text, never markup."""
    c = await conv.get_conversation(session, conversation_id, principal)
    if response:
        try:
            found = await session.get(CannedResponse, uuid.UUID(response))
        except ValueError:
            found = None
    else:
        found = await session.scalar(select(CannedResponse).where(
            CannedResponse.shortcut == shortcut.lstrip("/")))
    if found is None:
        raise NotFound("no such canned response")
    text = fill(found.body, await variables_for(session, c.contact_id, principal))
    return HTMLResponse(str(escape(text)), headers={"Cache-Control": "no-store"})


# Administration


async def _show(request: Request, session: SessionDep, principal: Principal,
                status: int = 200, **extra: Any) -> HTMLResponse:
    extra.setdefault("form", {"id": "", "shortcut": "", "title": "", "body": "",
                              "locale": i18n.DEFAULT})
    return render(request, "admin/canned.html", status_code=status, principal=principal,
                  section="canned", responses=await list_canned(session), **extra)


@router.get("/agent/admin/canned")
async def canned_page(request: Request, session: SessionDep, principal: AdminUser,
                      edit: uuid.UUID | None = None) -> HTMLResponse:
    extra: dict[str, Any] = {}
    if edit is not None:
        row = await session.get(CannedResponse, edit)
        if row is None:
            raise NotFound("no such canned response")
        extra["form"] = {"id": str(row.id), "shortcut": row.shortcut, "title": row.title,
                         "body": row.body, "locale": row.locale}
    return await _show(request, session, principal, **extra)


def check_canned(shortcut: str, title: str, body: str, locale: str) -> tuple[str, str, str,
                                                                             str]:
    shortcut = shortcut.strip().lstrip("/")
    if not SHORTCUT.match(shortcut):
        raise ValidationFailed(i18n.gettext(
            "The shortcut is 1 to 64 letters, digits, '-' or '_' (no spaces)."), field="shortcut")
    if not title.strip() or not body.strip():
        raise ValidationFailed(i18n.gettext("Give a title and a text."), field="body")
    if len(body) > MAX_BODY or len(title) > 200:
        raise ValidationFailed(i18n.gettext("The text is too long."), field="body")
    return shortcut, title.strip(), body, i18n.normalise(locale) or i18n.DEFAULT


@router.post("/agent/admin/canned")
async def save_canned(request: Request, session: SessionDep, principal: AdminUser,
                      shortcut: Annotated[str, Form()], title: Annotated[str, Form()],
                      body: Annotated[str, Form()], locale: Annotated[str, Form()] = "zh-CN",
                      id: Annotated[str, Form()] = "") -> Response:
    """Create a response, or update the one named by ``id``."""
    form = {"id": id, "shortcut": shortcut, "title": title, "body": body, "locale": locale}
    try:
        shortcut, title, body, locale = check_canned(shortcut, title, body, locale)
        row = await session.get(CannedResponse, uuid.UUID(id)) if id else None
        clash = await session.scalar(select(CannedResponse.id).where(
            CannedResponse.shortcut == shortcut))
        if clash is not None and (row is None or clash != row.id):
            raise Conflict(i18n.gettext("The shortcut /%(shortcut)s is taken.")
                           % {"shortcut": shortcut})
        if row is None:
            row = CannedResponse(shortcut=shortcut, title=title, body=body, locale=locale)
            session.add(row)
        row.shortcut, row.title, row.body, row.locale = shortcut, title, body, locale
        await session.flush()
    except OmnideskError as exc:
        await session.rollback()
        return await _show(request, session, principal, status=exc.status, error=exc.detail,
                           form=form)
    return RedirectResponse("/agent/admin/canned", status_code=303)


@router.post("/agent/admin/canned/{canned_id}/delete")
async def delete_canned(canned_id: uuid.UUID, session: SessionDep,
                        principal: AdminUser) -> Response:
    row = await session.get(CannedResponse, canned_id)
    if row is not None:
        await session.delete(row)
    return RedirectResponse("/agent/admin/canned", status_code=303)
