"""Long SMS split into segments: GSM 03.38 7-bit (160 characters alone, 153 per part of a
concatenated message; the extension characters ``^{}\\[~]|€`` take two septets) when every
character fits, else UCS-2 (70 alone, 67 per part, counted in UTF-16 code units so that an
emoji's surrogate pair is never cut)."""

from __future__ import annotations

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")
LIMITS = {"gsm7": (160, 153), "ucs2": (70, 67)}


def encoding_of(text: str) -> str:
    return "gsm7" if all(c in GSM_BASIC or c in GSM_EXTENSION for c in text) else "ucs2"


def _cost(char: str, encoding: str) -> int:
    if encoding == "gsm7":
        return 2 if char in GSM_EXTENSION else 1
    return len(char.encode("utf-16-le")) // 2


def length(text: str, encoding: str | None = None) -> int:
    """Septets (GSM-7) or UTF-16 code units (UCS-2)."""
    enc = encoding or encoding_of(text)
    return sum(_cost(c, enc) for c in text)


def split(text: str) -> tuple[str, list[str]]:
    """(encoding, segments): one segment when it fits, else parts for concatenation."""
    encoding = encoding_of(text)
    single, part = LIMITS[encoding]
    if length(text, encoding) <= single:
        return encoding, [text]
    parts: list[str] = []
    current: list[str] = []
    used = 0
    for char in text:
        cost = _cost(char, encoding)
        if used + cost > part:
            parts.append("".join(current))
            current, used = [], 0
        current.append(char)
        used += cost
    if current:
        parts.append("".join(current))
    return encoding, parts
