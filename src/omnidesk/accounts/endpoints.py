"""REST API for enterprise accounts and qualification documents."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from omnidesk.accounts import documents, service
from omnidesk.activity.context import activity_json
from omnidesk.auth.deps import ReadContacts, WriteContacts, require
from omnidesk.auth.service import Principal
from omnidesk.cases.service import case_json
from omnidesk.config import get_settings
from omnidesk.kit.errors import Forbidden, NotFound, ValidationFailed
from omnidesk.kit.web import SessionDep
from omnidesk.models import AccountHandover, AccountNote, Case, Document

router = APIRouter(prefix="/api/v1", tags=["accounts"])
Reviewer = Annotated[Principal, Depends(require("admin", "supervisor", "backoffice"))]
Manager = Annotated[Principal, Depends(require("admin", "supervisor", "account_manager"))]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HandoverIn(Strict):
    to_manager_id: uuid.UUID
    note: str | None = Field(default=None, max_length=5000)


class NoteIn(Strict):
    kind: str = Field(default="note", pattern="^(note|visit|call)$")
    body: str = Field(min_length=1, max_length=20_000)


class SlotIn(Strict):
    starts_at: datetime
    ends_at: datetime
    kinds: list[str] = Field(default=["visit", "call"], min_length=1)
    manager_id: uuid.UUID | None = None


class BookingIn(Strict):
    slot_id: uuid.UUID
    contact_id: uuid.UUID
    kind: str = Field(pattern="^(visit|call)$")
    topic: str = Field(default="", max_length=2000)


class ReviewIn(Strict):
    decision: str = Field(pattern="^(approved|rejected)$")
    reason: str | None = Field(default=None, max_length=2000)


@router.post("/organisations/{org_id}/handover", status_code=201)
async def handover(org_id: uuid.UUID, body: HandoverIn, session: SessionDep,
                   principal: Manager) -> dict[str, Any]:
    org = await service.get_org(session, org_id)
    h = await service.do_handover(session, org, body.to_manager_id, body.note, principal.label)
    return {"id": str(h.id), "from_manager_id": str(h.from_manager_id)
            if h.from_manager_id else None, "to_manager_id": str(h.to_manager_id),
            "moved": h.moved, "at": h.at.isoformat()}


@router.get("/organisations/{org_id}/account")
async def account(org_id: uuid.UUID, session: SessionDep, _: ReadContacts,
                  limit: int = Query(50, ge=1, le=200)) -> dict[str, Any]:
    """The relationship history: cases, notes, hand-overs and the members' timeline."""
    org = await service.get_org(session, org_id)
    members = await service.member_ids(session, org.id)
    cases = await session.scalars(select(Case).where(
        (Case.organisation_id == org.id) | Case.contact_id.in_(members or [uuid.UUID(int=0)]))
        .order_by(Case.created_at.desc()).limit(limit))
    notes = await session.scalars(select(AccountNote).where(
        AccountNote.organisation_id == org.id).order_by(AccountNote.at.desc()).limit(limit))
    handovers = await session.scalars(select(AccountHandover).where(
        AccountHandover.organisation_id == org.id).order_by(AccountHandover.at))
    return {
        "organisation_id": str(org.id),
        "account_manager_id": str(org.account_manager_id) if org.account_manager_id else None,
        "cases": [case_json(c) for c in cases],
        "notes": [{"id": str(n.id), "kind": n.kind, "body": n.body, "author": n.author_name,
                   "at": n.at.isoformat()} for n in notes],
        "handovers": [{"from": str(h.from_manager_id) if h.from_manager_id else None,
                       "to": str(h.to_manager_id), "moved": h.moved, "note": h.note,
                       "at": h.at.isoformat()} for h in handovers],
        "timeline": [activity_json(a) for a in
                     await service.account_timeline(session, org.id, limit)],
    }


