"""The process's search index over the knowledge base, kept in step with the database.

Every search first applies what changed since the last one (articles by ``updated_at``,
the synonym groups), so several server processes stay consistent without messaging.
Stale articles (past review-by, or a helpful rate that dropped) are indexed with a lower
boost: the bot trusts them less."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.knowledge.articles import get_synonyms, is_stale
from omnidesk.knowledge.search import Hit, SearchDoc, SearchIndex
from omnidesk.models import Article

STALE_BOOST = 0.6


def to_doc(a: Article) -> SearchDoc:
    return SearchDoc(id=a.id, title=a.title, body=a.body, locale=a.locale,
                     visibility=a.visibility, example_questions=a.example_questions,
                     product=a.product, tags=a.tags,
                     boost=STALE_BOOST if is_stale(a) else 1.0)


class Library:
    def __init__(self) -> None:
        self.index = SearchIndex()
        self.articles: dict[uuid.UUID, Article] = {}
        self._seen: datetime | None = None
        self._synonyms_seen: str | None = None
        self._lock = asyncio.Lock()

    async def sync(self, session: AsyncSession) -> None:
        async with self._lock:
            stmt = select(Article)
            if self._seen is not None:
                stmt = stmt.where(Article.updated_at >= self._seen)
            for a in await session.scalars(stmt.order_by(Article.updated_at)):
                session.expunge(a)
                if a.status == "published":
                    if a.id in self.articles:
                        self.index.update(to_doc(a))
                    else:
                        self.index.add(to_doc(a))
                    self.articles[a.id] = a
                elif self.articles.pop(a.id, None) is not None:
                    self.index.remove(a.id)
                if self._seen is None or a.updated_at > self._seen:
                    self._seen = a.updated_at
            groups, stamp = await get_synonyms(session)
            if stamp != self._synonyms_seen:
                self.index.set_synonyms(groups)
                self._synonyms_seen = stamp

    async def search(self, session: AsyncSession, query: str, *, public_only: bool,
                     locale: str | None = None, limit: int = 10) -> list[tuple[Hit, Article]]:
        await self.sync(session)
        hits = self.index.search(query, limit=limit,
                                 visibility="public" if public_only else None, locale=locale)
        return [(h, self.articles[h.doc_id]) for h in hits  # type: ignore[index]
                if h.doc_id in self.articles]


_library = Library()


def library() -> Library:
    return _library


def reset_library() -> None:
    """A fresh index (tests and a server start use a new database)."""
    global _library
    _library = Library()
