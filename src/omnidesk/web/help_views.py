"""The help centre (public): search, articles, "was this helpful?", and on every page
the ways to reach a person — self-service must never be a dead end."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import select
from starlette.responses import HTMLResponse, RedirectResponse, Response

from omnidesk.auth.deps import SESSION_COOKIE
from omnidesk.auth.service import get_principal_for_session
from omnidesk.kit.errors import NotFound, Unauthorized
from omnidesk.kit.web import SessionDep
from omnidesk.knowledge import articles as kb
from omnidesk.knowledge.library import library
from omnidesk.models import Article, Inbox, KbSetting
from omnidesk.models.enums import Channel
from omnidesk.web import i18n
from omnidesk.web.render import render

router = APIRouter(include_in_schema=False)
# Markdown from the knowledge base: raw HTML in articles is not rendered (escaped).
_md = MarkdownIt("commonmark", {"html": False, "linkify": False})
VOTER_COOKIE = "omnidesk_voter"


async def _contact_options(session: SessionDep) -> dict[str, object]:
    row = await session.get(KbSetting, "help_contact")
    chat = await session.scalar(select(Inbox).where(
        Inbox.channel == Channel.web_chat, Inbox.restricted.is_(False))
        .order_by(Inbox.created_at).limit(1))
    value = row.value if row else {}
    return {"hotline": value.get("hotline", "10000"), "email": value.get("email"),
            "hours": value.get("hours"), "chat_inbox": str(chat.id) if chat else None}


async def _is_staff(request: Request, session: SessionDep) -> bool:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return False
    try:
        await get_principal_for_session(session, cookie)
    except Unauthorized:
        return False
    return True


@router.get("/help")
async def help_home(request: Request, session: SessionDep, q: str = "") -> HTMLResponse:
    locale = i18n.pick(request)
    hits = []
    if q.strip():
        found = await library().search(session, q[:500], public_only=True, limit=20)
        hits = [{"hit": h, "a": a} for h, a in found]
    popular = []
    if not q.strip():
        popular = list(await session.scalars(select(Article).where(
            Article.status == "published", Article.visibility == "public",
            Article.locale == locale).order_by(Article.helpful_yes.desc()).limit(10)))
    return render(request, "help/home.html", q=q, hits=hits, popular=popular,
                  contact=await _contact_options(session),
                  staff=await _is_staff(request, session))


@router.get("/help/articles/{article_id}")
async def help_article(request: Request, article_id: uuid.UUID,
                       session: SessionDep) -> HTMLResponse:
    article = await session.get(Article, article_id)
    staff = await _is_staff(request, session)
    if article is None or (not staff and (article.status != "published"
                                          or article.visibility != "public")):
        raise NotFound("article not found")
    translations = list(await session.scalars(select(Article).where(
        Article.group_id == article.group_id, Article.id != article.id,
        Article.status == "published")))
    return render(request, "help/article.html", a=article,
                  html=Markup(_md.render(article.body)),
                  stale=kb.is_stale(article), staff=staff, translations=translations,
                  voted=request.query_params.get("voted"),
                  contact=await _contact_options(session))


@router.post("/help/articles/{article_id}/vote")
async def help_vote(request: Request, article_id: uuid.UUID, session: SessionDep,
                    helpful: Annotated[str, Form()]) -> Response:
    article = await session.get(Article, article_id)
    if article is None or article.status != "published" or article.visibility != "public":
        raise NotFound("article not found")
    voter = request.cookies.get(VOTER_COOKIE) or uuid.uuid4().hex
    await kb.do_vote(session, article, f"web:{voter}", helpful == "yes")
    response = RedirectResponse(f"/help/articles/{article.id}?voted={helpful}",
                                status_code=303)
    response.set_cookie(VOTER_COOKIE, voter, max_age=365 * 86400, httponly=True,
                        samesite="lax", path="/help")
    return response
