"""Calls on the one path: ringing → screen pop, answered, transferred, ended → timeline.

On ringing the caller's number (E.164) finds or creates the contact, the IVR transcript
(if any) goes through intent recognition, the call lands in a voice conversation via
``inbox.receive`` (the transcript as the customer's message), routing rules pick the team
(by intent; else the inbox's team, a human), and the customer context is pushed to the
agent who will take the call before it is answered. The call is one timeline activity
(kind ``call``, channel ``voice``) kept current until it ends with its duration, agent,
outcome and recording link.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.activity.context import get_context
from omnidesk.channels.base import InboundMessage
from omnidesk.channels.voice import intent as intents
from omnidesk.channels.voice.agents import pick_agent, resolve_agent
from omnidesk.channels.voice.config import VoiceConfig
from omnidesk.channels.voice.schemas import CallEvent
from omnidesk.channels.voice.webhook import (
    Handled,
    find_event,
    quarantined,
    record_event,
)
from omnidesk.conversations.service import do_assign, receive
from omnidesk.customers.service import canonical_identities
from omnidesk.kit.db import after_commit
from omnidesk.kit.time import ensure_utc, utcnow
from omnidesk.models import Activity, Call, Conversation, Inbox, User
from omnidesk.models.enums import ActivityKind, Channel, IdentityKind, Outcome
from omnidesk.realtime.hub import publish
from omnidesk.routing import service as routing

log = logging.getLogger(__name__)
OUTCOMES = {  # the PBX's word → the timeline's outcome
    "completed": Outcome.succeeded, "answered": Outcome.succeeded,
    "voicemail": Outcome.abandoned, "abandoned": Outcome.abandoned,
    "no_answer": Outcome.abandoned, "missed": Outcome.abandoned,
    "busy": Outcome.failed, "failed": Outcome.failed, "rejected": Outcome.failed,
}


def source_of(inbox_id: uuid.UUID) -> str:
    return f"voice:{inbox_id}"


def event_key(ev: CallEvent) -> str:
    """One stored event per call and kind (answered and transferred per agent, transcripts
    per text): a retry of any of them is a duplicate."""
    key = f"call:{ev.call_id}:{ev.event}"
    if ev.event in ("answered", "transferred"):
        key += f":{(ev.agent or '').lower()}"
    if ev.event == "transcript":
        key += ":" + hashlib.sha256((ev.transcript or "").encode()).hexdigest()[:16]
    return key


def at_of(ev: CallEvent) -> datetime:
    """The event's time, never later than now."""
    return min(ensure_utc(ev.at), utcnow()) if ev.at is not None else utcnow()


def call_json(call: Call) -> dict[str, Any]:
    duration = call.data.get("duration_seconds")
    return {
        "id": call.call_id, "call_id": call.call_id, "uuid": str(call.id),
        "direction": call.direction, "caller": call.caller, "called": call.called,
        "contact_id": str(call.contact_id), "inbox_id": str(call.inbox_id),
        "conversation_id": str(call.conversation_id) if call.conversation_id else None,
        "team_id": str(call.team_id) if call.team_id else None,
        "offered_to": str(call.offered_to_id) if call.offered_to_id else None,
        "agent_id": str(call.agent_id) if call.agent_id else None,
        "state": call.state, "intent": call.intent, "transcript": call.transcript,
        "outcome": call.outcome, "recording_url": call.recording_url,
        "duration_seconds": duration,
        "started_at": call.started_at.isoformat(),
        "answered_at": call.answered_at.isoformat() if call.answered_at else None,
        "ended_at": call.ended_at.isoformat() if call.ended_at else None,
    }


def _push(session: AsyncSession, agent_ids: set[uuid.UUID | None], frame: dict[str, Any]) -> None:
    topics = [f"agent:{a}" for a in agent_ids if a is not None]

    async def _send() -> None:
        for topic in topics:
            await publish(topic, frame)

    if topics:
        after_commit(session, _send)


async def get_call(session: AsyncSession, inbox_id: uuid.UUID, call_id: str) -> Call | None:
    return await session.scalar(select(Call).where(Call.inbox_id == inbox_id,
                                                   Call.call_id == call_id))


async def _agent_name(session: AsyncSession, user_id: uuid.UUID | None) -> str | None:
    if user_id is None:
        return None
    user = await session.get(User, user_id)
    return user.name if user else None


