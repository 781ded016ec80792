"""Shared by the voice and SMS tests: signing like a PBX or gateway, inboxes, recorded ARI
events. No tests here."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from string import Template
from typing import Any

import httpx

from omnidesk.kit.security import sign_webhook

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "pbx-shared-secret-7f3a9c"
T0 = datetime(2026, 11, 30, 2, 0, 0, tzinfo=UTC)


def signed_headers(body: bytes, secret: str = SECRET, ts: int | None = None,
                   content_type: str = "application/json") -> dict[str, str]:
    stamp = int(time.time()) if ts is None else ts
    return {"Content-Type": content_type, "X-Omnidesk-Timestamp": str(stamp),
            "X-Omnidesk-Signature": sign_webhook(secret, stamp, body)}


async def make_inbox(client: httpx.AsyncClient, channel: str, *, team_id: str | None = None,
                     **config: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {"secret": SECRET, **config}
    r = await client.post("/api/v1/inboxes", json={
        "channel": channel, "name": f"{channel} line", "config": cfg, "team_id": team_id})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def post_signed(anon: httpx.AsyncClient, url: str, payload: Any, *,
                      secret: str = SECRET, ts: int | None = None) -> httpx.Response:
    body = json.dumps(payload, ensure_ascii=False).encode()
    return await anon.post(url, content=body, headers=signed_headers(body, secret, ts))


async def call_event(anon: httpx.AsyncClient, inbox: dict[str, Any], event: str, call_id: str,
                     *, seconds: int = 0, ts: int | None = None,
                     **fields: Any) -> httpx.Response:
    payload = {"event": event, "call_id": call_id,
               "at": (T0 + timedelta(seconds=seconds)).isoformat(), **fields}
    return await post_signed(anon, f"/channels/voice/{inbox['id']}/events", payload, ts=ts)


def ari(name: str, **values: Any) -> dict[str, Any]:
    """A recorded ARI event with this channel, caller and time filled in."""
    defaults = {"channel_id": "1764468000.101", "caller": "13800138000", "ts":
                "2026-11-30T02:00:00.000+0000", "created": "2026-11-30T01:59:58.120+0000",
                "transcript": "", "agent": "", "cause": 16, "variable": "", "value": ""}
    text = Template((FIXTURES / "voice" / f"ari_{name}.json").read_text())
    return dict(json.loads(text.substitute({**defaults, **values})))


async def timeline(client: httpx.AsyncClient, contact_id: str,
                   **params: str) -> list[dict[str, Any]]:
    r = await client.get(f"/api/v1/contacts/{contact_id}/timeline", params=params)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


