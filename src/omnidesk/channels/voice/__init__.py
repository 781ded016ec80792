"""The phone channel: signed call events from a PBX (and Asterisk ARI), the screen pop
before the call is answered, calls on the timeline, and intent-based queue selection from
the IVR's transcript. See docs/channels-voice.md."""

from __future__ import annotations

from omnidesk.channels.voice.endpoints import router

__all__ = ["router"]