async def _sync_activity(session: AsyncSession, call: Call) -> None:
    """The call's one timeline entry, kept current."""
    activity = await session.get(Activity, call.activity_id) if call.activity_id else None
    if activity is None:
        activity = Activity(contact_id=call.contact_id, kind=ActivityKind.call,
                            channel=Channel.voice, source=source_of(call.inbox_id),
                            external_id=call.call_id, occurred_at=call.started_at,
                            type="call.ringing", outcome=Outcome.info)
        session.add(activity)
        await session.flush()
        call.activity_id = activity.id
    activity.conversation_id = call.conversation_id
    who = await _agent_name(session, call.agent_id)
    if call.state == "ended":
        activity.type = f"call.{call.outcome}"
        activity.outcome = OUTCOMES.get(call.outcome or "", Outcome.info)
        minutes, seconds = divmod(int(call.data.get("duration_seconds") or 0), 60)
        activity.summary = (f"Call from {call.caller} with {who}, {minutes} min {seconds} s"
                            if call.answered_at else
                            f"Call from {call.caller} {call.outcome or 'not answered'}")
    else:
        activity.type = f"call.{call.state}"
        activity.summary = f"Call from {call.caller} ({call.state})"
    if call.intent:
        activity.summary += f" · {call.intent}"
    activity.data = {
        "direction": call.direction, "caller": call.caller, "called": call.called,
        "inbox_id": str(call.inbox_id), "call_id": call.call_id, "state": call.state,
        "agent_id": str(call.agent_id) if call.agent_id else None, "agent": who,
        "duration_seconds": call.data.get("duration_seconds"),
        "waited_seconds": call.data.get("waited_seconds"), "outcome": call.outcome,
        "recording_url": call.recording_url, "intent": call.intent,
        "transcript": call.transcript, "transfers": call.data.get("transfers", []),
        **({"reason": call.data["reason"]} if call.data.get("reason") else {}),
    }


async def _queue(session: AsyncSession, inbox: Inbox, conversation: Conversation,
                 identities: dict[str, str], transcript: str | None, label: str | None,
                 tier: str | None) -> tuple[uuid.UUID | None, uuid.UUID | None, str | None]:
    """(team, agent, rule) for this call: routing rules (by intent, keywords, tier …),
    else the conversation's team (green channel or inbox), else the inbox's team."""
    found = await routing.route(session, routing.Facts(
        channel=Channel.voice, inbox_id=inbox.id, text=transcript or "",
        identities=identities, tier=tier, intent=label))
    team = conversation.team_id or inbox.team_id
    if found is None:
        return team, None, None
    rule, actions = found
    return actions.team_id or team, actions.assignee_id, rule.name


WITHHELD = {"", "anonymous", "unknown", "private", "restricted", "withheld", "unavailable",
            "匿名", "未知", "隐藏号码", "隱藏號碼"}


def is_withheld(caller: str | None) -> bool:
    """No number to recognise the caller by (PBXs say "anonymous", "restricted" …)."""
    return (caller or "").strip().lower() in WITHHELD


def caller_identities(call_id: str, caller: str) -> dict[str, str]:
    """The phone number; for a withheld number, an identity of this call alone (an unknown
    caller gets a contact of their own, which an agent can merge once they know who it is)."""
    if caller == "withheld":
        return {IdentityKind.external_id.value: f"withheld-call:{call_id}"}
    return {IdentityKind.phone.value: caller}


