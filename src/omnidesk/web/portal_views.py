"""The customer portal (/portal): sign in with a one-time code, see your conversations on
every channel and your cases, upload documents for your qualification cases.

A customer only ever sees their own records: every query is filtered by the signed-in
contact, and someone else's id answers 404. Internal notes are never shown."""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import ValidationError
from sqlalchemy import select
from starlette.responses import HTMLResponse, RedirectResponse, Response

from omnidesk.accounts.documents import KINDS, do_upload
from omnidesk.cases.schemas import CaseCreate
from omnidesk.cases.service import do_create_case
from omnidesk.config import get_settings
from omnidesk.conversations.attachments import attachment_path
from omnidesk.kit.errors import (
    Forbidden,
    NotFound,
    OmnideskError,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from omnidesk.kit.web import SessionDep
from omnidesk.models import Attachment, Case, Conversation, Document, Inbox, Message
from omnidesk.web import i18n
from omnidesk.web.portal_auth import (
    PORTAL_COOKIE,
    SESSION_TTL,
    Customer,
    PortalRefused,
    check_identity,
    do_end_session,
    do_request_code,
    do_start_session,
    do_verify_code,
    get_customer,
    show_code,
)
from omnidesk.web.render import render

router = APIRouter(include_in_schema=False)
PRE_CSRF = "omnidesk_portal_csrf"
SIGN_IN = "/portal/sign-in"


def _secure(request: Request) -> bool:
    configured = get_settings().cookie_secure
    return request.url.scheme == "https" if configured is None else configured


def page(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    """Render; an explicit ``?lang=`` is remembered in the locale cookie."""
    response = render(request, template, status_code=status, **ctx)
    chosen = i18n.normalise(request.query_params.get("lang"))
    if chosen:
        response.set_cookie(i18n.COOKIE, chosen, max_age=365 * 86400, samesite="lax", path="/")
    return response


async def current(request: Request, session: SessionDep) -> Customer | None:
    return await get_customer(session, request.cookies.get(PORTAL_COOKIE))


async def check_csrf(request: Request, customer: Customer) -> None:
    form = await request.form()
    sent = str(form.get("csrf_token") or request.headers.get("X-CSRF-Token") or "")
    if not secrets.compare_digest(sent, customer.csrf_token):
        raise Forbidden("missing or wrong CSRF token")


def _to_sign_in() -> RedirectResponse:
    return RedirectResponse(SIGN_IN, status_code=303)


def refusal(reason: str) -> str:
    gettext = i18n.gettext
    return {
        "identity": gettext("Enter your e-mail address or mobile phone number."),
        "unknown": gettext("We have no customer with this e-mail address or phone number. "
                           "Use the one you gave us, or contact us."),
        "too_soon": gettext("A code was just sent. Wait a minute before asking again."),
        "too_many": gettext("Too many codes were asked for. Try again in an hour."),
        "expired": gettext("This code has expired or was already used. Ask for a new one."),
        "attempts": gettext("Too many wrong codes. Ask for a new one."),
        "wrong": gettext("That code is not right. Check it and try again."),
        "form": gettext("The form expired. Please try again."),
    }[reason]


# Sign-in


def _sign_in_page(request: Request, *, status: int = 200, step: str = "identity",
                  identity: str = "", error: str | None = None,
                  dev_code: str | None = None) -> HTMLResponse:
    token = request.cookies.get(PRE_CSRF) or secrets.token_urlsafe(24)
    response = page(request, "portal/sign_in.html", status=status, csrf=token, step=step,
                    identity=identity, error=error, dev_code=dev_code)
    response.set_cookie(PRE_CSRF, token, httponly=True, samesite="strict", path="/portal",
                        secure=_secure(request))
    return response


def _pre_csrf_ok(request: Request, sent: str) -> bool:
    expected = request.cookies.get(PRE_CSRF, "")
    return bool(expected) and secrets.compare_digest(expected, sent)


@router.get(SIGN_IN)
async def sign_in(request: Request, session: SessionDep) -> Response:
    if await current(request, session) is not None:
        return RedirectResponse("/portal", status_code=303)
    return _sign_in_page(request)


@router.post(SIGN_IN)
async def request_code(request: Request, session: SessionDep,
                       identity: Annotated[str, Form(max_length=320)],
                       csrf_token: Annotated[str, Form()] = "") -> Response:
    i18n.activate(i18n.pick(request))
    if not _pre_csrf_ok(request, csrf_token):
        return _sign_in_page(request, status=403, identity=identity, error=refusal("form"))
    settings = get_settings()
    try:
        kind, value = check_identity(identity, settings.default_region)
        code = await do_request_code(session, kind, value, settings.secret_key,
                                     i18n.current())
    except PortalRefused as exc:
        return _sign_in_page(request, status=exc.status, identity=identity,
                             error=refusal(exc.reason))
    return _sign_in_page(request, step="code", identity=identity,
                         dev_code=code if show_code() else None)


@router.post(f"{SIGN_IN}/verify")
async def verify_code(request: Request, session: SessionDep,
                      identity: Annotated[str, Form(max_length=320)],
                      code: Annotated[str, Form(max_length=20)],
                      csrf_token: Annotated[str, Form()] = "") -> Response:
    i18n.activate(i18n.pick(request))
    if not _pre_csrf_ok(request, csrf_token):
        return _sign_in_page(request, status=403, step="code", identity=identity,
                             error=refusal("form"))
    settings = get_settings()
    try:
        kind, value = check_identity(identity, settings.default_region)
        contact = await do_verify_code(session, kind, value, code, settings.secret_key)
    except PortalRefused as exc:
        step = "identity" if exc.reason in ("identity", "expired", "attempts") else "code"
        # a wrong code still counts: the handler returns normally, so the attempt commits
        return _sign_in_page(request, status=exc.status, step=step, identity=identity,
                             error=refusal(exc.reason))
    plain = await do_start_session(session, contact.id)
    response = RedirectResponse("/portal", status_code=303)
    response.set_cookie(PORTAL_COOKIE, plain, max_age=int(SESSION_TTL.total_seconds()),
                        httponly=True, samesite="lax", path="/portal", secure=_secure(request))
    response.delete_cookie(PRE_CSRF, path="/portal")
    return response


@router.post("/portal/sign-out")
async def sign_out(request: Request, session: SessionDep) -> Response:
    customer = await current(request, session)
    if customer is not None:
        await check_csrf(request, customer)
        await do_end_session(session, request.cookies.get(PORTAL_COOKIE, ""))
    response = _to_sign_in()
    response.delete_cookie(PORTAL_COOKIE, path="/portal")
    return response


# The customer's records


@router.get("/portal")
async def home(request: Request, session: SessionDep) -> Response:
    customer = await current(request, session)
    if customer is None:
        return _to_sign_in()
    me = customer.contact.id
    last_public = (select(Message.body).where(Message.conversation_id == Conversation.id,
                                              Message.is_note.is_(False))
                   .order_by(Message.seq.desc()).limit(1).correlate(Conversation)
                   .scalar_subquery())
    conversations = list(await session.execute(
        select(Conversation, Inbox.name, last_public).join(Inbox, Inbox.id == Conversation.inbox_id)
        .where(Conversation.contact_id == me)
        .order_by(Conversation.last_message_at.desc().nulls_last()).limit(100)))
    cases = list(await session.scalars(select(Case).where(Case.contact_id == me)
                                       .order_by(Case.created_at.desc()).limit(100)))
    return page(request, "portal/home.html", customer=customer, conversations=conversations,
                cases=cases)


async def _own_conversation(session: SessionDep, customer: Customer,
                            conversation_id: uuid.UUID) -> Conversation:
    found = await session.get(Conversation, conversation_id)
    if found is None or found.contact_id != customer.contact.id:
        raise NotFound("conversation not found")
    return found


@router.get("/portal/conversations/{conversation_id}")
async def conversation(request: Request, conversation_id: uuid.UUID,
                       session: SessionDep) -> Response:
    customer = await current(request, session)
    if customer is None:
        return _to_sign_in()
    c = await _own_conversation(session, customer, conversation_id)
    messages = list(await session.scalars(select(Message).where(
        Message.conversation_id == c.id, Message.is_note.is_(False)).order_by(Message.seq)))
    atts: dict[uuid.UUID, list[Attachment]] = {}
    if messages:
        for a in await session.scalars(select(Attachment).where(
                Attachment.message_id.in_([m.id for m in messages]))):
            atts.setdefault(a.message_id, []).append(a)  # type: ignore[arg-type]
    inbox = await session.get(Inbox, c.inbox_id)
    return page(request, "portal/conversation.html", customer=customer, c=c,
                inbox_name=inbox.name if inbox else "", messages=messages, atts=atts)


@router.get("/portal/attachments/{attachment_id}")
async def attachment(request: Request, attachment_id: uuid.UUID,
                     session: SessionDep) -> Response:
    customer = await current(request, session)
    if customer is None:
        return _to_sign_in()
    att = await session.get(Attachment, attachment_id)
    message = await session.get(Message, att.message_id) if att and att.message_id else None
    if att is None or message is None or message.is_note or att.conversation_id is None:
        raise NotFound("attachment not found")
    await _own_conversation(session, customer, att.conversation_id)
    path = attachment_path(att, get_settings())
    if not path.is_file():
        raise NotFound("attachment not found")
    return FileResponse(path, media_type=att.content_type, filename=att.filename,
                        content_disposition_type="attachment")


async def _case_page(request: Request, session: SessionDep, customer: Customer,
                     case_id: uuid.UUID, status: int = 200, error: str | None = None,
                     ) -> HTMLResponse:
    case = await session.get(Case, case_id)
    if case is None or case.contact_id != customer.contact.id:
        raise NotFound("case not found")
    documents = list(await session.scalars(select(Document).where(
        Document.case_id == case.id).order_by(Document.created_at.desc())))
    return page(request, "portal/case.html", status=status, customer=customer, case=case,
                documents=documents, kinds=KINDS, error=error,
                uploaded=request.query_params.get("uploaded") == "1",
                can_upload=case.type == "qualification" and case.status != "closed")


@router.get("/portal/cases/{case_id}")
async def case_page(request: Request, case_id: uuid.UUID, session: SessionDep) -> Response:
    customer = await current(request, session)
    if customer is None:
        return _to_sign_in()
    return await _case_page(request, session, customer, case_id)


def _upload_error(exc: OmnideskError) -> str:
    if isinstance(exc, UnsupportedMediaType):
        return i18n.gettext("Upload a PDF, JPEG or PNG file.")
    if isinstance(exc, PayloadTooLarge):
        return i18n.gettext("The file is too large.")
    if exc.extra.get("field") == "file":
        return i18n.gettext("The file is empty.")
    return exc.detail


@router.post("/portal/cases")
async def open_case(request: Request, session: SessionDep, type: Annotated[str, Form()],
                    title: Annotated[str, Form()],
                    description: Annotated[str, Form()] = "") -> Response:
    """A customer opens a case themselves (source ``customer``)."""
    customer = await current(request, session)
    if customer is None:
        return _to_sign_in()
    await check_csrf(request, customer)
    try:
        data = CaseCreate(contact_id=customer.contact.id, type=type,
                          subject=title.strip()[:500] or "—", description=description[:20000])
    except ValidationError as exc:
        raise ValidationFailed("choose a case type and give a subject") from exc
    case = await do_create_case(session, data, actor=f"customer:{customer.contact.id}",
                                source="customer", channel="portal")
    return RedirectResponse(f"/portal/cases/{case.id}", status_code=303)


@router.post("/portal/cases/{case_id}/documents")
async def upload_document(request: Request, case_id: uuid.UUID, session: SessionDep,
                          kind: Annotated[str, Form()],
                          file: Annotated[UploadFile, File()]) -> Response:
    customer = await current(request, session)
    if customer is None:
        return _to_sign_in()
    await check_csrf(request, customer)
    i18n.activate(i18n.pick(request))
    case = await session.get(Case, case_id)
    if case is None or case.contact_id != customer.contact.id:
        raise NotFound("case not found")
    try:
        await do_upload(session, case.id, kind, file, get_settings(),
                        actor=f"customer:{customer.contact.id}")
    except OmnideskError as exc:
        return await _case_page(request, session, customer, case_id, status=exc.status,
                                error=_upload_error(exc))
    return RedirectResponse(f"/portal/cases/{case.id}?uploaded=1", status_code=303)
