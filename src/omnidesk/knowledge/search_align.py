"""Normalised text with a way back to the original: offsets through NFKC and OpenCC.

Search matches on the normalised form (NFKC, lower case, traditional → simplified), but a
snippet must show the text the author wrote. ``fold_with_offsets`` produces the
normalised form of a text together with the maps that turn a span of it back into a span
of the original. It runs for every hit of every search, so it avoids per-character
Python work and OpenCC calls on long bodies:

1. *Per character*, vectorised: code points go through one lookup table (numpy) that
   holds NFKC + lower-case + OpenCC's character-level traditional → simplified mapping.
   Characters whose NFKC form has another length (``…`` → ``...``, ``㈱`` → ``(株)``,
   ``ﬁ``) are spliced in separately and recorded as coarse segments.
2. *Phrases*: OpenCC's ``tw2sp`` also converts whole phrases (軟體 → 软件, 滑鼠 → 鼠标,
   記憶體 → 内存, 網際網路 → 互联网), which a character table cannot. ``phrase_patches``
   finds the CJK runs where the phrase conversion differs from the character table and
   aligns each (``difflib``; a phrase that changed length maps to the whole phrase). It
   costs one OpenCC pass, so the index computes it once per article body and keeps the
   few patches (none for most articles).

Per-character folding differs from whole-string NFKC only for combining sequences
(``e`` + U+0301, half-width kana + voiced mark); such words are still found by search but
may not be highlighted.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from omnidesk.kit.text import to_simplified

# The CJK ranges of omnidesk.kit.text (tokens are CJK runs or Latin/digit words).
CJK_CLASS = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FFFF))
_CJK_RUN_RE = re.compile(rf"[{CJK_CLASS}]+")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_LIMIT = 0x30000  # planes 0-2 hold every character these foldings change
_UTF32 = "utf-32-le"

U32Array = npt.NDArray[np.uint32]


class _Segment(NamedTuple):
    dst_start: int
    dst_end: int
    src_start: int
    src_end: int
    exact: bool  # 1:1 character offsets inside the segment


class OffsetMap:
    """Maps spans of a derived string back to spans of its source (piecewise)."""

    __slots__ = ("_segments", "_starts")

    def __init__(self, segments: list[_Segment]) -> None:
        self._segments = segments
        self._starts = [s.dst_start for s in segments]

    def _segment(self, pos: int) -> _Segment:
        i = bisect_right(self._starts, pos) - 1
        return self._segments[max(i, 0)]

    def span(self, start: int, end: int) -> tuple[int, int]:
        first = self._segment(start)
        last = self._segment(max(end - 1, start))
        src_start = first.src_start + (start - first.dst_start) if first.exact else first.src_start
        src_end = last.src_start + (end - last.dst_start) if last.exact else last.src_end
        return src_start, max(src_end, src_start)


class _CharMap:
    """Back from the character-folded text when some characters expanded (… → ...).

    ``positions``: where those characters are in the original; ``widths``: how long
    their folded forms are. Built with numpy, looked up with ``bisect``."""

    __slots__ = ("_after", "_positions", "_starts", "_widths")

    def __init__(self, positions: npt.NDArray[np.intp], widths: npt.NDArray[np.intp]) -> None:
        after = np.cumsum(widths - 1)  # extra characters up to and including each one
        self._starts = (positions + after - (widths - 1)).tolist()
        self._positions = positions.tolist()
        self._widths = widths.tolist()
        self._after = after.tolist()

    def _original(self, pos: int, end: bool) -> int:
        k = bisect_right(self._starts, pos) - 1
        if k < 0:
            return pos + end
        if pos < self._starts[k] + self._widths[k]:  # inside an expanded character
            return int(self._positions[k]) + end
        return pos - self._after[k] + end

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self._original(start, False), self._original(max(end - 1, start), True)


@dataclass(frozen=True, slots=True)
class _Table:
    lut: U32Array  # code point → code point (when the folded form is one character)
    multi: dict[str, str]  # character → folded string (when it is not one character)
    width: npt.NDArray[np.intp]  # length of the folded form of each code point


class _Tables:
    """Built once (≈ 0.2 s): NFKC + lower only, and NFKC + lower + character tw2sp."""

    _lock = threading.Lock()
    _built: tuple[_Table, _Table] | None = None

    @classmethod
    def get(cls) -> tuple[_Table, _Table]:
        with cls._lock:
            if cls._built is None:
                cls._built = cls._build()
            return cls._built

    @staticmethod
    def _build() -> tuple[_Table, _Table]:
        nfkc = np.arange(_LIMIT, dtype=np.uint32)
        width = np.ones(_LIMIT, dtype=np.intp)
        multi: dict[str, str] = {}
        for cp in range(_LIMIT):
            if 0xD800 <= cp <= 0xDFFF:
                continue
            folded = unicodedata.normalize("NFKC", chr(cp)).lower()
            if len(folded) == 1:
                nfkc[cp] = ord(folded)
            else:
                multi[chr(cp)], width[cp] = folded, len(folded)
        chars = [chr(cp) for lo, hi in _CJK_RANGES for cp in range(lo, hi + 1)]
        converted = to_simplified("\n".join(chars)).split("\n")
        t2s = np.arange(_LIMIT, dtype=np.uint32)
        if len(converted) == len(chars):
            for ch, out in zip(chars, converted, strict=True):
                if len(out) == 1:
                    t2s[ord(ch)] = ord(out)
        full_multi = {ch: "".join(chr(t2s[ord(c)]) if ord(c) < _LIMIT else c for c in s)
                      for ch, s in multi.items()}
        return _Table(nfkc, multi, width), _Table(t2s[nfkc], full_multi, width)


def _fold_chars(text: str, table: _Table) -> tuple[str, _CharMap | None]:
    """``text`` through ``table``; the map is None when every character stayed one."""
    if text.isascii():
        return text.lower(), None
    cps = np.frombuffer(text.encode(_UTF32, "surrogatepass"), dtype=np.uint32)
    clipped = np.minimum(cps, _LIMIT - 1)
    inside = cps < _LIMIT
    folded = np.where(inside, table.lut[clipped], cps).tobytes().decode(_UTF32, "surrogatepass")
    widths = np.where(inside, table.width[clipped], 1)
    special = np.flatnonzero(widths != 1)
    if len(special) == 0:
        return folded, None
    for ch in {text[i] for i in special.tolist()}:
        folded = folded.replace(ch, table.multi[ch])  # folded forms are NFKC-stable
    return folded, _CharMap(special, widths[special])


_Op = tuple[str, int, int, int, int]


def _resized(op: _Op) -> bool:
    return op[0] != "equal" and op[2] - op[1] != op[4] - op[3]


def _coalesce(ops: Sequence[_Op]) -> list[_Op]:
    """Merge a change of length with the next change when one character separates them.

    difflib may pair the 网 of 互联网 with the first 網 of 網際網路 and report "insert
    互联, keep 网, delete 际网路"; the phrase changed as a whole, so map it as a whole.
    Same-length changes (設定 → 设置) stay apart and map character by character."""
    merged: list[_Op] = []
    for op in ops:
        if op[0] != "equal" and merged and merged[-1][0] != "equal":
            prev = merged.pop()
            op = ("replace", prev[1], op[2], prev[3], op[4])
        elif (op[0] != "equal" and len(merged) >= 2 and merged[-1][2] - merged[-1][1] < 2
              and _resized(merged[-2])):
            merged.pop()
            prev = merged.pop()
            op = ("replace", prev[1], op[2], prev[3], op[4])
        merged.append(op)
    return merged


def scrub(text: str) -> str:
    """``text`` with lone surrogates (from JSON ``"\\ud800"``) replaced by U+FFFD, one
    for one: OpenCC and jieba refuse them, and offsets must not move."""
    return text if text.isascii() else _SURROGATE_RE.sub("\ufffd", text)


@dataclass(frozen=True, slots=True)
class _Patch:
    start: int  # a CJK run of the character-folded text
    end: int
    text: str  # its phrase-level conversion


def _align(by_char: str, converted: str, src: int, dst: int) -> list[_Segment]:
    """Segments mapping ``converted`` (at ``dst``) back to ``by_char`` (at ``src``)."""
    segments = []
    matcher = SequenceMatcher(None, by_char, converted, autojunk=False)
    for tag, i1, i2, j1, j2 in _coalesce(matcher.get_opcodes()):
        if j2 == j1:
            continue  # characters that vanished: nothing in the converted text maps to them
        if tag == "equal" or i2 - i1 == j2 - j1:
            segments.append(_Segment(dst + j1, dst + j2, src + i1, src + i2, True))
        else:
            lo, hi = (i1, i2) if i2 > i1 else (max(i1 - 1, 0), min(i1 + 1, len(by_char)))
            segments.append(_Segment(dst + j1, dst + j2, src + lo, src + hi, False))
    return segments


@dataclass(frozen=True, slots=True)
class Phrases:
    """Where OpenCC's phrase conversion of a text differs from the character table:
    the runs to replace, and the map back from the result. Computed once per article."""

    patches: tuple[_Patch, ...]
    back: OffsetMap | None

    def apply(self, by_char: str) -> str:
        parts: list[str] = []
        src = 0
        for patch in self.patches:
            parts += (by_char[src : patch.start], patch.text)
            src = patch.end
        parts.append(by_char[src:])
        return "".join(parts)

    @classmethod
    def build(cls, by_char: str, patches: list[_Patch]) -> Phrases:
        if not patches:
            return NO_PHRASES
        segments: list[_Segment] = []
        src = dst = 0
        for patch in patches:
            if patch.start > src:
                segments.append(_Segment(dst, dst + patch.start - src, src, patch.start, True))
                dst += patch.start - src
            segments += _align(by_char[patch.start : patch.end], patch.text, patch.start, dst)
            dst += len(patch.text)
            src = patch.end
        segments.append(_Segment(dst, dst + len(by_char) - src, src, len(by_char), True))
        return cls(tuple(patches), OffsetMap(segments))


NO_PHRASES = Phrases((), None)


def phrase_patches(text: str) -> Phrases:
    """Compare OpenCC's phrase conversion of ``text`` with the character table (one
    OpenCC pass over the text; none for ASCII)."""
    if text.isascii():
        return NO_PHRASES
    text = scrub(text)
    nfkc_table, full_table = _Tables.get()
    nfkc, _ = _fold_chars(text, nfkc_table)
    by_char, _ = _fold_chars(text, full_table)
    if to_simplified(nfkc) == by_char:
        return NO_PHRASES
    runs = list(_CJK_RUN_RE.finditer(nfkc))
    converted = to_simplified("\n".join(m.group() for m in runs)).split("\n")
    if len(converted) != len(runs):  # OpenCC joined or split a run: convert one by one
        converted = [to_simplified(m.group()) for m in runs]
    patches = [
        _Patch(m.start(), m.end(), out)
        for m, out in zip(runs, converted, strict=True)
        if out != by_char[m.start() : m.end()]
    ]
    return Phrases.build(by_char, patches)


@dataclass(frozen=True, slots=True)
class FoldedText:
    """The normalised form of ``original`` and the maps back from it."""

    original: str
    folded: str
    _chars: _CharMap | None
    _phrases: OffsetMap | None

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        if self._phrases is not None:
            start, end = self._phrases.span(start, end)
        if self._chars is not None:
            start, end = self._chars.span(start, end)
        return start, end


def fold_with_offsets(text: str, phrases: Phrases | None = None) -> FoldedText:
    """NFKC + lower-case + traditional → simplified, keeping the way back to ``text``.

    ``phrases``: ``phrase_patches(text)`` if already known (computed when omitted)."""
    by_char, char_map = _fold_chars(text, _Tables.get()[1])
    if phrases is None:
        phrases = phrase_patches(text)
    return FoldedText(text, phrases.apply(by_char), char_map, phrases.back)
