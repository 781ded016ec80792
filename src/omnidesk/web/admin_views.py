"""Administration pages: users and roles, teams, inboxes, API tokens and webhooks.

Every form posts back here (CSRF-checked by ``PageUser``); success redirects (303) to the
list, a validation error re-renders the page with the reason and what was typed.
Other sections (knowledge, bot settings) add themselves to :data:`EXTRA_NAV`."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from sqlalchemy import select
from starlette.responses import HTMLResponse, RedirectResponse, Response

from omnidesk.auth import service as auth
from omnidesk.auth.service import ALL_ROLES, SCOPES, Principal
from omnidesk.conversations.schemas import InboxCreate
from omnidesk.events.schemas import WebhookIn
from omnidesk.kit.errors import NotFound, OmnideskError, ValidationFailed
from omnidesk.kit.ids import new_token
from omnidesk.kit.web import SessionDep
from omnidesk.models import ApiToken, Inbox, Team, TeamMember, User, Webhook
from omnidesk.models.enums import Channel
from omnidesk.web import i18n
from omnidesk.web.page_roles import AdminUser
from omnidesk.web.render import env, render

router = APIRouter(include_in_schema=False)
ROLES = sorted(ALL_ROLES)
# (path, msgid) of admin sections owned elsewhere, e.g. ("/agent/admin/knowledge",
# "Knowledge"); the label is translated when the page renders.
EXTRA_NAV: list[tuple[str, str]] = []
env.globals["admin_extra_nav"] = EXTRA_NAV


def pydantic_errors(exc: ValidationError) -> str:
    """One line per problem: ``field: message``."""
    parts = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in e.get("loc", ()))
        msg = str(e.get("msg", "")).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def parse_json_object(text: str, field: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"{field}: not valid JSON ({exc.msg}, line {exc.lineno} "
                               f"column {exc.colno})", field=field) from exc
    if not isinstance(value, dict):
        raise ValidationFailed(f"{field}: must be a JSON object {{…}}", field=field)
    return value


def _back(section: str) -> RedirectResponse:
    return RedirectResponse(f"/agent/admin/{section}", status_code=303)


async def _users(session: SessionDep) -> dict[str, Any]:
    users = list(await session.scalars(select(User).order_by(User.is_active.desc(), User.name)))
    return {"users": users}


async def _teams(session: SessionDep) -> dict[str, Any]:
    teams = list(await session.scalars(select(Team).order_by(Team.name)))
    members: dict[uuid.UUID, list[User]] = defaultdict(list)
    for team_id, user in await session.execute(
            select(TeamMember.team_id, User).join(User, User.id == TeamMember.user_id)
            .order_by(User.name)):
        members[team_id].append(user)
    users = list(await session.scalars(select(User).where(User.is_active).order_by(User.name)))
    return {"teams": teams, "members": members, "users": users}


async def _inboxes(session: SessionDep) -> dict[str, Any]:
    teams = list(await session.scalars(select(Team).order_by(Team.name)))
    inboxes = list(await session.scalars(select(Inbox).order_by(Inbox.created_at)))
    return {"inboxes": inboxes, "teams": teams, "team_names": {t.id: t.name for t in teams},
            "channels": [c.value for c in Channel]}


async def _tokens(session: SessionDep) -> dict[str, Any]:
    rows = await session.execute(select(ApiToken, User.name).outerjoin(
        User, User.id == ApiToken.user_id).order_by(ApiToken.created_at.desc()))
    return {"tokens": list(rows), "scopes": SCOPES}


async def _webhooks(session: SessionDep) -> dict[str, Any]:
    return {"hooks": list(await session.scalars(select(Webhook).order_by(Webhook.created_at)))}


LOADERS = {"users": _users, "teams": _teams, "inboxes": _inboxes, "tokens": _tokens,
           "webhooks": _webhooks}


async def show(request: Request, session: SessionDep, principal: Principal, section: str,
               status: int = 200, **extra: Any) -> HTMLResponse:
    data = await LOADERS[section](session)
    return render(request, f"admin/{section}.html", status_code=status, principal=principal,
                  section=section, roles=ROLES, form=extra.pop("form", {}), **data, **extra)


async def _failed(request: Request, session: SessionDep, principal: Principal, section: str,
                  exc: OmnideskError, form: dict[str, Any]) -> HTMLResponse:
    await session.rollback()
    return await show(request, session, principal, section, status=exc.status,
                      error=exc.detail, form=form)


@router.get("/agent/admin")
async def admin_home(principal: AdminUser) -> Response:
    return _back("users")


def _section_page(section: str) -> Any:
    async def page(request: Request, session: SessionDep, principal: AdminUser) -> HTMLResponse:
        return await show(request, session, principal, section)

    return page


for _section in LOADERS:
    router.add_api_route(f"/agent/admin/{_section}", _section_page(_section), methods=["GET"],
                         name=f"admin_{_section}")


# Users and roles


@router.post("/agent/admin/users")
async def create_user(request: Request, session: SessionDep, principal: AdminUser,
                      email: Annotated[str, Form()], name: Annotated[str, Form()],
                      password: Annotated[str, Form()], role: Annotated[str, Form()],
                      locale: Annotated[str, Form()] = "zh-CN") -> Response:
    form = {"email": email, "name": name, "role": role, "locale": locale}
    try:
        if not name.strip() or "@" not in email:
            raise ValidationFailed(i18n.gettext("Give a name and an e-mail address."))
        await auth.do_create_user(session, email=email, name=name.strip(), password=password,
                                  role=role, locale=i18n.normalise(locale) or i18n.DEFAULT)
    except OmnideskError as exc:
        return await _failed(request, session, principal, "users", exc, form)
    return _back("users")


async def _other_user(session: SessionDep, principal: Principal, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("user not found")
    if user.id == principal.user_id:
        raise ValidationFailed(i18n.gettext("You cannot change your own role or access."))
    return user


@router.post("/agent/admin/users/{user_id}/role")
async def change_role(request: Request, user_id: uuid.UUID, session: SessionDep,
                      principal: AdminUser, role: Annotated[str, Form()]) -> Response:
    try:
        user = await _other_user(session, principal, user_id)
        user.role = auth.check_role(role)
    except OmnideskError as exc:
        return await _failed(request, session, principal, "users", exc, {})
    return _back("users")


@router.post("/agent/admin/users/{user_id}/active")
async def set_active(request: Request, user_id: uuid.UUID, session: SessionDep,
                     principal: AdminUser, active: Annotated[bool, Form()]) -> Response:
    try:
        user = await _other_user(session, principal, user_id)
        user.is_active = active
    except OmnideskError as exc:
        return await _failed(request, session, principal, "users", exc, {})
    return _back("users")


# Teams


@router.post("/agent/admin/teams")
async def create_team(request: Request, session: SessionDep, principal: AdminUser,
                      name: Annotated[str, Form()]) -> Response:
    members = [uuid.UUID(str(v)) for v in (await request.form()).getlist("members") if v]
    try:
        if not name.strip():
            raise ValidationFailed(i18n.gettext("Give the team a name."))
        await auth.do_create_team(session, name.strip(), members)
    except OmnideskError as exc:
        return await _failed(request, session, principal, "teams", exc, {"name": name})
    return _back("teams")


@router.post("/agent/admin/teams/{team_id}/members")
async def add_member(request: Request, team_id: uuid.UUID, session: SessionDep,
                     principal: AdminUser, user_id: Annotated[uuid.UUID, Form()]) -> Response:
    if await session.get(Team, team_id) is None or await session.get(User, user_id) is None:
        raise NotFound("team or user not found")
    if await session.get(TeamMember, (team_id, user_id)) is None:
        session.add(TeamMember(team_id=team_id, user_id=user_id))
    return _back("teams")


@router.post("/agent/admin/teams/{team_id}/members/{user_id}/remove")
async def remove_member(team_id: uuid.UUID, user_id: uuid.UUID, session: SessionDep,
                        principal: AdminUser) -> Response:
    member = await session.get(TeamMember, (team_id, user_id))
    if member is not None:
        await session.delete(member)
    return _back("teams")


# Inboxes and channels


@router.post("/agent/admin/inboxes")
async def create_inbox(request: Request, session: SessionDep, principal: AdminUser,
                       channel: Annotated[str, Form()], name: Annotated[str, Form()],
                       config: Annotated[str, Form()] = "{}",
                       team_id: Annotated[str, Form()] = "",
                       restricted: Annotated[bool, Form()] = False) -> Response:
    form = {"channel": channel, "name": name, "config": config, "team_id": team_id,
            "restricted": restricted}
    try:
        try:
            data = InboxCreate.model_validate({
                "channel": channel, "name": name.strip(), "restricted": restricted,
                "config": parse_json_object(config, "config"), "team_id": team_id or None})
        except ValidationError as exc:
            raise ValidationFailed(pydantic_errors(exc)) from exc
        if data.team_id and await session.get(Team, data.team_id) is None:
            raise ValidationFailed("team not found", field="team_id")
        if data.restricted and data.team_id is None:
            raise ValidationFailed(i18n.gettext("A restricted inbox needs a team."),
                                   field="team_id")
        session.add(Inbox(**data.model_dump()))
        await session.flush()
    except OmnideskError as exc:
        return await _failed(request, session, principal, "inboxes", exc, form)
    return _back("inboxes")


# API tokens


@router.post("/agent/admin/tokens")
async def mint_token(request: Request, session: SessionDep, principal: AdminUser,
                     name: Annotated[str, Form()], role: Annotated[str, Form()]) -> Response:
    scopes = [str(s) for s in (await request.form()).getlist("scopes")]
    form = {"name": name, "role": role, "scopes": scopes}
    try:
        if not name.strip():
            raise ValidationFailed(i18n.gettext("Give the token a name."))
        token, plain = await auth.do_create_token(session, name=name.strip(), role=role,
                                                  scopes=scopes, user_id=principal.user_id)
    except OmnideskError as exc:
        return await _failed(request, session, principal, "tokens", exc, form)
    # Shown this once: only the hash is stored.
    response = await show(request, session, principal, "tokens", status=201,
                          minted={"name": token.name, "token": plain})
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/agent/admin/tokens/{token_id}/revoke")
async def revoke_token(token_id: uuid.UUID, session: SessionDep,
                       principal: AdminUser) -> Response:
    await auth.do_revoke_token(session, token_id)
    return _back("tokens")


# Webhooks


@router.post("/agent/admin/webhooks")
async def create_webhook(request: Request, session: SessionDep, principal: AdminUser,
                         url: Annotated[str, Form()], event_types: Annotated[str, Form()] = "",
                         secret: Annotated[str, Form()] = "") -> Response:
    form = {"url": url, "event_types": event_types}
    events = [e for e in event_types.replace(",", " ").split() if e]
    try:
        try:
            data = WebhookIn(url=url.strip(), event_types=events, secret=secret or None)
        except ValidationError as exc:
            raise ValidationFailed(pydantic_errors(exc)) from exc
        hook = Webhook(url=data.url, event_types=data.event_types,
                       secret=data.secret or new_token("whsec_"))
        session.add(hook)
        await session.flush()
    except OmnideskError as exc:
        return await _failed(request, session, principal, "webhooks", exc, form)
    response = await show(request, session, principal, "webhooks", status=201,
                          created={"url": hook.url, "secret": hook.secret})
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/agent/admin/webhooks/{hook_id}/active")
async def webhook_active(hook_id: uuid.UUID, session: SessionDep, principal: AdminUser,
                         active: Annotated[bool, Form()]) -> Response:
    hook = await session.get(Webhook, hook_id)
    if hook is None:
        raise NotFound("webhook not found")
    hook.active = active
    return _back("webhooks")
