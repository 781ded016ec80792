"""Asterisk ARI: recorded event shapes through the ARI endpoint, and the runner forwarding
a real websocket (a local server speaking ARI's event stream) to the live omnidesk."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from websockets.asyncio.server import ServerConnection, serve

from omnidesk.channels.voice.ari import NotACallEvent, translate
from omnidesk.channels.voice.ari_runner import events_url, forward
from omnidesk.channels.voice.config import VoiceConfig
from omnidesk.models import Inbox
from tests.channels.test_voice_support import SECRET, ari, make_inbox, post_signed, timeline
from tests.conftest import LiveServer, free_port


def _cfg(**config: Any) -> VoiceConfig:
    return VoiceConfig.from_inbox(Inbox(channel="voice", name="x",
                                        config={"secret": SECRET, **config}))


def test_translation_of_recorded_ari_events() -> None:
    cfg = _cfg()
    ring = translate(ari("stasis_start", transcript="查一下我的宽带账单"), cfg)
    assert (ring.event, ring.call_id, ring.caller, ring.called) == (
        "ringing", "1764468000.101", "13800138000", "4008001234")
    assert ring.transcript == "查一下我的宽带账单" and ring.at is not None
    assert translate(ari("channel_entered_bridge", agent="a@example.com"), cfg).agent == \
        "a@example.com"
    assert translate(ari("channel_hangup_request", cause=17), cfg).outcome == "busy"
    assert translate(ari("channel_destroyed", cause=16), cfg).outcome is None
    assert translate(ari("stasis_end"), cfg).event == "ended"
    said = translate(ari("channel_varset", variable="OMNIDESK_TRANSCRIPT", value="退订套餐"), cfg)
    assert (said.event, said.transcript) == ("transcript", "退订套餐")
    up = ari("channel_state_change")
    for event, config in ((up, {}), (ari("channel_dtmf_received"), {}),
                          (ari("channel_varset", variable="CDR(userfield)", value="x"), {}),
                          ({"type": "ApplicationReplaced"}, {})):
        try:
            translate(event, _cfg(**config))
        except NotACallEvent:
            continue
        raise AssertionError(f"{event['type']} should not be a call event")
    assert translate(up, _cfg(answer_on="up")).event == "answered"


async def test_recorded_ari_call_becomes_one_call_on_the_timeline(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    inbox = await make_inbox(client, "voice")
    url = f"/channels/voice/{inbox['id']}/ari"
    sequence = [
        ("stasis_start", {"ts": "2026-11-30T02:00:00.000+0000"}, 201, "accepted"),
        ("channel_dtmf_received", {}, 200, "ignored"),
        ("channel_varset", {"variable": "OMNIDESK_TRANSCRIPT", "value": "宽带断网了"}, 200,
         "accepted"),
        ("channel_entered_bridge", {"ts": "2026-11-30T02:00:12.000+0000"}, 200, "accepted"),
        ("channel_hangup_request", {"ts": "2026-11-30T02:03:12.000+0000"}, 200, "accepted"),
        ("stasis_end", {"ts": "2026-11-30T02:03:12.010+0000"}, 200, "duplicate"),
        ("channel_destroyed", {"ts": "2026-11-30T02:03:12.020+0000"}, 200, "duplicate"),
    ]
    contact_id = None
    for name, values, status, outcome in sequence:
        r = await post_signed(anon, url, ari(name, **values))
        assert r.status_code == status, (name, r.text)
        assert r.json()["status"] == outcome, (name, r.text)
        contact_id = contact_id or r.json()["call"]["contact_id"]
    # the agent's leg hanging up is not a call omnidesk tracks: ignored, not quarantined
    r = await post_signed(anon, url, ari("channel_hangup_request", channel_id="1764468000.102"))
    assert r.status_code == 200 and r.json()["status"] == "ignored"
    assert contact_id is not None
    (call,) = await timeline(client, contact_id, kind="call")
    assert call["type"] == "call.completed" and call["data"]["duration_seconds"] == 180
    assert call["data"]["waited_seconds"] == 12 and call["data"]["transcript"] == "宽带断网了"
    assert call["data"]["caller"] == "+8613800138000"
    conv = call["conversation_id"]
    bodies = [m["body"] for m in (await client.get(
        f"/api/v1/conversations/{conv}/messages")).json()["items"]]
    assert bodies == ["[call] +8613800138000", "宽带断网了"]
    r = await post_signed(anon, url, {"type": "StasisStart"})
    assert r.status_code == 200 and r.json()["status"] == "ignored"
    r = await post_signed(anon, url, ari("stasis_start", channel_id="1764468000.200",
                                         caller="anonymous"))
    assert r.status_code == 201, r.text  # a withheld number rings too (a contact of its own)


@asynccontextmanager
async def fake_asterisk(events: list[dict[str, Any]]) -> AsyncIterator[tuple[str, list[str]]]:
    """A websocket speaking ARI's event stream: sends the events, then waits."""
    port, paths = free_port(), []

    async def handler(ws: ServerConnection) -> None:
        paths.append(ws.request.path if ws.request else "")
        for event in events:
            await ws.send(json.dumps(event))
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", port):
        yield f"ws://127.0.0.1:{port}/ari/events", paths


async def test_runner_forwards_a_live_ari_websocket(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    inbox = await make_inbox(client, "voice")
    events = [ari("stasis_start", channel_id="1764468100.7", caller="+85261234567"),
              ari("channel_entered_bridge", channel_id="1764468100.7",
                  ts="2026-11-30T02:00:05.000+0000"),
              ari("channel_hangup_request", channel_id="1764468100.7",
                  ts="2026-11-30T02:01:05.000+0000")]
    async with fake_asterisk(events) as (ws_url, paths):
        url = events_url(ws_url, "omnidesk", "omnidesk", "s3cret")
        sent = await asyncio.wait_for(
            forward(url, server.url, inbox["id"], SECRET, max_events=len(events)), 30)
    assert sent == 3
    assert paths == ["/ari/events?app=omnidesk&api_key=omnidesk%3As3cret"]
    r = await client.get("/api/v1/contacts", params={"q": "+85261234567"})
    (contact,) = r.json()["items"]
    (call,) = await timeline(client, contact["id"], kind="call")
    assert call["type"] == "call.completed" and call["data"]["duration_seconds"] == 60