@router.post("/organisations/{org_id}/notes", status_code=201)
async def add_note(org_id: uuid.UUID, body: NoteIn, session: SessionDep,
                   principal: WriteContacts) -> dict[str, Any]:
    org = await service.get_org(session, org_id)
    note = await service.do_add_note(session, org, body.kind, body.body, principal.user_id,
                                     principal.name)
    return {"id": str(note.id), "kind": note.kind, "body": note.body, "at": note.at.isoformat()}


@router.post("/slots", status_code=201, summary="An account manager offers a visit/call slot")
async def create_slot(body: SlotIn, session: SessionDep, principal: Manager) -> dict[str, Any]:
    manager_id = body.manager_id or principal.user_id
    if manager_id is None:
        raise ValidationFailed("name the manager_id", field="manager_id")
    if manager_id != principal.user_id and principal.role == "account_manager":
        raise Forbidden("account managers offer their own slots")
    bad = [k for k in body.kinds if k not in ("visit", "call")]
    if bad:
        raise ValidationFailed(f"unknown slot kinds {bad}", field="kinds")
    slot = await service.do_create_slot(session, manager_id, body.starts_at, body.ends_at,
                                        body.kinds)
    return {"id": str(slot.id), "manager_id": str(slot.manager_id),
            "starts_at": slot.starts_at.isoformat(), "ends_at": slot.ends_at.isoformat(),
            "kinds": slot.kinds}


@router.get("/organisations/{org_id}/slots")
async def slots(org_id: uuid.UUID, session: SessionDep, _: ReadContacts) -> list[dict[str, Any]]:
    org = await service.get_org(session, org_id)
    return [{"id": str(s.id), "starts_at": s.starts_at.isoformat(),
             "ends_at": s.ends_at.isoformat(), "kinds": s.kinds}
            for s in await service.free_slots(session, org)]


@router.post("/organisations/{org_id}/bookings", status_code=201)
async def book(org_id: uuid.UUID, body: BookingIn, session: SessionDep,
               principal: WriteContacts) -> dict[str, Any]:
    org = await service.get_org(session, org_id)
    booking = await service.do_book(session, org, body.slot_id, body.contact_id, body.kind,
                                    body.topic, principal.label)
    return service.booking_json(booking)


@router.post("/cases/{case_id}/documents", status_code=201)
async def upload_document(case_id: uuid.UUID, session: SessionDep, principal: WriteContacts,
                          kind: str = Form(...), file: UploadFile = File(...)
                          ) -> dict[str, Any]:
    doc = await documents.do_upload(session, case_id, kind, file, get_settings(),
                                    principal.label)
    return documents.document_json(doc)


@router.get("/cases/{case_id}/documents")
async def list_documents(case_id: uuid.UUID, session: SessionDep,
                         _: ReadContacts) -> list[dict[str, Any]]:
    rows = await session.scalars(select(Document).where(Document.case_id == case_id)
                                 .order_by(Document.created_at))
    return [documents.document_json(d) for d in rows]


async def _document(session: SessionDep, doc_id: uuid.UUID) -> Document:
    doc = await session.get(Document, doc_id)
    if doc is None:
        raise NotFound("document not found")
    return doc


@router.post("/documents/{doc_id}/review")
async def review(doc_id: uuid.UUID, body: ReviewIn, session: SessionDep,
                 principal: Reviewer) -> dict[str, Any]:
    doc = await _document(session, doc_id)
    await documents.do_review(session, doc, body.decision, body.reason, principal.label)
    return documents.document_json(doc)


@router.get("/documents/{doc_id}/file")
async def download(doc_id: uuid.UUID, session: SessionDep, _: Reviewer) -> FileResponse:
    """Only reviewers (admin, supervisor, back office) download documents."""
    doc = await _document(session, doc_id)
    path = documents.document_path(doc, get_settings())
    if not path.is_file():
        raise NotFound("document file is missing")
    return FileResponse(path, media_type=doc.content_type, filename=doc.filename,
                        content_disposition_type="attachment")
