"""A WeChat inbox's configuration (``inbox.config``), read and checked in one place."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from omnidesk.models import Inbox

DEFAULT_API_BASE_URL = "https://api.weixin.qq.com"
DEFAULT_GREETING = "Thanks for following us! Send a message here any time and we will answer."
MODES = ("plain", "compatible", "safe")


class ConfigError(Exception):
    """The inbox cannot serve WeChat as configured (a missing or malformed key)."""


@dataclass(frozen=True)
class WeChatConfig:
    app_id: str
    token: str
    encoding_aes_key: str | None
    app_secret: str | None
    api_base_url: str
    mode: str
    greeting: str
    fetch_user_info: bool
    api_timeout: float

    @classmethod
    def from_inbox(cls, inbox: Inbox) -> WeChatConfig:
        return cls.from_dict(inbox.config or {})

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> WeChatConfig:
        app_id, token = _text(raw, "app_id"), _text(raw, "token")
        if not app_id or not token:
            raise ConfigError("a WeChat inbox needs config app_id and token")
        aes_key = _text(raw, "encoding_aes_key") or None
        if aes_key is not None:
            _check_aes_key(aes_key)
        mode = _text(raw, "mode") or "compatible"
        if mode not in MODES:
            raise ConfigError(f"config mode must be one of {', '.join(MODES)}")
        if mode == "safe" and aes_key is None:
            raise ConfigError("safe mode needs config encoding_aes_key")
        greeting = raw.get("greeting", DEFAULT_GREETING)
        return cls(
            app_id=app_id, token=token, encoding_aes_key=aes_key,
            app_secret=_text(raw, "app_secret") or None,
            api_base_url=(_text(raw, "api_base_url") or DEFAULT_API_BASE_URL).rstrip("/"),
            mode=mode, greeting=greeting if isinstance(greeting, str) else "",
            fetch_user_info=bool(raw.get("fetch_user_info", True)),
            api_timeout=_positive(raw.get("api_timeout_seconds", 10.0)),
        )

    @property
    def can_call_api(self) -> bool:
        return self.app_secret is not None


def _text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    return value.strip() if isinstance(value, str) else ""


def _positive(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError("config api_timeout_seconds must be a positive number")
    return float(value)


def _check_aes_key(key: str) -> None:
    """EncodingAESKey: 43 characters of base64 that decode to a 32-byte AES key."""
    try:
        decoded = base64.b64decode(key + "=", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError("config encoding_aes_key is not base64") from exc
    if len(key) != 43 or len(decoded) != 32:
        raise ConfigError("config encoding_aes_key must be WeChat's 43-character key")
