"""WeChat's server API (customer-service messages, user info) through wechatpy's client.

One client per inbox per process caches the access token for its ``expires_in`` (wechatpy
refreshes it a minute early). The base URL comes from the inbox (``api_base_url``) so a
test can point it at a local stub. wechatpy is synchronous (``requests``): callers run
:func:`send_text` and :func:`user_info` in a thread. An invalid-token answer (40001,
40014, 42001: the token was revoked or another server fetched a newer one) refreshes the
token and retries once.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable
from typing import Any

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from omnidesk.channels.wechat.config import WeChatConfig

TOKEN_ERRORS = frozenset({40001, 40014, 42001})
# Worth another try later: WeChat busy, rate limits. Everything else WeChat refuses
# (45015 outside the window or unfollowed, 43004 unfollowed, 45047 too many replies,
# 40003 bad openid, 48001 no permission, 40125 wrong secret, …) will not change by
# retrying.
TRANSIENT_ERRORS = frozenset({-1, 45009, 45011})


class _TimeoutSession(requests.Session):
    """wechatpy fetches tokens without a timeout; every request here gets one."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.default_timeout = timeout

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)


class Client(WeChatClient):
    """wechatpy's client, pointed at ``api_base_url`` for the API and for tokens."""

    def __init__(self, cfg: WeChatConfig) -> None:
        super().__init__(cfg.app_id, cfg.app_secret, timeout=cfg.api_timeout,
                         auto_retry=False)
        self.base_url = cfg.api_base_url
        self.API_BASE_URL = f"{cfg.api_base_url}/cgi-bin/"
        self._http = _TimeoutSession(cfg.api_timeout)
        self.lock = threading.Lock()

    def fetch_access_token(self) -> dict[str, Any]:
        result: dict[str, Any] = self._fetch_access_token(
            url=f"{self.base_url}/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.appid,
                    "secret": self.secret})
        return result


_CLIENTS: dict[uuid.UUID, tuple[WeChatConfig, Client]] = {}
_CLIENTS_LOCK = threading.Lock()


def client_for(inbox_id: uuid.UUID, cfg: WeChatConfig) -> Client:
    """The inbox's cached client (a new one when its configuration changed)."""
    with _CLIENTS_LOCK:
        cached = _CLIENTS.get(inbox_id)
        if cached is None or cached[0] != cfg:
            cached = (cfg, Client(cfg))
            _CLIENTS[inbox_id] = cached
        return cached[1]


def forget_clients() -> None:
    with _CLIENTS_LOCK:
        _CLIENTS.clear()


def _call(client: Client, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    with client.lock:
        try:
            return fn()
        except WeChatClientException as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            client.fetch_access_token()
            return fn()


def _send_text_sync(client: Client, openid: str, text: str) -> dict[str, Any]:
    return _call(client, lambda: dict(client.message.send_text(openid, text)))


def _user_info_sync(client: Client, openid: str) -> dict[str, Any]:
    return _call(client, lambda: dict(client.user.get(openid)))


async def send_text(inbox_id: uuid.UUID, cfg: WeChatConfig, openid: str,
                    text: str) -> dict[str, Any]:
    """POST /cgi-bin/message/custom/send (raises WeChatClientException, requests errors)."""
    return await asyncio.to_thread(_send_text_sync, client_for(inbox_id, cfg), openid, text)


async def user_info(inbox_id: uuid.UUID, cfg: WeChatConfig, openid: str) -> dict[str, Any]:
    """GET /cgi-bin/user/info: subscribe state, language and (when bound) the unionid."""
    return await asyncio.to_thread(_user_info_sync, client_for(inbox_id, cfg), openid)


def is_transient(exc: BaseException) -> bool:
    """Should the outbox try again later (network, HTTP 5xx, WeChat busy or rate limits)?"""
    if isinstance(exc, requests.RequestException):
        return True
    if isinstance(exc, WeChatClientException):
        return exc.errcode is None or exc.errcode in TRANSIENT_ERRORS
    return False


def describe(exc: BaseException) -> str:
    if isinstance(exc, WeChatClientException) and exc.errcode is not None:
        return f"WeChat error {exc.errcode}: {exc.errmsg}"
    return f"{type(exc).__name__}: {exc}"
