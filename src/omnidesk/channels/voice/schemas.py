"""The call events a PBX (or the ARI adapter) sends to ``/channels/voice/{inbox}/events``."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from omnidesk.kit.errors import ValidationFailed

EVENTS = ("ringing", "answered", "transferred", "ended", "transcript")


class CallEvent(BaseModel):
    """One thing that happened to a call. Unknown fields are kept with the call."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)
    event: Literal["ringing", "answered", "transferred", "ended", "transcript"]
    call_id: str = Field(min_length=1, max_length=200)
    caller: str | None = Field(default=None, max_length=64)
    called: str | None = Field(default=None, max_length=64)
    agent: str | None = Field(default=None, max_length=320)  # user id or e-mail
    at: AwareDatetime | None = None
    transcript: str | None = Field(default=None, max_length=5000)
    recording_url: str | None = Field(default=None, max_length=1000,
                                      pattern=r"^https?://\S+$")
    outcome: str | None = Field(default=None, max_length=32, pattern=r"^[a-z_]+$")
    duration_seconds: int | None = Field(default=None, ge=0, le=7 * 24 * 3600)
    direction: Literal["inbound", "outbound"] = "inbound"

    @model_validator(mode="after")
    def _needs(self) -> CallEvent:
        if self.event == "transferred" and not self.agent:
            raise ValueError("a transferred event names the agent it went to ('agent')")
        if self.event == "transcript" and not self.transcript:
            raise ValueError("a transcript event needs 'transcript'")
        return self

    def extras(self) -> dict[str, object]:
        return dict(self.model_extra or {})


def parse_event(raw: object) -> CallEvent:
    """A call event, or a 422 that names the fields that are wrong."""
    try:
        return CallEvent.model_validate(raw)
    except ValidationError as exc:
        errors = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                  for e in exc.errors()]
        detail = "; ".join(f"{e['field'] or 'body'}: {e['message']}" for e in errors)
        raise ValidationFailed(f"not a call event: {detail}", errors=errors) from exc
