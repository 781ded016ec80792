"""Asterisk ARI: the events of a Stasis application, as call events.

ARI pushes JSON events on its websocket (``/ari/events?app=…``). The caller's channel is
the call (its channel id is the call id):

==========================================  ===========================================
ARI event                                   call event
==========================================  ===========================================
``StasisStart``                             ``ringing`` (caller ``channel.caller.number``,
                                            called ``channel.dialplan.exten``; a
                                            transcript from ``channelvars`` or an
                                            ``transcript=…`` Stasis argument)
``ChannelEnteredBridge``                    ``answered`` (config ``answer_on: bridge``)
``ChannelStateChange`` state ``Up``         ``answered`` (config ``answer_on: up``)
``ChannelVarset`` of a transcript variable  ``transcript``
``ChannelHangupRequest``, ``StasisEnd``,    ``ended`` (the hang-up cause gives the
``ChannelDestroyed``                        outcome: busy, no answer, rejected, failed)
==========================================  ===========================================

The agent is the channel variable ``OMNIDESK_AGENT`` (user id or e-mail) when set. Other
events (DTMF, playback, …) are not call events and are ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from omnidesk.channels.voice.config import VoiceConfig
from omnidesk.channels.voice.schemas import CallEvent, parse_event

AGENT_VARIABLE = "OMNIDESK_AGENT"
ENDED = frozenset({"ChannelHangupRequest", "StasisEnd", "ChannelDestroyed"})
CAUSES = {17: "busy", 18: "no_answer", 19: "no_answer", 21: "rejected", 27: "failed",
          34: "failed", 38: "failed", 41: "failed", 42: "failed"}


class NotACallEvent(Exception):
    """An ARI event that says nothing about a call (the reason is the message)."""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _at(raw: Any) -> str | None:
    if not isinstance(raw, str):
        return None
    try:
        return datetime.fromisoformat(raw).isoformat()
    except ValueError:
        return None


def _transcript(cfg: VoiceConfig, channel: dict[str, Any], args: Any) -> str | None:
    variables = _dict(channel.get("channelvars"))
    for name in cfg.transcript_variables:
        found = _text(variables.get(name))
        if found:
            return found
    for arg in args if isinstance(args, list) else []:
        if isinstance(arg, str) and arg.startswith("transcript="):
            return _text(arg.removeprefix("transcript="))
    return None


def translate(raw: Any, cfg: VoiceConfig) -> CallEvent:
    """The call event an ARI event means; :class:`NotACallEvent` when it means none."""
    event = _dict(raw)
    kind = event.get("type")
    channel = _dict(event.get("channel"))
    call_id = _text(channel.get("id"))
    if not isinstance(kind, str) or call_id is None:
        raise NotACallEvent("not an ARI channel event (needs 'type' and 'channel.id')")
    variables = _dict(channel.get("channelvars"))
    base: dict[str, Any] = {"call_id": call_id, "at": _at(event.get("timestamp")),
                            "ari_type": kind, "channel_name": channel.get("name")}
    agent = _text(variables.get(AGENT_VARIABLE))
    if kind == "StasisStart":
        caller = _dict(channel.get("caller"))
        return parse_event({**base, "event": "ringing", "caller": _text(caller.get("number")),
                            "called": _text(_dict(channel.get("dialplan")).get("exten")),
                            "caller_name": _text(caller.get("name")), "agent": agent,
                            "transcript": _transcript(cfg, channel, event.get("args"))})
    if kind == "ChannelVarset":
        if event.get("variable") not in cfg.transcript_variables or not _text(event.get("value")):
            raise NotACallEvent(f"variable {event.get('variable')!r} is not a transcript")
        return parse_event({**base, "event": "transcript", "transcript": _text(event["value"])})
    if (kind == "ChannelEnteredBridge" and cfg.answer_on == "bridge") or (
            kind == "ChannelStateChange" and cfg.answer_on == "up"
            and channel.get("state") == "Up"):
        return parse_event({**base, "event": "answered", "agent": agent})
    if kind in ENDED:
        cause = event.get("cause")
        outcome = CAUSES.get(cause) if isinstance(cause, int) else None
        return parse_event({**base, "event": "ended", "outcome": outcome,
                            "hangup_cause": cause, "cause_txt": event.get("cause_txt")})
    raise NotACallEvent(f"ARI {kind} is not a call event omnidesk records")