async def do_ring(session: AsyncSession, inbox: Inbox, cfg: VoiceConfig, ev: CallEvent,
                  region: str) -> Call:
    at = at_of(ev)
    caller = "withheld" if is_withheld(ev.caller) else canonical_identities(
        {IdentityKind.phone.value: ev.caller or ""}, region)[IdentityKind.phone.value]
    identities = caller_identities(ev.call_id, caller)
    recognised = await intents.recognise(session, ev.transcript, cfg.min_confidence)
    label = recognised.label if recognised and recognised.confident else None
    data: dict[str, Any] = {"call": {"call_id": ev.call_id, "caller": caller,
                                     "called": ev.called, "event": "ringing"}}
    if label:
        data["intent"] = label
    if recognised is not None:
        data["recognition"] = recognised.as_dict()
    received = await receive(session, InboundMessage(
        inbox_id=inbox.id, identities=identities,
        body=ev.transcript or f"[call] {caller}", external_id=f"call:{ev.call_id}",
        data=data, sent_at=at), region=region)
    conversation = received.conversation
    context = await get_context(session, received.contact_id)
    team, rule_agent, rule = await _queue(session, inbox, conversation, identities,
                                          ev.transcript, label, context.get("tier"))
    named = await resolve_agent(session, ev.agent)
    offered = named.id if named else await pick_agent(
        session, inbox, team, rule_agent or conversation.assignee_id)
    call = Call(inbox_id=inbox.id, call_id=ev.call_id, direction=ev.direction, caller=caller,
                called=ev.called, contact_id=received.contact_id,
                conversation_id=conversation.id, team_id=team, offered_to_id=offered,
                state="ringing", intent=label, transcript=ev.transcript, started_at=at,
                data={"routing_rule": rule, "recognition": data.get("recognition"),
                      "pbx": ev.extras(),
                      **({} if offered else {"reason": "no agent online to offer it to"})})
    session.add(call)
    await session.flush()
    await _sync_activity(session, call)
    _push(session, {offered}, {"type": "call.ringing", "call": call_json(call),
                               "context": context})
    return call


async def do_answer(session: AsyncSession, call: Call, ev: CallEvent) -> None:
    named = await resolve_agent(session, ev.agent)
    agent = named.id if named else call.agent_id or call.offered_to_id
    call.answered_at = call.answered_at or at_of(ev)
    call.state, call.agent_id = "answered", agent
    call.data = {**call.data, "waited_seconds": _seconds(call.started_at, call.answered_at)}
    call.data.pop("reason", None)
    conversation = (await session.get(Conversation, call.conversation_id)
                    if call.conversation_id else None)
    if conversation is not None and agent is not None and conversation.assignee_id is None:
        await do_assign(session, conversation, assignee_id=agent, team_id=None, context=None)
    await _sync_activity(session, call)
    _push(session, {agent, call.offered_to_id}, {"type": "call.answered",
                                                 "call": call_json(call)})


async def do_transfer(session: AsyncSession, call: Call, ev: CallEvent) -> None:
    target = await resolve_agent(session, ev.agent)
    assert target is not None  # the schema requires the agent of a transfer
    previous = call.agent_id or call.offered_to_id
    call.state, call.offered_to_id = "transferred", target.id
    call.data = {**call.data, "transfers": [*call.data.get("transfers", []), {
        "from": str(previous) if previous else None, "to": str(target.id),
        "at": at_of(ev).isoformat()}]}
    await _sync_activity(session, call)
    frame = call_json(call)
    _push(session, {previous} - {target.id}, {"type": "call.ended",
                                              "call": {**frame, "transferred_to": str(target.id)}})
    context = await get_context(session, call.contact_id)
    _push(session, {target.id}, {"type": "call.ringing", "call": frame, "context": context})


async def do_end(session: AsyncSession, call: Call, ev: CallEvent) -> None:
    call.ended_at = at_of(ev)
    call.state = "ended"
    call.recording_url = ev.recording_url or call.recording_url
    answered = call.answered_at is not None
    call.outcome = ev.outcome or ("completed" if answered else "abandoned")
    duration = ev.duration_seconds
    if duration is None:
        duration = _seconds(call.answered_at, call.ended_at) if answered else 0
    waited = call.data.get("waited_seconds")
    call.data = {**call.data, "duration_seconds": duration,
                 "waited_seconds": waited if answered else _seconds(call.started_at,
                                                                     call.ended_at)}
    if not answered:
        call.data["reason"] = ("caller hung up before an agent answered"
                               if call.outcome == "abandoned" else call.outcome)
    await _sync_activity(session, call)
    _push(session, {call.agent_id, call.offered_to_id}, {"type": "call.ended",
                                                         "call": call_json(call)})


