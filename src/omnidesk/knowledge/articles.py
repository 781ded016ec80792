"""Knowledge-base articles: versions with diffs, translations, publishing, votes, and
staleness (past review-by, or a helpful rate that dropped)."""

from __future__ import annotations

import difflib
import uuid
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.kit.errors import Conflict, NotFound, ValidationFailed
from omnidesk.kit.ids import new_id
from omnidesk.kit.time import utcnow
from omnidesk.models import Article, ArticleVersion, ArticleVote, KbSetting, User

LOCALES = ("zh-CN", "zh-TW", "en")
STATUSES = ("draft", "published", "archived")
STALE_MIN_VOTES = 10
STALE_HELPFUL_RATE = 0.5
SYNONYMS_KEY = "synonyms"


class ArticleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=500)
    body: str = Field(min_length=1, max_length=200_000)
    locale: str = "zh-CN"
    visibility: str = Field(default="public", pattern="^(public|internal)$")
    product: str | None = Field(default=None, max_length=200)
    tags: list[str] = Field(default=[], max_length=50)
    example_questions: list[str] = Field(default=[], max_length=200)
    owner_id: uuid.UUID | None = None
    status: str = Field(default="draft", pattern="^(draft|published|archived)$")
    review_by: date | None = None
    group_id: uuid.UUID | None = None  # an existing article's group: a translation
    external_key: str | None = Field(default=None, max_length=300)

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if value not in LOCALES:
            raise ValueError(f"locale is one of {', '.join(LOCALES)}")
        return value


class ArticlePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, min_length=1, max_length=500)
    body: str | None = Field(default=None, min_length=1, max_length=200_000)
    visibility: str | None = Field(default=None, pattern="^(public|internal)$")
    product: str | None = Field(default=None, max_length=200)
    tags: list[str] | None = None
    example_questions: list[str] | None = None
    owner_id: uuid.UUID | None = None
    status: str | None = Field(default=None, pattern="^(draft|published|archived)$")
    review_by: date | None = None


def is_stale(a: Article, today: date | None = None) -> bool:
    today = today or utcnow().date()
    votes = a.helpful_yes + a.helpful_no
    dropped = votes >= STALE_MIN_VOTES and a.helpful_yes / votes < STALE_HELPFUL_RATE
    return (a.review_by is not None and a.review_by < today) or dropped


def article_json(a: Article) -> dict[str, Any]:
    votes = a.helpful_yes + a.helpful_no
    return {
        "id": str(a.id), "group_id": str(a.group_id), "locale": a.locale, "title": a.title,
        "body": a.body, "visibility": a.visibility, "product": a.product, "tags": a.tags,
        "example_questions": a.example_questions,
        "owner_id": str(a.owner_id) if a.owner_id else None, "status": a.status,
        "review_by": a.review_by.isoformat() if a.review_by else None, "version": a.version,
        "helpful_yes": a.helpful_yes, "helpful_no": a.helpful_no,
        "helpful_rate": round(a.helpful_yes / votes, 3) if votes else None,
        "stale": is_stale(a), "external_key": a.external_key,
        "updated_at": a.updated_at.isoformat(),
        "published_at": a.published_at.isoformat() if a.published_at else None,
    }


def _check_locale(locale: str) -> str:
    if locale not in LOCALES:
        raise ValidationFailed(f"locale is one of {', '.join(LOCALES)}", field="locale")
    return locale


def _diff(old_title: str, old_body: str, new_title: str, new_body: str) -> str:
    before = [f"# {old_title}", *old_body.splitlines()]
    after = [f"# {new_title}", *new_body.splitlines()]
    return "\n".join(difflib.unified_diff(before, after, "before", "after", lineterm=""))


async def get_article(session: AsyncSession, article_id: uuid.UUID) -> Article:
    article = await session.get(Article, article_id)
    if article is None:
        raise NotFound(f"article {article_id} not found")
    return article


async def do_create(session: AsyncSession, data: ArticleIn, author: str) -> Article:
    _check_locale(data.locale)
    if data.owner_id and await session.get(User, data.owner_id) is None:
        raise ValidationFailed("owner not found", field="owner_id")
    if data.group_id and not await session.scalar(
            select(Article.id).where(Article.group_id == data.group_id)):
        raise ValidationFailed("no article in that group to translate", field="group_id")
    now = utcnow()
    article = Article(**data.model_dump(exclude={"group_id"}),
                      group_id=data.group_id or new_id(), created_at=now, updated_at=now,
                      published_at=now if data.status == "published" else None)
    session.add(article)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict("that group already has an article in this locale, or the "
                       "external key is taken") from exc
    session.add(ArticleVersion(article_id=article.id, version=1, title=article.title,
                               body=article.body, example_questions=article.example_questions,
                               diff="", author=author))
    return article


async def do_update(session: AsyncSession, article: Article, data: ArticlePatch,
                    author: str) -> Article:
    changes = data.model_dump(exclude_unset=True)
    content_changed = any(k in changes for k in ("title", "body", "example_questions"))
    old_title, old_body = article.title, article.body
    for key, value in changes.items():
        setattr(article, key, value)
    now = utcnow()
    if changes.get("status") == "published" and article.published_at is None:
        article.published_at = now
    if content_changed:
        article.version += 1
        session.add(ArticleVersion(
            article_id=article.id, version=article.version, title=article.title,
            body=article.body, example_questions=article.example_questions,
            diff=_diff(old_title, old_body, article.title, article.body), author=author))
    article.updated_at = now
    return article


async def do_vote(session: AsyncSession, article: Article, voter: str, helpful: bool) -> bool:
    """One vote per voter (a later vote replaces theirs); True when it counted anew."""
    vote = await session.scalar(select(ArticleVote).where(
        ArticleVote.article_id == article.id, ArticleVote.voter == voter))
    if vote is not None:
        if vote.helpful == helpful:
            return False
        if vote.helpful:
            article.helpful_yes -= 1
        else:
            article.helpful_no -= 1
        vote.helpful = helpful
    else:
        session.add(ArticleVote(article_id=article.id, voter=voter, helpful=helpful))
    if helpful:
        article.helpful_yes += 1
    else:
        article.helpful_no += 1
    article.updated_at = utcnow()
    return True


async def list_stale(session: AsyncSession, owner_id: uuid.UUID | None) -> list[Article]:
    stmt = select(Article).where(Article.status == "published", or_(
        Article.review_by < utcnow().date(),
        Article.helpful_yes + Article.helpful_no >= STALE_MIN_VOTES))
    if owner_id:
        stmt = stmt.where(Article.owner_id == owner_id)
    return [a for a in await session.scalars(stmt.order_by(Article.review_by)) if is_stale(a)]


async def set_synonyms(session: AsyncSession, groups: list[list[str]]) -> list[list[str]]:
    """Admin-managed synonym groups (e.g. 宽带 / 寬頻 / broadband), applied at query time."""
    cleaned = [sorted({t.strip() for t in g if t.strip()}) for g in groups]
    cleaned = [g for g in cleaned if len(g) >= 2]
    row = await session.get(KbSetting, SYNONYMS_KEY)
    if row is None:
        row = KbSetting(key=SYNONYMS_KEY)
        session.add(row)
    row.value = {"groups": cleaned, "updated_at": utcnow().isoformat()}
    return cleaned


async def get_synonyms(session: AsyncSession) -> tuple[list[list[str]], str | None]:
    row = await session.get(KbSetting, SYNONYMS_KEY)
    if row is None:
        return [], None
    return [list(g) for g in row.value.get("groups", [])], row.value.get("updated_at")
