"""Administration of the knowledge base: the article list (filters: status, locale,
visibility, stale, text), the editor (markdown with a live preview through the help
centre's safe renderer), versions with their diffs, translations of the same group, and
the stale articles the signed-in admin owns.

Saving goes through ``knowledge.articles`` (``do_create`` / ``do_update``); a validation
error re-renders the form with the reason (4xx) and what was typed. A save made on top
of a version someone else has since replaced answers 409 and keeps the text."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.sql import Select
from starlette.responses import HTMLResponse, RedirectResponse, Response

from omnidesk.auth.service import Principal
from omnidesk.kit.errors import Conflict, NotFound, OmnideskError, ValidationFailed
from omnidesk.kit.time import utcnow
from omnidesk.kit.web import SessionDep
from omnidesk.knowledge import articles as kb
from omnidesk.models import Article, ArticleVersion, User
from omnidesk.web import i18n
from omnidesk.web.admin_views import EXTRA_NAV, pydantic_errors
from omnidesk.web.help_views import _md as help_markdown  # the help centre's safe renderer
from omnidesk.web.page_roles import AdminUser
from omnidesk.web.render import render

router = APIRouter(include_in_schema=False)
BASE = "/agent/admin/kb"
EXTRA_NAV.append((BASE, "Knowledge base"))
PAGE_SIZE = 200
FIELDS = ("title", "body", "locale", "visibility", "product", "tags", "example_questions",
          "review_by", "status", "owner_id")


def render_markdown(body: str) -> Markup:
    """Markdown as the help centre shows it: raw HTML escaped, unsafe links dropped."""
    return Markup(help_markdown.render(body))


def diff_lines(diff: str) -> list[tuple[str, str]]:
    """(css class, line) for a unified diff; the template escapes the text."""
    out = []
    for line in diff.splitlines():
        kind = ("meta" if line.startswith(("---", "+++", "@@")) else
                "add" if line.startswith("+") else "del" if line.startswith("-") else "same")
        out.append((kind, line))
    return out


def _lines(text: str) -> list[str]:
    return [s.strip() for s in text.replace("\r", "").split("\n") if s.strip()]


def _tags(text: str) -> list[str]:
    return [t.strip() for t in text.replace("，", ",").split(",") if t.strip()]


def _form_of(a: Article) -> dict[str, Any]:
    return {"title": a.title, "body": a.body, "locale": a.locale, "visibility": a.visibility,
            "product": a.product or "", "tags": ", ".join(a.tags),
            "example_questions": "\n".join(a.example_questions),
            "review_by": a.review_by.isoformat() if a.review_by else "", "status": a.status,
            "owner_id": str(a.owner_id) if a.owner_id else "", "version": a.version,
            "group_id": str(a.group_id)}


def _values(form: dict[str, Any]) -> dict[str, Any]:
    """The typed form as the API's field values (pydantic checks them)."""
    return {"title": form["title"].strip(), "body": form["body"].strip(),
            "visibility": form["visibility"], "product": form["product"].strip() or None,
            "tags": _tags(form["tags"]), "example_questions": _lines(form["example_questions"]),
            "review_by": form["review_by"] or None, "status": form["status"],
            "owner_id": form["owner_id"] or None}


async def _owners(session: SessionDep) -> list[User]:
    return list(await session.scalars(select(User).where(User.is_active).order_by(User.name)))


def _filtered(status: str, locale: str, visibility: str, stale: bool, q: str) -> Select[Any]:
    stmt = select(Article)
    for column, value in ((Article.status, status), (Article.locale, locale),
                          (Article.visibility, visibility)):
        if value:
            stmt = stmt.where(column == value)
    if stale:  # the SQL part of kb.is_stale; the rest is checked per row
        stmt = stmt.where(or_(Article.review_by < utcnow().date(),
                              Article.helpful_yes + Article.helpful_no >= kb.STALE_MIN_VOTES))
    if q.strip():
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(Article.title).like(like),
                              func.lower(Article.body).like(like),
                              func.lower(Article.product).like(like)))
    return stmt.order_by(Article.updated_at.desc()).limit(PAGE_SIZE)


