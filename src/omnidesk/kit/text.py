"""Text normalisation for matching: Chinese (simplified and traditional) and English.

Every text path (search, intent recognition, rules, reports) normalises first:
NFKC (which also folds full-width forms to half-width), lower-casing, traditional →
simplified with OpenCC's Taiwan-phrase profile (寬頻 → 宽带, 軟體 → 软件), then tokens:
jieba words plus character bigrams for CJK runs, Snowball stems for Latin words.
The original text is always kept for display; only the normalised form is matched.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from functools import lru_cache

import jieba
import opencc
import snowballstemmer

jieba.setLogLevel(logging.WARNING)

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_TOKEN_RE = re.compile(rf"[{_CJK}]+|[a-z0-9]+(?:['’][a-z]+)?")
_CJK_RE = re.compile(rf"^[{_CJK}]+$")
_lock = threading.Lock()
_converter: opencc.OpenCC | None = None
_stemmer = snowballstemmer.stemmer("english")


def _opencc() -> opencc.OpenCC:
    global _converter
    if _converter is None:
        with _lock:
            if _converter is None:
                _converter = opencc.OpenCC("tw2sp")
    return _converter


def to_simplified(text: str) -> str:
    """Traditional → simplified (Taiwan phrases too); simplified and Latin pass through."""
    return _opencc().convert(text)


@lru_cache(maxsize=65536)
def normalize(text: str) -> str:
    """NFKC + full-width → half-width + lower-case + traditional → simplified + spaces."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = to_simplified(text)
    return " ".join(text.split())


def is_cjk(token: str) -> bool:
    return bool(_CJK_RE.match(token))


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return str(_stemmer.stemWord(word))


def words(text: str) -> list[str]:
    """Normalised word tokens: jieba words for CJK runs, stems for Latin words."""
    out: list[str] = []
    for run in _TOKEN_RE.findall(normalize(text)):
        if is_cjk(run):
            out.extend(w for w in jieba.lcut(run) if w.strip())
        else:
            out.append(_stem(run.replace("’", "'")))
    return out


def cjk_bigrams(text: str) -> list[str]:
    """Character bigrams (and lone characters) of the CJK runs of the normalised text."""
    out: list[str] = []
    for run in _TOKEN_RE.findall(normalize(text)):
        if not is_cjk(run):
            continue
        if len(run) == 1:
            out.append(run)
        else:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


def tokens(text: str) -> list[str]:
    """Tokens for indexing and matching: words plus CJK character bigrams."""
    return words(text) + cjk_bigrams(text)


def search_key(text: str) -> str:
    """A compact normalised form for substring matching in SQL (names, subjects)."""
    return normalize(text)
