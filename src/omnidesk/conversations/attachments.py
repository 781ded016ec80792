"""Attachments: stored on disk outside the web root, size-limited, content type sniffed
from the bytes (never trusted from the client)."""

from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import Path

import puremagic
from fastapi import UploadFile
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.config import Settings
from omnidesk.kit.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from omnidesk.kit.ids import new_id
from omnidesk.kit.time import utcnow
from omnidesk.models import Attachment

CHUNK = 64 * 1024
TEXT_TYPES = {"text/plain", "text/csv"}


def sniff(head: bytes, filename: str) -> str:
    """The content type the bytes say they are."""
    try:
        matches = puremagic.magic_string(head, filename)
    except (puremagic.PureError, ValueError):
        matches = []
    for m in matches:
        if m.mime_type:
            return str(m.mime_type)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/csv" if filename.lower().endswith(".csv") else "text/plain"


def safe_filename(name: str | None) -> str:
    name = (name or "file").replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f<>:\"|?*]", "_", name).strip(" .") or "file"
    return name[:200]


async def do_store_upload(
    session: AsyncSession, upload: UploadFile, settings: Settings, *,
    conversation_id: uuid.UUID | None, uploaded_by: str,
) -> Attachment:
    data = await read_limited(upload, settings.max_attachment_bytes)
    if not data:
        raise ValidationFailed("the file is empty", field="file")
    filename = safe_filename(upload.filename)
    content_type = sniff(data[:8192], filename)
    if content_type not in settings.allowed_attachment_types:
        raise UnsupportedMediaType(
            f"files of type {content_type} are not accepted",
            allowed=settings.allowed_attachment_types,
        )
    att_id = new_id()
    now = utcnow()
    rel = Path(f"{now:%Y}/{now:%m}/{att_id}")
    path = settings.attachments_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    attachment = Attachment(
        id=att_id, conversation_id=conversation_id, filename=filename,
        content_type=content_type, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
        storage_path=str(rel), uploaded_by=uploaded_by,
    )
    session.add(attachment)
    await session.flush()
    return attachment


async def read_limited(upload: UploadFile, limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    while chunk := await upload.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"attachments are limited to {limit} bytes", limit=limit)
        parts.append(chunk)
    return b"".join(parts)


def attachment_path(attachment: Attachment, settings: Settings) -> Path:
    return settings.attachments_dir / attachment.storage_path