@router.get(BASE)
async def kb_list(request: Request, session: SessionDep, principal: AdminUser,
                  status: str = "", locale: str = "", visibility: str = "",
                  stale: bool = False, q: str = "") -> HTMLResponse:
    rows = [a for a in await session.scalars(_filtered(status, locale, visibility, stale, q))
            if not stale or kb.is_stale(a)]
    owners = {u.id: u.name for u in await _owners(session)}
    mine = await kb.list_stale(session, principal.user_id) if principal.user_id else []
    return render(request, "admin/kb_list.html", principal=principal, section="kb",
                  articles=rows, owners=owners, mine=mine, is_stale=kb.is_stale,
                  filters={"status": status, "locale": locale, "visibility": visibility,
                           "stale": stale, "q": q},
                  statuses=kb.STATUSES, locales=kb.LOCALES, limit=PAGE_SIZE)


async def _editor(request: Request, session: SessionDep, principal: Principal,
                  form: dict[str, Any], article: Article | None = None, status: int = 200,
                  error: str | None = None) -> HTMLResponse:
    versions: list[ArticleVersion] = []
    siblings: list[Article] = []
    if article is not None:
        versions = list(await session.scalars(select(ArticleVersion).where(
            ArticleVersion.article_id == article.id).order_by(ArticleVersion.version.desc())))
    group = article.group_id if article is not None else form.get("group_id")
    if group:
        siblings = list(await session.scalars(select(Article).where(
            Article.group_id == uuid.UUID(str(group))).order_by(Article.locale)))
    have = {a.locale for a in siblings} | {form["locale"]}
    return render(request, "admin/kb_edit.html", status_code=status, principal=principal,
                  section="kb", a=article, form=form, error=error, owners=await _owners(session),
                  versions=versions, diff_lines=diff_lines,
                  translations=[s for s in siblings if article is None or s.id != article.id],
                  missing=[loc for loc in kb.LOCALES if loc not in have],
                  statuses=kb.STATUSES, locales=kb.LOCALES,
                  preview=render_markdown(form["body"]) if form["body"].strip() else None,
                  stale=kb.is_stale(article) if article is not None else False)


@router.get(BASE + "/new")
async def kb_new(request: Request, session: SessionDep, principal: AdminUser,
                 group: uuid.UUID | None = None, locale: str = "") -> HTMLResponse:
    """A new article; ``?group=<group id>&locale=en`` starts a translation from the
    group's newest article (its text to translate, product, tags and owner)."""
    form: dict[str, Any] = {
        "title": "", "body": "", "locale": locale if locale in kb.LOCALES else i18n.current(),
        "visibility": "public", "product": "", "tags": "", "example_questions": "",
        "review_by": "", "status": "draft",
        "owner_id": str(principal.user_id) if principal.user_id else "", "group_id": ""}
    if group is not None:
        source = await session.scalar(select(Article).where(Article.group_id == group)
                                      .order_by(Article.updated_at.desc()).limit(1))
        if source is None:
            raise NotFound("no article in that group")
        form.update({k: v for k, v in _form_of(source).items()
                     if k not in ("locale", "status", "version", "review_by")})
    return await _editor(request, session, principal, form)


