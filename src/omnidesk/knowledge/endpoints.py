"""REST API for the knowledge base: articles, versions, search, votes, synonyms, stale."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from omnidesk.auth.deps import AdminOnly, ReadContacts, WriteContacts
from omnidesk.kit.errors import NotFound
from omnidesk.kit.web import SessionDep
from omnidesk.knowledge import articles as kb
from omnidesk.knowledge.library import library
from omnidesk.models import Article, ArticleVersion

router = APIRouter(prefix="/api/v1", tags=["knowledge"])


class VoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    helpful: bool
    voter: str | None = Field(default=None, max_length=200)


class SynonymsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    groups: list[list[str]] = Field(max_length=2000)


def hit_json(hit: Any, article: Article) -> dict[str, Any]:
    return {"id": str(article.id), "title": article.title, "locale": article.locale,
            "visibility": article.visibility, "score": round(hit.score, 4),
            "title_highlighted": hit.title_highlighted, "snippet": hit.snippet,
            "stale": kb.is_stale(article), "url": f"/help/articles/{article.id}"}


@router.post("/kb/articles", status_code=201)
async def create_article(body: kb.ArticleIn, session: SessionDep,
                         principal: WriteContacts) -> dict[str, Any]:
    return kb.article_json(await kb.do_create(session, body, principal.label))


@router.get("/kb/articles")
async def list_articles(session: SessionDep, _: ReadContacts, status: str | None = None,
                        locale: str | None = None, owner_id: uuid.UUID | None = None,
                        limit: int = Query(100, ge=1, le=500)) -> list[dict[str, Any]]:
    stmt = select(Article)
    for column, value in ((Article.status, status), (Article.locale, locale),
                          (Article.owner_id, owner_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    rows = await session.scalars(stmt.order_by(Article.updated_at.desc()).limit(limit))
    return [kb.article_json(a) for a in rows]


@router.get("/kb/articles/{article_id}")
async def get_article(article_id: uuid.UUID, session: SessionDep,
                      _: ReadContacts) -> dict[str, Any]:
    article = await kb.get_article(session, article_id)
    translations = await session.scalars(select(Article).where(
        Article.group_id == article.group_id, Article.id != article.id))
    return {**kb.article_json(article),
            "translations": [{"id": str(t.id), "locale": t.locale, "title": t.title}
                             for t in translations]}


@router.patch("/kb/articles/{article_id}")
async def update_article(article_id: uuid.UUID, body: kb.ArticlePatch, session: SessionDep,
                         principal: WriteContacts) -> dict[str, Any]:
    article = await kb.get_article(session, article_id)
    return kb.article_json(await kb.do_update(session, article, body, principal.label))


@router.get("/kb/articles/{article_id}/versions")
async def versions(article_id: uuid.UUID, session: SessionDep,
                   _: ReadContacts) -> list[dict[str, Any]]:
    rows = await session.scalars(select(ArticleVersion).where(
        ArticleVersion.article_id == article_id).order_by(ArticleVersion.version))
    return [{"version": v.version, "title": v.title, "author": v.author, "diff": v.diff,
             "created_at": v.created_at.isoformat()} for v in rows]


@router.get("/kb/search", summary="Agents' search: internal and public articles")
async def search(session: SessionDep, _: ReadContacts, q: str = Query(max_length=500),
                 locale: str | None = None, limit: int = Query(10, ge=1, le=50)
                 ) -> list[dict[str, Any]]:
    hits = await library().search(session, q, public_only=False, locale=locale, limit=limit)
    return [hit_json(h, a) for h, a in hits]


@router.get("/help/search", summary="Customers' search: public articles only")
async def public_search(session: SessionDep, q: str = Query(max_length=500),
                        locale: str | None = None, limit: int = Query(10, ge=1, le=50)
                        ) -> list[dict[str, Any]]:
    hits = await library().search(session, q, public_only=True, locale=locale, limit=limit)
    return [hit_json(h, a) for h, a in hits]


@router.post("/help/articles/{article_id}/vote")
async def vote(article_id: uuid.UUID, body: VoteIn, request: Request,
               session: SessionDep) -> dict[str, Any]:
    """"Was this helpful?" — one vote per visitor (a later vote replaces theirs)."""
    article = await kb.get_article(session, article_id)
    if article.status != "published" or article.visibility != "public":
        raise NotFound("article not found")
    voter = body.voter or (request.client.host if request.client else "anonymous")
    await kb.do_vote(session, article, voter, body.helpful)
    return {"helpful_yes": article.helpful_yes, "helpful_no": article.helpful_no}


@router.put("/kb/synonyms")
async def put_synonyms(body: SynonymsIn, session: SessionDep, _: AdminOnly) -> dict[str, Any]:
    return {"groups": await kb.set_synonyms(session, body.groups)}


@router.get("/kb/synonyms")
async def get_synonyms(session: SessionDep, _: ReadContacts) -> dict[str, Any]:
    groups, _stamp = await kb.get_synonyms(session)
    return {"groups": groups}


@router.get("/kb/stale", summary="Articles past review-by or whose helpful rate dropped")
async def stale(session: SessionDep, _: ReadContacts,
                owner_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    return [kb.article_json(a) for a in await kb.list_stale(session, owner_id)]
