"""Users, teams, API tokens and UI sessions."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from omnidesk.kit.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from omnidesk.kit.ids import new_token
from omnidesk.kit.security import hash_password, hash_token, verify_password
from omnidesk.kit.time import utcnow
from omnidesk.models import ApiToken, Inbox, Team, TeamMember, User, UserSession
from omnidesk.models.enums import Role

TOKEN_PREFIX = "od_"
SCOPES = (
    "contacts:read", "contacts:write", "events:write", "conversations:read",
    "conversations:write", "admin",
)
ALL_ROLES = frozenset(r.value for r in Role)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a signed-in user or an API token (acting with a role)."""

    kind: str  # "user" | "token"
    id: uuid.UUID
    name: str
    role: str
    user_id: uuid.UUID | None = None
    scopes: frozenset[str] = frozenset()
    team_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    csrf_token: str | None = None

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"

    def has_scope(self, scope: str) -> bool:
        return not self.scopes or scope in self.scopes or "admin" in self.scopes

    def can_see_inbox(self, inbox: Inbox) -> bool:
        if self.role in (Role.admin, Role.supervisor) or not inbox.restricted:
            return True
        return inbox.team_id is not None and inbox.team_id in self.team_ids


def check_role(role: str) -> str:
    if role not in ALL_ROLES:
        raise ValidationFailed(f"unknown role {role!r}; one of {', '.join(sorted(ALL_ROLES))}")
    return role


def check_scopes(scopes: list[str]) -> list[str]:
    bad = [s for s in scopes if s not in SCOPES]
    if bad:
        raise ValidationFailed(f"unknown scopes {bad}; known: {', '.join(SCOPES)}")
    return sorted(set(scopes))


async def do_create_user(
    session: AsyncSession, *, email: str, name: str, password: str, role: str,
    locale: str = "zh-CN",
) -> User:
    check_role(role)
    if len(password) < 8:
        raise ValidationFailed("password must have at least 8 characters")
    email = email.strip().lower()
    if await session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(f"a user with email {email} exists")
    user = User(email=email, name=name, password_hash=hash_password(password), role=role,
                locale=locale)
    session.add(user)
    await session.flush()
    return user


async def do_create_team(session: AsyncSession, name: str, members: list[uuid.UUID]) -> Team:
    if await session.scalar(select(Team.id).where(Team.name == name)):
        raise Conflict(f"a team named {name!r} exists")
    team = Team(name=name)
    session.add(team)
    await session.flush()
    for user_id in members:
        if await session.get(User, user_id) is None:
            raise NotFound(f"user {user_id} not found")
        session.add(TeamMember(team_id=team.id, user_id=user_id))
    await session.flush()
    return team


async def do_create_token(
    session: AsyncSession, *, name: str, role: str, scopes: list[str] | None = None,
    user_id: uuid.UUID | None = None,
) -> tuple[ApiToken, str]:
    """Mint a token; the plain value is returned once and only its hash is stored."""
    check_role(role)
    plain = new_token(TOKEN_PREFIX)
    token = ApiToken(name=name, token_hash=hash_token(plain), prefix=plain[:8], role=role,
                     scopes=check_scopes(scopes or []), user_id=user_id)
    session.add(token)
    await session.flush()
    return token, plain


async def do_revoke_token(session: AsyncSession, token_id: uuid.UUID) -> ApiToken:
    token = await session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("token not found")
    token.revoked_at = token.revoked_at or utcnow()
    return token


async def _team_ids(session: AsyncSession, user_id: uuid.UUID) -> frozenset[uuid.UUID]:
    rows = await session.scalars(select(TeamMember.team_id).where(TeamMember.user_id == user_id))
    return frozenset(rows)


