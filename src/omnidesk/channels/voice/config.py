"""A voice inbox's configuration (``inbox.config``), read and checked in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omnidesk.channels.voice.webhook import Misconfigured, secret_of
from omnidesk.models import Inbox

DEFAULT_TRANSCRIPT_VARIABLES = ("OMNIDESK_TRANSCRIPT", "TRANSCRIPT")
ANSWER_ON = ("bridge", "up")


@dataclass(frozen=True)
class VoiceConfig:
    secret: str
    # the classifier's own in-scope decision unless the admin sets a threshold (0..1)
    min_confidence: float | None
    # ARI: channel variables holding the IVR's speech transcript
    transcript_variables: tuple[str, ...]
    # ARI: the caller is "answered" when bridged to an agent (default) or when the
    # channel goes Up (a PBX that answers only when an agent picks up)
    answer_on: str
    recording_url_template: str | None  # ARI: "https://pbx/recordings/{name}.{format}"

    @classmethod
    def from_inbox(cls, inbox: Inbox) -> VoiceConfig:
        raw: dict[str, Any] = inbox.config or {}
        secret = secret_of(inbox)
        threshold = raw.get("min_confidence")
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(
                threshold, int | float) or not 0 <= threshold <= 1):
            raise Misconfigured("config min_confidence must be a number from 0 to 1")
        names = raw.get("transcript_variables", list(DEFAULT_TRANSCRIPT_VARIABLES))
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise Misconfigured("config transcript_variables must be a list of names")
        answer_on = raw.get("answer_on", "bridge")
        if answer_on not in ANSWER_ON:
            raise Misconfigured(f"config answer_on must be one of {', '.join(ANSWER_ON)}")
        template = raw.get("recording_url_template")
        return cls(secret=secret,
                   min_confidence=float(threshold) if threshold is not None else None,
                   transcript_variables=tuple(names), answer_on=answer_on,
                   recording_url_template=template if isinstance(template, str) else None)
