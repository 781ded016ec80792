"""Decoding what mail clients in China, Hong Kong, Taiwan and elsewhere actually send.

Declared charsets are taken as hints, not facts: ``gb2312`` mail routinely carries GBK or
GB18030 characters (decoded with GB18030, the superset), ``big5`` mail carries HKSCS
characters (Big5-HKSCS, then Microsoft's cp950), and a part with no charset may hold
UTF-8, GBK or Big5 bytes. Each candidate is tried strictly; only when all fail is the
text decoded with replacement characters. RFC 2047 encoded words are decoded here too,
with adjacent words of one charset joined as bytes first (clients split a multi-byte
character across two base64 words).
"""

from __future__ import annotations

import binascii
import codecs
import re

GB = "gb18030"
BIG5 = ("big5hkscs", "cp950")
_ALIASES = {
    "gb2312": (GB,), "gbk": (GB,), "x-gbk": (GB,), "cp936": (GB,), "ms936": (GB,),
    "gb_2312-80": (GB,), "euc-cn": (GB,), "x-euc-cn": (GB,), "csgb2312": (GB,),
    "chinese": (GB,), "gb18030": (GB,), "hz-gb-2312": ("hz",),
    "big5": BIG5, "x-big5": BIG5, "cn-big5": BIG5, "csbig5": BIG5, "big-5": BIG5,
    "big5-hkscs": BIG5, "big5hkscs": BIG5, "cp950": ("cp950", "big5hkscs"),
    "ms950": ("cp950", "big5hkscs"),
    "utf8": ("utf-8",), "utf-8": ("utf-8",), "unicode-1-1-utf-7": ("utf-7",),
    "ks_c_5601-1987": ("cp949",), "us-ascii": (), "ascii": (), "ansi_x3.4-1968": (),
    "iso-8859-1": ("cp1252",), "latin1": ("cp1252",), "windows-1252": ("cp1252",),
}
# Very frequent characters, simplified and traditional: which guess reads like Chinese.
_COMMON = frozenset(
    "的一是不了在人有我他这個个們们中来來上大为為和国國地到以说說时時要就出会會可也你对對"
    "生能而子那得于於着著下自之年过過发發后後作里裡用道行所然家种種事成方多经經么麼去法学學"
    "如都同现現当當没沒动動面起看定天分还還进進好小部其些主样樣理心她本前开開但因只从從想实實"
    "您请請问問题題谢謝订訂单單号號客服务務费費账賬户戶网網络絡已经收到货貨退款"
)
_EW = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_QP_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")


def _known(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def declared_codecs(declared: str | None) -> list[str]:
    """The codecs a declared charset stands for (none for ASCII or an unknown name)."""
    name = (declared or "").strip().strip('"').lower()
    if name in _ALIASES:
        return list(_ALIASES[name])
    known = _known(name) if name else None
    return [known] if known else []


def _score(text: str) -> int:
    return sum(1 for ch in text if ch in _COMMON) - 3 * text.count("\ufffd")


def decode_bytes(data: bytes, declared: str | None) -> tuple[str, str]:
    """``(text, codec used)``: the declared charset when it decodes strictly, else UTF-8
    (self-validating), else whichever of GB18030 and Big5 reads most like Chinese;
    replacement characters only as a last resort."""
    try:
        return data.decode("ascii"), "ascii"
    except UnicodeDecodeError:
        pass
    first = declared_codecs(declared)
    for codec in [*first, "utf-8"]:
        try:
            return data.decode(codec), codec
        except (UnicodeDecodeError, LookupError):
            continue
    readings: list[tuple[int, str, str]] = []
    for codec in (GB, *BIG5):
        if codec in first:
            continue
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        readings.append((_score(text), codec, text))
    if readings:
        best = max(readings, key=lambda r: r[0])  # first of equals: GB before Big5
        return best[2], best[1]
    codec = first[0] if first else "utf-8"
    return data.decode(codec, errors="replace"), codec


def unsurrogate(value: str) -> str:
    """A header parsed from bytes keeps raw 8-bit bytes as surrogates: decode them."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raw = value.encode("utf-8", errors="surrogateescape")
        return decode_bytes(raw, None)[0]
    return value


def _word_bytes(encoding: str, payload: str) -> bytes | None:
    try:
        if encoding in "bB":
            cleaned = payload.rstrip("=")
            return binascii.a2b_base64(cleaned + "=" * (-len(cleaned) % 4))
        raw = payload.replace("_", " ").encode("ascii", errors="replace")
        return _QP_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), raw)
    except (binascii.Error, ValueError):
        return None


def decode_words(value: str | None) -> str:
    """A header's text: RFC 2047 encoded words decoded (also the malformed ones clients
    send: inside quotes, glued to text, with missing padding), raw 8-bit decoded,
    folding whitespace collapsed."""
    if not value:
        return ""
    value = unsurrogate(value)
    pieces: list[str | tuple[bytes, str]] = []
    pos = 0
    for m in _EW.finditer(value):
        between = value[pos:m.start()]
        after_word = bool(pieces) and isinstance(pieces[-1], tuple)
        if between and not (after_word and not between.strip()):
            pieces.append(between)
        data = _word_bytes(m.group(2), m.group(3))
        charset = m.group(1).split("*", 1)[0].lower()
        if data is None:
            pieces.append(m.group(0))
        elif pieces and isinstance(pieces[-1], tuple) and pieces[-1][1] == charset:
            pieces[-1] = (pieces[-1][0] + data, charset)
        else:
            pieces.append((data, charset))
        pos = m.end()
    pieces.append(value[pos:])
    text = "".join(p if isinstance(p, str) else decode_bytes(p[0], p[1])[0] for p in pieces)
    return " ".join(text.replace("\r", " ").replace("\n", " ").split())
