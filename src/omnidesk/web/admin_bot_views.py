"""Administration of the bot: its settings (the API's ``BotSettingsIn``: on/off, channels,
always-human tiers, unhelpful answers before a hand-off, the confidence threshold,
e-mail auto-replies per inbox and intent), labelled utterances imported from CSV
(``text,label``), "train now", and the trained models with their metrics.

Every form is CSRF-checked (``AdminUser``); bad input re-renders the page with the
reason next to the form it came from (4xx) and what was typed."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from pydantic import ValidationError
from sqlalchemy import func, select
from starlette.responses import HTMLResponse, RedirectResponse, Response

from omnidesk.auth.service import Principal
from omnidesk.bot import engine, model
from omnidesk.bot.endpoints import BotSettingsIn
from omnidesk.kit.errors import OmnideskError, PayloadTooLarge, ValidationFailed
from omnidesk.kit.web import SessionDep
from omnidesk.models import Article, Contact, Inbox, KbSetting, NluModel, NluUtterance
from omnidesk.models.enums import Channel, OrgTier
from omnidesk.web.admin_views import EXTRA_NAV, pydantic_errors
from omnidesk.web.page_roles import AdminUser
from omnidesk.web.render import render

router = APIRouter(include_in_schema=False)
BASE = "/agent/admin/bot"
EXTRA_NAV.append((BASE, "Bot"))
CSV_LIMIT = 5 * 1024 * 1024
BOT_CHANNELS = [c.value for c in Channel if c not in (Channel.portal, Channel.forum)]


async def _intent_names(session: SessionDep, labels: list[str]) -> dict[str, str]:
    """Readable names: ``article:<group>`` labels by their articles' titles."""
    groups = []
    for label in labels:
        if label.startswith(model.ARTICLE):
            try:
                groups.append(uuid.UUID(label.removeprefix(model.ARTICLE)))
            except ValueError:
                continue
    names = {label: label for label in labels}
    if groups:
        for group_id, title, locale in await session.execute(
                select(Article.group_id, Article.title, Article.locale)
                .where(Article.group_id.in_(groups)).order_by(Article.locale)):
            key = f"{model.ARTICLE}{group_id}"
            if names[key] == key:
                names[key] = f"{title} ({locale})"
    return names


async def _page(request: Request, session: SessionDep, principal: Principal,
                status: int = 200, **extra: Any) -> HTMLResponse:
    config = await engine.settings(session)
    inboxes = list(await session.scalars(select(Inbox).where(
        Inbox.channel == Channel.email).order_by(Inbox.name)))
    contact_tiers = await session.scalars(select(Contact.tier).where(
        Contact.tier.is_not(None)).distinct().limit(50))
    tiers = sorted({t.value for t in OrgTier} | {t for t in contact_tiers if t}
                   | set(config["always_human_tiers"]))
    models = list(await session.execute(
        select(NluModel.id, NluModel.metrics, NluModel.created_at, NluModel.labels)
        .order_by(NluModel.created_at.desc()).limit(20)))
    labels = sorted(set(models[0].labels if models else [])
                    | set(config["email_auto_reply"]["intents"]))
    utterances = list(await session.execute(
        select(NluUtterance.label, func.count()).group_by(NluUtterance.label)
        .order_by(func.count().desc(), NluUtterance.label).limit(100)))
    total = await session.scalar(select(func.count()).select_from(NluUtterance))
    extra.setdefault("form", config)
    return render(request, "admin/bot.html", status_code=status, principal=principal,
                  section="bot", inboxes=inboxes, tiers=tiers, channels=BOT_CHANNELS,
                  models=models, intents=labels,
                  intent_names=await _intent_names(session, labels),
                  utterances=utterances, utterance_total=total or 0, **extra)


@router.get(BASE)
async def bot_page(request: Request, session: SessionDep,
                   principal: AdminUser) -> HTMLResponse:
    return await _page(request, session, principal)


@router.post(BASE + "/settings")
async def save_settings(request: Request, session: SessionDep, principal: AdminUser,
                        enabled: Annotated[bool, Form()] = False,
                        max_unhelpful: Annotated[str, Form()] = "2",
                        min_confidence: Annotated[str, Form()] = "",
                        email_enabled: Annotated[bool, Form()] = False) -> Response:
    data = await request.form()
    values: dict[str, Any] = {
        "enabled": enabled, "channels": [str(v) for v in data.getlist("channels")],
        "always_human_tiers": [str(v) for v in data.getlist("always_human_tiers")],
        "max_unhelpful": max_unhelpful.strip(),
        "min_confidence": min_confidence.strip() or None,
        "email_auto_reply": {"enabled": email_enabled,
                             "inbox_ids": [str(v) for v in data.getlist("inbox_ids")],
                             "intents": [str(v) for v in data.getlist("intents")]}}
    try:
        try:
            body = BotSettingsIn.model_validate(values)
        except ValidationError as exc:
            raise ValidationFailed(pydantic_errors(exc)) from exc
        unknown = [c for c in body.channels if c not in BOT_CHANNELS]
        if unknown:
            raise ValidationFailed(f"channels: unknown channel {unknown[0]!r}",
                                   field="channels")
        for inbox_id in body.email_auto_reply.inbox_ids:
            inbox = await session.get(Inbox, inbox_id)
            if inbox is None or inbox.channel != Channel.email:
                raise ValidationFailed(f"email_auto_reply.inbox_ids: {inbox_id} is not an "
                                       "e-mail inbox", field="inbox_ids")
        row = await session.get(KbSetting, engine.SETTINGS_KEY)
        if row is None:
            row = KbSetting(key=engine.SETTINGS_KEY)
            session.add(row)
        row.value = body.model_dump(mode="json")
        await session.flush()
    except OmnideskError as exc:
        await session.rollback()
        return await _page(request, session, principal, status=exc.status,
                           settings_error=exc.detail, form=values)
    return RedirectResponse(f"{BASE}?saved=1", status_code=303)


@router.post(BASE + "/utterances")
async def import_utterances(request: Request, session: SessionDep, principal: AdminUser,
                            file: Annotated[UploadFile | None, File()] = None,
                            replace: Annotated[bool, Form()] = False) -> Response:
    try:
        if file is None or not file.filename:
            raise ValidationFailed("file: choose a CSV file (text,label)", field="file")
        raw = await file.read(CSV_LIMIT + 1)
        if len(raw) > CSV_LIMIT:
            raise PayloadTooLarge("file: the CSV is limited to 5 MiB")
        rows = model.parse_utterances(raw)
        count = await model.do_import_utterances(session, rows, replace)
        await session.flush()
    except OmnideskError as exc:
        await session.rollback()
        return await _page(request, session, principal, status=exc.status,
                           upload_error=exc.detail)
    return RedirectResponse(f"{BASE}?imported={count}", status_code=303)


@router.post(BASE + "/train")
async def train(request: Request, session: SessionDep, principal: AdminUser) -> Response:
    try:
        trained = await model.do_train(session)
    except OmnideskError as exc:
        await session.rollback()
        return await _page(request, session, principal, status=exc.status,
                           train_error=exc.detail)
    return RedirectResponse(f"{BASE}?trained={trained.id}", status_code=303)