class TokenCache:
    """A short-lived in-process cache of API token hash -> Principal, so that a request
    with a bearer token does not read the token (and its user's teams) every time.

    - Entries live ``ttl`` seconds: a token revoked (or a team membership changed) by
      ANOTHER process is refused here within that time.
    - In THIS process the cache is emptied as soon as a session flushes a change to an
      API token, a team or a team membership (revoking a token, moving a user between
      teams, from any code path that uses the ORM), and again after that commit; a lookup
      that read the database before such a change does not store what it read (the
      generation check), so a revoked token is refused at once.
    - Only valid tokens are cached; the key includes the database URL.
    """

    WATCHED: tuple[type, ...] = (ApiToken, Team, TeamMember)

    def __init__(self, ttl: float = 3.0, max_entries: int = 10_000) -> None:
        self.ttl, self.max_entries = ttl, max_entries
        self.generation = 0
        self.clock: Callable[[], float] = time.monotonic
        self._entries: dict[tuple[Any, str], tuple[Principal, float]] = {}

    def get(self, key: tuple[Any, str]) -> Principal | None:
        hit = self._entries.get(key)
        if hit is None:
            return None
        if hit[1] <= self.clock():
            self._entries.pop(key, None)
            return None
        return hit[0]

    def put(self, key: tuple[Any, str], principal: Principal, generation: int) -> None:
        if generation != self.generation or self.ttl <= 0:
            return  # a watched change happened while it was being read
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (principal, self.clock() + self.ttl)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()


TOKENS = TokenCache()


@event.listens_for(Session, "after_flush")
def _tokens_changed(session: Session, _context: Any) -> None:
    watched = TokenCache.WATCHED
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, watched):
            TOKENS.clear()
            session.info["omnidesk.tokens_changed"] = True
            return


@event.listens_for(Session, "after_commit")
def _tokens_committed(session: Session) -> None:
    if session.info.pop("omnidesk.tokens_changed", False):
        TOKENS.clear()


@event.listens_for(Session, "after_rollback")
def _tokens_rolled_back(session: Session) -> None:
    session.info.pop("omnidesk.tokens_changed", None)


async def get_principal_for_token(session: AsyncSession, plain: str) -> Principal:
    key = (getattr(session.bind, "url", None), hash_token(plain))
    cached = TOKENS.get(key)
    if cached is not None:
        return cached
    generation = TOKENS.generation
    token = await session.scalar(select(ApiToken).where(ApiToken.token_hash == key[1]))
    if token is None or token.revoked_at is not None:
        raise Unauthorized("invalid or revoked API token")
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        await session.execute(
            update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now)
        )
    teams = await _team_ids(session, token.user_id) if token.user_id else frozenset()
    principal = Principal(kind="token", id=token.id, name=token.name, role=token.role,
                          user_id=token.user_id, scopes=frozenset(token.scopes), team_ids=teams)
    TOKENS.put(key, principal, generation)
    return principal


async def do_login(
    session: AsyncSession, email: str, password: str, days: int
) -> tuple[User, str, str]:
    user = await session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.is_active or not verify_password(user.password_hash, password):
        raise Unauthorized("wrong email or password")
    plain = new_token("", 32)
    csrf = new_token("", 24)
    session.add(UserSession(token_hash=hash_token(plain), user_id=user.id, csrf_token=csrf,
                            expires_at=utcnow() + timedelta(days=days)))
    user.last_seen_at = utcnow()
    await session.flush()
    return user, plain, csrf


async def get_principal_for_session(session: AsyncSession, plain: str) -> Principal:
    row = (await session.execute(
        select(UserSession, User).join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == hash_token(plain))
    )).first()
    if row is None:
        raise Unauthorized("session expired; sign in again")
    us, user = row
    if us.expires_at < utcnow() or not user.is_active:
        raise Unauthorized("session expired; sign in again")
    return Principal(kind="user", id=user.id, name=user.name, role=user.role, user_id=user.id,
                     team_ids=await _team_ids(session, user.id), csrf_token=us.csrf_token)


async def do_logout(session: AsyncSession, plain: str) -> None:
    us = await session.scalar(
        select(UserSession).where(UserSession.token_hash == hash_token(plain))
    )
    if us is not None:
        await session.delete(us)