@router.post(BASE)
async def kb_create(request: Request, session: SessionDep, principal: AdminUser,
                    title: Annotated[str, Form()] = "", body: Annotated[str, Form()] = "",
                    locale: Annotated[str, Form()] = "zh-CN",
                    visibility: Annotated[str, Form()] = "public",
                    product: Annotated[str, Form()] = "", tags: Annotated[str, Form()] = "",
                    example_questions: Annotated[str, Form()] = "",
                    review_by: Annotated[str, Form()] = "",
                    status: Annotated[str, Form()] = "draft",
                    owner_id: Annotated[str, Form()] = "",
                    group_id: Annotated[str, Form()] = "") -> Response:
    form = {"title": title, "body": body, "locale": locale, "visibility": visibility,
            "product": product, "tags": tags, "example_questions": example_questions,
            "review_by": review_by, "status": status, "owner_id": owner_id,
            "group_id": group_id}
    try:
        try:
            data = kb.ArticleIn.model_validate({**_values(form), "locale": locale,
                                                "group_id": group_id or None})
        except ValidationError as exc:
            raise ValidationFailed(pydantic_errors(exc)) from exc
        article = await kb.do_create(session, data, principal.label)
        await session.flush()
    except OmnideskError as exc:
        await session.rollback()
        form["group_id"] = group_id if _is_uuid(group_id) else ""
        return await _editor(request, session, principal, form, status=exc.status,
                             error=exc.detail)
    return RedirectResponse(f"{BASE}/{article.id}?saved=1", status_code=303)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


@router.post(BASE + "/preview")
async def kb_preview(principal: AdminUser, body: Annotated[str, Form()] = "") -> HTMLResponse:
    """The body rendered as the help centre will show it (htmx swaps it in)."""
    if len(body) > 200_000:
        raise ValidationFailed("body: at most 200000 characters")
    return HTMLResponse(render_markdown(body))


@router.get(BASE + "/{article_id}")
async def kb_edit(request: Request, article_id: uuid.UUID, session: SessionDep,
                  principal: AdminUser) -> HTMLResponse:
    article = await kb.get_article(session, article_id)
    return await _editor(request, session, principal, _form_of(article), article)


@router.post(BASE + "/{article_id}")
async def kb_update(request: Request, article_id: uuid.UUID, session: SessionDep,
                    principal: AdminUser, title: Annotated[str, Form()] = "",
                    body: Annotated[str, Form()] = "",
                    visibility: Annotated[str, Form()] = "public",
                    product: Annotated[str, Form()] = "", tags: Annotated[str, Form()] = "",
                    example_questions: Annotated[str, Form()] = "",
                    review_by: Annotated[str, Form()] = "",
                    status: Annotated[str, Form()] = "draft",
                    owner_id: Annotated[str, Form()] = "",
                    version: Annotated[str, Form()] = "") -> Response:
    article = await kb.get_article(session, article_id)
    form: dict[str, Any] = {
        "title": title, "body": body, "locale": article.locale, "visibility": visibility,
        "product": product, "tags": tags, "example_questions": example_questions,
        "review_by": review_by, "status": status, "owner_id": owner_id,
        "version": version, "group_id": str(article.group_id)}
    try:
        if version and version != str(article.version):
            raise Conflict(i18n.gettext(
                "Someone saved version %(version)s after you opened this article; "
                "your text is below — compare with the versions list and save again.")
                % {"version": article.version})
        values = _values(form)
        # Only what changed: a save without changes to the text makes no new version.
        for key, current in (("title", article.title), ("body", article.body),
                             ("example_questions", article.example_questions)):
            if values[key] == current:
                del values[key]
        try:
            patch = kb.ArticlePatch.model_validate(values)
        except ValidationError as exc:
            raise ValidationFailed(pydantic_errors(exc)) from exc
        if patch.owner_id and await session.get(User, patch.owner_id) is None:
            raise ValidationFailed("owner_id: no such user", field="owner_id")
        await kb.do_update(session, article, patch, principal.label)
        await session.flush()
    except OmnideskError as exc:
        await session.rollback()
        article = await kb.get_article(session, article_id)
        if isinstance(exc, Conflict):
            form["version"] = article.version
        return await _editor(request, session, principal, form, article, status=exc.status,
                             error=exc.detail)
    return RedirectResponse(f"{BASE}/{article.id}?saved=1", status_code=303)
