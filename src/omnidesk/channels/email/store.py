"""Files an e-mail leaves behind: attachments stored like uploads (same directory, size
limit and sniffed-type allow-list), and quarantined mail kept whole with its reason."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.channels.email.mime import Part
from omnidesk.config import Settings
from omnidesk.conversations.attachments import safe_filename, sniff
from omnidesk.kit.ids import new_id
from omnidesk.kit.time import utcnow
from omnidesk.models import Attachment

log = logging.getLogger(__name__)
UPLOADED_BY = "email"


@dataclass
class Skipped:
    """An attachment not stored, and why (listed on the message for the agent)."""

    filename: str
    content_type: str
    size: int
    reason: str

    def json(self) -> dict[str, Any]:
        return {"filename": self.filename, "content_type": self.content_type,
                "size": self.size, "reason": self.reason}


async def store_parts(session: AsyncSession, parts: list[Part],
                      settings: Settings) -> tuple[list[Attachment], list[Skipped]]:
    stored: list[Attachment] = []
    skipped: list[Skipped] = []
    for part in parts:
        filename = safe_filename(part.filename)
        if len(part.data) > settings.max_attachment_bytes:
            skipped.append(Skipped(filename, part.content_type, len(part.data),
                                   f"larger than {settings.max_attachment_bytes} bytes"))
            continue
        content_type = sniff(part.data[:8192], filename)
        if content_type not in settings.allowed_attachment_types:
            skipped.append(Skipped(filename, content_type, len(part.data),
                                   f"files of type {content_type} are not accepted"))
            continue
        att_id, now = new_id(), utcnow()
        rel = Path(f"{now:%Y}/{now:%m}/{att_id}")
        path = settings.attachments_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(part.data)
        attachment = Attachment(
            id=att_id, filename=filename, content_type=content_type, size=len(part.data),
            sha256=hashlib.sha256(part.data).hexdigest(), storage_path=str(rel),
            uploaded_by=UPLOADED_BY)
        session.add(attachment)
        stored.append(attachment)
    if stored:
        await session.flush()
    return stored, skipped


def quarantine_dir(settings: Settings) -> Path:
    return settings.data_dir / "email" / "quarantine"


def quarantine(settings: Settings, raw: bytes, reason: str, meta: dict[str, Any]) -> Path:
    """Keep the mail as received (``.eml``) with the reason beside it (``.json``)."""
    now = utcnow()
    folder = quarantine_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{now:%Y%m%dT%H%M%S}-{new_id().hex[:12]}"
    (folder / f"{name}.eml").write_bytes(raw)
    (folder / f"{name}.json").write_text(json.dumps(
        {"reason": reason, "at": now.isoformat(), "size": len(raw), **meta},
        ensure_ascii=False, indent=1), encoding="utf-8")
    log.warning("e-mail quarantined (%s): %s", reason, folder / f"{name}.eml")
    return folder / f"{name}.eml"


def list_quarantine(settings: Settings) -> list[dict[str, Any]]:
    folder = quarantine_dir(settings)
    if not folder.is_dir():
        return []
    out = []
    for meta in sorted(folder.glob("*.json")):
        out.append({**json.loads(meta.read_text(encoding="utf-8")),
                    "file": str(meta.with_suffix(".eml"))})
    return out
