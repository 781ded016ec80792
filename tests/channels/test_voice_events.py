"""The call-event webhook against the live server: the screen pop reaches the agent over a
real websocket before the call is answered, calls land on the timeline, signatures,
replays and retries, unknown calls quarantined, transcript → intent → queue."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from websockets.asyncio.client import connect

from omnidesk.kit.db import Database
from tests.channels.test_voice_support import (
    call_event,
    make_inbox,
    post_signed,
    signed_headers,
    timeline,
)
from tests.conftest import LiveServer, make_user, token_for
from tests.realtime.test_websockets import recv


async def _agent(db: Database, email: str) -> tuple[str, str]:
    user_id = await make_user(db, email, "agent", name=email.split("@")[0].title())
    return user_id, await token_for(db, "agent", user_id=user_id)


async def _team(client: httpx.AsyncClient, name: str, *members: str) -> str:
    r = await client.post("/api/v1/teams", json={"name": name, "members": list(members)})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_ringing_pops_the_context_before_answer_and_the_call_lands_on_the_timeline(
    server: LiveServer, db: Database, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    agent_id, token = await _agent(db, "li.na@example.com")
    team = await _team(client, "热线一组", agent_id)
    inbox = await make_inbox(client, "voice", team_id=team)
    r = await client.post("/api/v1/contacts", json={
        "name": "王小明", "tier": "key",
        "identities": [{"kind": "phone", "value": "+8613800138000"}]})
    contact_id = r.json()["id"]
    async with connect(f"{server.ws_url}/ws/agent?token={token}") as ws:
        await recv(ws, "hello")
        r = await call_event(anon, inbox, "ringing", "pbx-call-1", caller="138 0013 8000",
                             called="4008001234")
        assert r.status_code == 201, r.text
        pop = await recv(ws, "call.ringing")  # pushed before anyone answered
        assert pop["call"]["id"] == "pbx-call-1" and pop["call"]["state"] == "ringing"
        assert pop["call"]["caller"] == "+8613800138000"
        assert pop["call"]["offered_to"] == agent_id
        assert pop["context"]["contact"]["name"] == "王小明"
        assert pop["context"]["tier"] == "key"
        conversation_id = pop["call"]["conversation_id"]
        assert conversation_id
        r = await call_event(anon, inbox, "answered", "pbx-call-1", seconds=7,
                             agent="LI.NA@example.com")
        assert r.status_code == 200 and r.json()["call"]["agent_id"] == agent_id
        answered = await recv(ws, "call.answered")
        assert answered["call"]["id"] == "pbx-call-1"
        r = await call_event(anon, inbox, "ended", "pbx-call-1", seconds=7 + 125,
                             recording_url="https://pbx.example.com/rec/pbx-call-1.wav")
        assert r.status_code == 200, r.text
        ended = await recv(ws, "call.ended")
        assert ended["call"]["duration_seconds"] == 125
    (call,) = await timeline(client, contact_id, kind="call")
    assert call["channel"] == "voice" and call["type"] == "call.completed"
    assert call["outcome"] == "succeeded" and call["conversation_id"] == conversation_id
    assert call["data"]["duration_seconds"] == 125 and call["data"]["waited_seconds"] == 7
    assert call["data"]["agent"] == "Li.Na" and call["data"]["agent_id"] == agent_id
    assert call["data"]["recording_url"] == "https://pbx.example.com/rec/pbx-call-1.wav"
    conv = (await client.get(f"/api/v1/conversations/{conversation_id}")).json()
    assert conv["channel"] == "voice" and conv["assignee_id"] == agent_id
    assert conv["contact_id"] == contact_id


async def test_unknown_number_creates_a_contact_and_an_unanswered_call_is_abandoned(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    inbox = await make_inbox(client, "voice")
    r = await call_event(anon, inbox, "ringing", "c-unknown", caller="+85291234567")
    assert r.status_code == 201, r.text
    body = r.json()["call"]
    assert body["offered_to"] is None  # nobody online: nobody to pop
    contact = (await client.get(f"/api/v1/contacts/{body['contact_id']}")).json()
    assert [(i["kind"], i["value"]) for i in contact["identities"]] == [
        ("phone", "+85291234567")]
    r = await call_event(anon, inbox, "ended", "c-unknown", seconds=40)
    assert r.status_code == 200
    (call,) = await timeline(client, body["contact_id"], kind="call")
    assert (call["type"], call["outcome"]) == ("call.abandoned", "abandoned")
    assert call["data"]["waited_seconds"] == 40 and call["data"]["duration_seconds"] == 0
    assert call["data"]["reason"] == "caller hung up before an agent answered"
    # an event after the end changes nothing
    r = await call_event(anon, inbox, "answered", "c-unknown", seconds=50)
    assert r.json()["status"] == "ignored"


async def test_signatures_stale_timestamps_replays_and_retries(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    inbox = await make_inbox(client, "voice")
    url = f"/channels/voice/{inbox['id']}/events"
    event = {"event": "ringing", "call_id": "c-sig", "caller": "+8613900139000"}
    body = json.dumps(event).encode()
    r = await anon.post(url, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 401 and "missing" in r.json()["detail"]
    r = await anon.post(url, content=body, headers=signed_headers(body, "not-the-secret-at-all"))
    assert r.status_code == 401 and "does not match" in r.json()["detail"]
    r = await anon.post(url, content=body,
                        headers=signed_headers(body, ts=int(time.time()) - 3600))
    assert r.status_code == 401 and "replay window" in r.json()["detail"]
    headers = signed_headers(body)
    first = await anon.post(url, content=body, headers=headers)
    assert first.status_code == 201, first.text
    replay = await anon.post(url, content=body, headers=headers)
    assert replay.status_code == 409 and "replay" in replay.json()["detail"]
    retry = await post_signed(anon, url, event, ts=int(time.time()) - 120)  # signed anew
    assert retry.status_code == 200 and retry.json()["status"] == "duplicate"
    contact_id = first.json()["call"]["contact_id"]
    assert len(await timeline(client, contact_id, kind="call")) == 1
    conv = first.json()["call"]["conversation_id"]
    msgs = (await client.get(f"/api/v1/conversations/{conv}/messages")).json()["items"]
    assert len(msgs) == 1


async def test_unknown_call_is_quarantined_and_applied_when_it_rings(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    inbox = await make_inbox(client, "voice")
    r = await call_event(anon, inbox, "answered", "c-late", seconds=3)
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["quarantined"] is True and "unknown call id 'c-late'" in problem["detail"]
    again = await call_event(anon, inbox, "answered", "c-late", seconds=3,
                             ts=int(time.time()) - 120)  # the PBX retries
    assert again.status_code == 409 and again.json()["quarantined"] is True
    r = await call_event(anon, inbox, "ringing", "c-late", caller="+8613700137000")
    assert r.status_code == 201 and r.json()["applied_late"] == ["answered"]
    assert r.json()["call"]["state"] == "answered"
    (call,) = await timeline(client, r.json()["call"]["contact_id"], kind="call")
    assert call["type"] == "call.answered" and call["data"]["waited_seconds"] == 3


async def test_bad_input_gets_a_clear_4xx(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    inbox = await make_inbox(client, "voice")
    url = f"/channels/voice/{inbox['id']}/events"
    body = b"{not json"
    r = await anon.post(url, content=body, headers=signed_headers(body))
    assert r.status_code == 400 and "malformed JSON" in r.json()["detail"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"event": "ringing", "call_id": "x", "caller": "12"}, "not a valid phone number"),
        ({"event": "hold", "call_id": "x"}, "event"),
        ({"event": "ended", "call_id": ""}, "call_id"),
        ({"event": "ringing", "call_id": "x", "caller": "+8613800138000",
          "agent": "nobody@example.com"}, "not an active user"),
        ({"event": "ended", "call_id": "x", "recording_url": "ftp://x"}, "recording_url"),
        ({"event": "transferred", "call_id": "x"}, "agent"),
    ]
    for payload, reason in cases:
        r = await post_signed(anon, url, payload)
        assert r.status_code == 422, (payload, r.text)
        assert reason in r.text, (payload, r.text)
    r = await post_signed(anon, "/channels/voice/0190b0a0-0000-7000-8000-000000000000/events",
                          {"event": "ended", "call_id": "x"})
    assert r.status_code == 404
    r = await post_signed(anon, "/channels/voice/nope/events", {})
    assert r.status_code == 404
    sms = await make_inbox(client, "sms")
    r = await post_signed(anon, f"/channels/voice/{sms['id']}/events", {})
    assert r.status_code == 404  # not a voice inbox
    r = await client.post("/api/v1/inboxes", json={"channel": "voice", "name": "no secret"})
    r = await post_signed(anon, f"/channels/voice/{r.json()['id']}/events", {})
    assert r.status_code == 503 and "secret" in r.json()["detail"]
    # nothing of the rejected calls was stored
    r = await call_event(anon, inbox, "ended", "x")
    assert r.status_code == 409


BILLING = ["这个月账单为什么多了", "话费怎么扣了这么多", "我想查一下账单", "账单金额不对",
           "为什么多扣了话费", "帳單上多收了錢", "my bill is wrong", "why was I charged twice"]
BROADBAND = ["宽带断网了", "家里上不了网", "宽带很慢", "光猫红灯亮了", "网络一直掉线",
             "寬頻斷線了", "my broadband is down", "no internet at home"]


async def train_intents(client: httpx.AsyncClient) -> None:
    """The real intent classifier, trained from labelled utterances."""
    rows = [*(f"{t},billing" for t in BILLING), *(f"{t},broadband" for t in BROADBAND)]
    csv = ("text,label\n" + "\n".join(rows) + "\n").encode()
    r = await client.post("/api/v1/nlu/utterances", files={"file": ("u.csv", csv, "text/csv")})
    assert r.status_code == 201, r.text
    r = await client.post("/api/v1/nlu/train")
    assert r.status_code == 201, r.text


async def test_transcript_intent_picks_the_queue_else_a_human_of_the_inbox(
    server: LiveServer, db: Database, client: httpx.AsyncClient, anon: httpx.AsyncClient,
) -> None:
    await train_intents(client)
    billing_agent, billing_token = await _agent(db, "billing@example.com")
    front_agent, front_token = await _agent(db, "front@example.com")
    billing = await _team(client, "Billing", billing_agent)
    front = await _team(client, "Front desk", front_agent)
    r = await client.post("/api/v1/routing-rules", json={
        "name": "billing by intent", "conditions": {"intents": ["billing"]},
        "actions": {"team_id": billing}})
    assert r.status_code == 201, r.text
    inbox = await make_inbox(client, "voice", team_id=front)
    async with connect(f"{server.ws_url}/ws/agent?token={billing_token}") as b_ws, \
            connect(f"{server.ws_url}/ws/agent?token={front_token}") as f_ws:
        await recv(b_ws, "hello")
        await recv(f_ws, "hello")
        r = await call_event(anon, inbox, "ringing", "c-intent", caller="+8613800000001",
                             transcript="我想问一下这个月的账单为什么多了五十块")
        assert r.status_code == 201, r.text
        pop = await recv(b_ws, "call.ringing")
        assert pop["call"]["intent"] == "billing" and pop["call"]["team_id"] == billing
        conv = (await client.get(
            f"/api/v1/conversations/{pop['call']['conversation_id']}")).json()
        assert conv["team_id"] == billing and conv["routing_rule"] == "billing by intent"
        msgs = (await client.get(
            f"/api/v1/conversations/{conv['id']}/messages")).json()["items"]
        assert msgs[0]["body"] == "我想问一下这个月的账单为什么多了五十块"
        assert msgs[0]["data"]["recognition"]["label"] == "billing"
        # not confident: the inbox's team, a human
        r = await call_event(anon, inbox, "ringing", "c-unsure", caller="+8613800000002",
                             transcript="喂，你好，明天会下雨吗")
        assert r.status_code == 201, r.text
        pop = await recv(f_ws, "call.ringing")
        assert pop["call"]["id"] == "c-unsure" and pop["call"]["intent"] is None
        assert pop["call"]["team_id"] == front
    assert msgs[0]["data"]["recognition"]["confidence"] > 0.5


async def test_a_withheld_number_still_rings_with_a_contact_of_its_own(
    server: LiveServer, db: Database, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    agent_id, token = await _agent(db, "anon@example.com")
    inbox = await make_inbox(client, "voice")
    async with connect(f"{server.ws_url}/ws/agent?token={token}") as ws:
        await recv(ws, "hello")
        for call_id, caller in (("c-anon-1", "anonymous"), ("c-anon-2", None)):
            fields = {"caller": caller} if caller else {}
            r = await call_event(anon, inbox, "ringing", call_id, agent=agent_id, **fields)
            assert r.status_code == 201, r.text
            pop = await recv(ws, "call.ringing")
            assert pop["call"]["caller"] == "withheld"
            assert pop["context"]["identities"][0]["kind"] == "external_id"
        r = await call_event(anon, inbox, "ended", "c-anon-1", seconds=20)
        assert r.status_code == 200, r.text
    contacts = {pop["context"]["contact"]["id"]}
    assert len(contacts) == 1  # the second call's contact differs (checked below)
    r = await client.get("/api/v1/context", params={"external_id": "withheld-call:c-anon-1"})
    assert r.status_code == 200
    other = await client.get("/api/v1/context", params={"external_id": "withheld-call:c-anon-2"})
    assert other.json()["contact"]["id"] != r.json()["contact"]["id"]


async def test_transfer_moves_the_screen_pop_to_the_new_agent(
    server: LiveServer, db: Database, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    first_id, first_token = await _agent(db, "first@example.com")
    second_id, second_token = await _agent(db, "second@example.com")
    inbox = await make_inbox(client, "voice")
    async with connect(f"{server.ws_url}/ws/agent?token={first_token}") as first, \
            connect(f"{server.ws_url}/ws/agent?token={second_token}") as second:
        await recv(first, "hello")
        await recv(second, "hello")
        r = await call_event(anon, inbox, "ringing", "c-xfer", caller="+8613800000003",
                             agent=first_id)
        assert (await recv(first, "call.ringing"))["call"]["offered_to"] == first_id
        await call_event(anon, inbox, "answered", "c-xfer", seconds=2, agent=first_id)
        await recv(first, "call.answered")
        r = await call_event(anon, inbox, "transferred", "c-xfer", seconds=30,
                             agent="second@example.com")
        assert r.status_code == 200, r.text
        gone = await recv(first, "call.ended")
        assert gone["call"]["transferred_to"] == second_id
        pop = await recv(second, "call.ringing")
        assert pop["call"]["id"] == "c-xfer" and pop["context"]["contact"]["id"]
        await call_event(anon, inbox, "answered", "c-xfer", seconds=35, agent=second_id)
        await recv(second, "call.answered")
        await call_event(anon, inbox, "ended", "c-xfer", seconds=95)
        await recv(second, "call.ended")
    (call,) = await timeline(client, r.json()["call"]["contact_id"], kind="call")
    assert call["data"]["agent_id"] == second_id and call["data"]["duration_seconds"] == 93
    assert [t["to"] for t in call["data"]["transfers"]] == [second_id]

