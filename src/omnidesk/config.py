"""Settings from the environment (``OMNIDESK_*``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OMNIDESK_", extra="ignore")

    database_url: str = "sqlite:///var/omnidesk.db"
    redis_url: str | None = None
    data_dir: Path = Path("var")
    secret_key: str = Field(default="dev-insecure-change-me", min_length=8)
    default_region: str = "CN"
    default_timezone: str = "Asia/Shanghai"
    # Attachments
    max_attachment_bytes: int = 10 * 1024 * 1024
    allowed_attachment_types: list[str] = [
        "image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf",
        "text/plain", "text/csv", "application/zip",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "audio/mpeg", "audio/amr", "audio/wav", "video/mp4",
    ]
    # Qualification documents
    max_document_bytes: int = 10 * 1024 * 1024
    allowed_document_types: list[str] = ["application/pdf", "image/jpeg", "image/png"]
    # Reminders
    expiry_reminder_days: list[int] = [30, 7, 1]
    booking_reminder_hours: int = 24
    # Event feed
    max_batch_events: int = 1000
    webhook_tolerance_seconds: int = 300
    # Outbox / background work
    run_worker_in_process: bool = True
    auto_migrate: bool = False  # PostgreSQL: migrate on start (SQLite always does)
    outbox_poll_seconds: float = 1.0
    outbox_max_attempts: int = 25
    scan_seconds: float = 30.0  # SLA scans, escalation deadlines, reminders
    # Sessions
    session_days: int = 14
    cookie_secure: bool | None = None  # None: secure when the request is https
    # Realtime
    ws_resume_limit: int = 500
    # Chat group commit: while chats keep the writer busy, a batch waits this long for
    # company (fewer, larger transactions); an idle writer writes a message at once.
    chat_commit_linger_ms: float = 5.0
    # Where the group commit runs: "process" (a child process per server process, with
    # its own connection: the websocket loop keeps its core) or "inline" (on the
    # websocket loop; the tests' default, and the fallback when the child cannot start).
    chat_writer: Literal["process", "inline"] = "process"
    # E-mail: the inbound SMTP server ("HOST:PORT"; unset: not started) and its size limit
    smtp_listen: str | None = None
    smtp_max_bytes: int = 25 * 1024 * 1024

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    @property
    def documents_dir(self) -> Path:
        return self.data_dir / "documents"


@lru_cache
def get_settings() -> Settings:
    return Settings()
