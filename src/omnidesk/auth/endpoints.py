"""Sign-in, the current user, users, teams and API tokens."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, EmailStr, Field
from sqlalchemy import select

from omnidesk.auth import service
from omnidesk.auth.deps import SESSION_COOKIE, AdminOnly, CurrentPrincipal
from omnidesk.config import get_settings
from omnidesk.kit.web import SessionDep
from omnidesk.models import ApiToken, User

router = APIRouter(prefix="/api/v1", tags=["auth"])


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(Strict):
    email: str = Field(max_length=320)
    password: str = Field(max_length=200)


class UserCreate(Strict):
    email: EmailStr
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=8, max_length=200)
    role: str
    locale: str = "zh-CN"


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    email: str
    name: str
    role: str
    locale: str
    is_active: bool


class TeamCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    members: list[uuid.UUID] = []


class TokenCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    role: str
    scopes: list[str] = []


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    prefix: str
    role: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenRead):
    token: str


def _secure(request: Request) -> bool:
    configured = get_settings().cookie_secure
    return request.url.scheme == "https" if configured is None else configured


@router.post("/auth/login")
async def login(body: LoginIn, request: Request, response: Response,
                session: SessionDep) -> dict[str, object]:
    days = get_settings().session_days
    user, plain, csrf = await service.do_login(session, body.email, body.password, days)
    response.set_cookie(SESSION_COOKIE, plain, max_age=days * 86400, httponly=True,
                        samesite="lax", secure=_secure(request), path="/")
    return {"user": UserRead.model_validate(user).model_dump(mode="json"), "csrf_token": csrf}


@router.post("/auth/logout", status_code=204)
async def logout(request: Request, response: Response, session: SessionDep,
                 principal: CurrentPrincipal) -> None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await service.do_logout(session, cookie)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me")
async def me(principal: CurrentPrincipal) -> dict[str, object]:
    return {"kind": principal.kind, "id": str(principal.id), "name": principal.name,
            "role": principal.role, "scopes": sorted(principal.scopes),
            "teams": [str(t) for t in principal.team_ids], "csrf_token": principal.csrf_token}


@router.post("/users", status_code=201, response_model=UserRead)
async def create_user(body: UserCreate, session: SessionDep, _: AdminOnly) -> User:
    return await service.do_create_user(session, email=str(body.email), name=body.name,
                                        password=body.password, role=body.role,
                                        locale=body.locale)


@router.get("/users", response_model=list[UserRead])
async def list_users(session: SessionDep, _: AdminOnly) -> list[User]:
    return list(await session.scalars(select(User).order_by(User.name)))


@router.post("/teams", status_code=201)
async def create_team(body: TeamCreate, session: SessionDep, _: AdminOnly) -> dict[str, str]:
    team = await service.do_create_team(session, body.name, body.members)
    return {"id": str(team.id), "name": team.name}


@router.post("/tokens", status_code=201, response_model=TokenCreated)
async def create_token(body: TokenCreate, session: SessionDep,
                       principal: AdminOnly) -> TokenCreated:
    token, plain = await service.do_create_token(
        session, name=body.name, role=body.role, scopes=body.scopes, user_id=principal.user_id
    )
    return TokenCreated(**TokenRead.model_validate(token).model_dump(), token=plain)


@router.get("/tokens", response_model=list[TokenRead])
async def list_tokens(session: SessionDep, _: AdminOnly) -> list[ApiToken]:
    return list(await session.scalars(select(ApiToken).order_by(ApiToken.created_at)))


@router.delete("/tokens/{token_id}", response_model=TokenRead)
async def revoke_token(token_id: uuid.UUID, session: SessionDep, _: AdminOnly) -> ApiToken:
    return await service.do_revoke_token(session, token_id)