async def do_transcript(session: AsyncSession, inbox: Inbox, cfg: VoiceConfig, call: Call,
                        ev: CallEvent, region: str) -> None:
    """Speech recognised after the call started: the customer's message on the call's
    conversation; the first confident intent is the call's."""
    text = ev.transcript or ""
    call.transcript = f"{call.transcript}\n{text}" if call.transcript else text
    recognised = await intents.recognise(session, text, cfg.min_confidence)
    data: dict[str, Any] = {"call": {"call_id": call.call_id, "event": "transcript"}}
    if recognised is not None:
        data["recognition"] = recognised.as_dict()
        if recognised.confident and call.intent is None:
            call.intent = data["intent"] = recognised.label
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    await receive(session, InboundMessage(
        inbox_id=inbox.id, identities=caller_identities(call.call_id, call.caller), body=text,
        external_id=f"call:{call.call_id}:transcript:{digest}",
        conversation_id=call.conversation_id, data=data, sent_at=at_of(ev)), region=region)
    await _sync_activity(session, call)


def _seconds(start: datetime | None, end: datetime | None) -> int:
    if start is None or end is None:
        return 0
    return max(0, int((end - start).total_seconds()))


async def _apply(session: AsyncSession, inbox: Inbox, cfg: VoiceConfig, call: Call,
                 ev: CallEvent, region: str) -> str | None:
    """Apply an event to a known call; a reason when it is ignored."""
    if ev.event == "transcript":
        await do_transcript(session, inbox, cfg, call, ev, region)
        return None
    if call.state == "ended":
        return f"call {call.call_id} has already ended"
    if ev.event == "answered":
        await do_answer(session, call, ev)
    elif ev.event == "transferred":
        await do_transfer(session, call, ev)
    elif ev.event == "ended":
        await do_end(session, call, ev)
    return None


def _quarantined(ev: CallEvent, reason: str) -> Handled:
    if ev.event == "transcript":  # an IVR may recognise speech before the call rings here
        return Handled(202, {"status": "held", "event": ev.event, "reason": reason})
    return Handled(409, {"type": "unknown-call", "title": "Unknown call",
                         "detail": reason + "; quarantined, applied if the call rings",
                         "quarantined": True})


async def handle(session: AsyncSession, inbox: Inbox, cfg: VoiceConfig, ev: CallEvent, *,
                 signature: str | None, region: str) -> Handled:
    """One call event, stored once; unknown calls are quarantined until they ring."""
    key = event_key(ev)
    payload = ev.model_dump(mode="json", exclude_none=True)
    seen = await find_event(session, inbox.id, key)
    if seen is not None and seen.status == "quarantined":
        return _quarantined(ev, seen.reason or "")
    if seen is not None:
        call = await get_call(session, inbox.id, ev.call_id)
        return Handled(200, {"status": "duplicate", "event": ev.event,
                             "call": call_json(call) if call else None})
    call = await get_call(session, inbox.id, ev.call_id)
    if ev.event == "ringing":
        if call is not None:  # rang before under another key? keep the first
            record_event(session, inbox.id, key, signature, payload, subject=ev.call_id)
            return Handled(200, {"status": "duplicate", "event": ev.event,
                                 "call": call_json(call)})
        waiting = await quarantined(session, inbox.id, ev.call_id)
        early = [CallEvent.model_validate(w.payload) for w in waiting]
        if not ev.transcript:  # speech recognised before the call rang here
            ev.transcript = next((e.transcript for e in early if e.event == "transcript"), None)
        call = await do_ring(session, inbox, cfg, ev, region)
        record_event(session, inbox.id, key, signature, payload, subject=ev.call_id)
        for row, early_ev in sorted(zip(waiting, early, strict=True),
                                    key=lambda p: at_of(p[1])):
            if early_ev.event != "transcript":
                await _apply(session, inbox, cfg, call, early_ev, region)
            row.status, row.reason = "accepted", f"{row.reason}; applied when the call rang"
        return Handled(201, {"status": "accepted", "event": ev.event,
                             "call": call_json(call),
                             "applied_late": [e.event for e in early]})
    if call is None:
        reason = f"unknown call id {ev.call_id!r}: no ringing event for it on this inbox"
        record_event(session, inbox.id, key, signature, payload, subject=ev.call_id,
                     status="quarantined", reason=reason)
        log.warning("voice inbox %s: %s event quarantined: %s", inbox.id, ev.event, reason)
        return _quarantined(ev, reason)
    ignored = await _apply(session, inbox, cfg, call, ev, region)
    record_event(session, inbox.id, key, signature, payload, subject=ev.call_id,
                 reason=ignored)
    return Handled(200, {"status": "ignored" if ignored else "accepted", "event": ev.event,
                         "reason": ignored, "call": call_json(call)})
