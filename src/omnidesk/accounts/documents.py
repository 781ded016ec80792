"""Qualification documents: uploaded for a qualification case, reviewed, audited."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

from fastapi import UploadFile
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.activity.service import add_activity
from omnidesk.cases.service import audit, get_case
from omnidesk.config import Settings
from omnidesk.conversations.attachments import read_limited, safe_filename, sniff
from omnidesk.conversations.service import get_conversation, reply
from omnidesk.kit.errors import Conflict, UnsupportedMediaType, ValidationFailed
from omnidesk.kit.ids import new_id
from omnidesk.kit.outbox import emit
from omnidesk.kit.time import utcnow
from omnidesk.models import CaseLink, Document

KINDS = ("business_licence", "id_card", "authorisation_letter", "other")
MESSAGES = {
    "approved": "您提交的资料（{kind}）已审核通过。 Your document ({kind}) was approved.",
    "rejected": "您提交的资料（{kind}）未通过审核：{reason}。请重新上传。 "
                "Your document ({kind}) was rejected: {reason}. Please upload it again.",
}


def document_json(d: Document) -> dict[str, Any]:
    return {"id": str(d.id), "case_id": str(d.case_id), "contact_id": str(d.contact_id),
            "kind": d.kind, "filename": d.filename, "content_type": d.content_type,
            "size": d.size, "status": d.status, "reason": d.reason,
            "uploaded_by": d.uploaded_by, "reviewed_by": d.reviewed_by,
            "reviewed_at": d.reviewed_at.isoformat() if d.reviewed_at else None,
            "created_at": d.created_at.isoformat()}


async def do_upload(session: AsyncSession, case_id: uuid.UUID, kind: str, upload: UploadFile,
                    settings: Settings, actor: str) -> Document:
    if kind not in KINDS:
        raise ValidationFailed(f"kind is one of {', '.join(KINDS)}", field="kind")
    case = await get_case(session, case_id)
    if case.type != "qualification":
        raise Conflict("documents are uploaded for qualification cases")
    if case.status == "closed":
        raise Conflict("the case is closed")
    data = await read_limited(upload, settings.max_document_bytes)
    if not data:
        raise ValidationFailed("the file is empty", field="file")
    filename = safe_filename(upload.filename)
    content_type = sniff(data[:8192], filename)
    if content_type not in settings.allowed_document_types:
        raise UnsupportedMediaType(f"documents of type {content_type} are not accepted",
                                   allowed=settings.allowed_document_types)
    doc_id = new_id()
    rel = Path(f"{utcnow():%Y/%m}/{doc_id}")
    path = settings.documents_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    doc = Document(id=doc_id, case_id=case.id, contact_id=case.contact_id, kind=kind,
                   filename=filename, content_type=content_type, size=len(data),
                   sha256=hashlib.sha256(data).hexdigest(), storage_path=str(rel),
                   uploaded_by=actor)
    session.add(doc)
    await session.flush()
    audit(session, "document", doc.id, "uploaded", actor, case_id=str(case.id), kind=kind,
          sha256=doc.sha256)
    await emit(session, "document.uploaded", {"document": document_json(doc)})
    return doc


async def do_review(session: AsyncSession, doc: Document, decision: str, reason: str | None,
                    actor: str) -> Document:
    if doc.status != "pending":
        raise Conflict(f"the document was already {doc.status}")
    if decision == "rejected" and not reason:
        raise ValidationFailed("a rejection needs a reason the customer can act on",
                               field="reason")
    doc.status, doc.reason = decision, reason
    doc.reviewed_by, doc.reviewed_at = actor, utcnow()
    audit(session, "document", doc.id, decision, actor, reason=reason)
    text = MESSAGES[decision].format(kind=doc.kind, reason=reason or "")
    add_activity(session, contact_id=doc.contact_id, kind="case", source="documents",
                 external_id=f"{doc.id}:{decision}", type=f"document.{decision}",
                 outcome="succeeded" if decision == "approved" else "failed",
                 summary=text[:280], data={"document_id": str(doc.id),
                                           "case_id": str(doc.case_id), "reason": reason},
                 occurred_at=utcnow())
    await _tell_customer(session, doc, text)
    await emit(session, f"document.{decision}", {"document": document_json(doc)})
    return doc


async def _tell_customer(session: AsyncSession, doc: Document, text: str) -> None:
    """Tell the customer on the case's latest conversation (any channel delivers it)."""
    conv_id = await session.scalar(select(CaseLink.target_id).where(
        CaseLink.case_id == doc.case_id, CaseLink.kind == "conversation")
        .order_by(CaseLink.created_at.desc()).limit(1))
    if conv_id is None:
        return
    conversation = await get_conversation(session, conv_id)
    await reply(session, conversation, body=text, sender_type="system", sender_id=None,
                author_name="omnidesk")


def document_path(doc: Document, settings: Settings) -> Path:
    return settings.documents_dir / doc.storage_path
