"""Folding a reply: what the customer wrote now, apart from the quoted history and the
signature below it (both kept, only folded away from the shown body).

Quoted history starts at the earliest of:
- an attribution line: ``On … wrote:``, ``在 … 写道：``, ``在 … 寫道：``,
  ``张三 <a@b.cn> 于2024年3月1日周五 10:00写道：`` (Gmail wraps long ones over two lines);
- a separator: ``-----Original Message-----``, ``-----原始邮件-----``, ``-----邮件原件-----``,
  QQ Mail's ``------------------ 原始邮件 ------------------``, Foxmail's
  ``------------------ Original ------------------``;
- an Outlook header block: ``From:``/``发件人:``/``寄件者:`` followed by at least two of
  ``Sent:``/``To:``/``Subject:``/``发送时间:``/``收件人:``/``主题:``/``主旨:``…
  (with the ``____`` rule Outlook draws above it);
- a run of ``>`` lines with nothing but more ``>`` lines (or blank lines) after it.

Forwarded messages are not folded (the customer wants them read), nor is anything when
folding would leave no text at all. The signature starts at a ``-- `` line or at a
"sent from my phone" line (``发自我的iPhone``, ``Sent from my iPhone``, ``Get Outlook for
Android``…) among the last lines of what remains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WROTE_END = re.compile(r"(wrote|写道|寫道|寫了|写了)\s*[:：]\s*$", re.IGNORECASE)
_WROTE_START = re.compile(r"^(on\s|在|於|于)|\d|@", re.IGNORECASE)
_SEPARATOR = re.compile(
    r"^[-_=\s]{2,}\s*(original message|original|原始邮件|原始郵件|邮件原件|郵件原件|原邮件|"
    r"原始信件|回复的邮件|回覆的郵件)\s*[-_=\s]{2,}$", re.IGNORECASE)
_RULE = re.compile(r"^_{10,}\s*$")
_FROM = re.compile(r"^\*?\s*(from|发件人|發件人|寄件者|寄件人)\s*\*?\s*[:：]", re.IGNORECASE)
_HEADER = re.compile(
    r"^\*?\s*(sent|date|to|cc|subject|发送时间|發送時間|时间|時間|日期|寄件日期|收件人|收件者|"
    r"抄送|副本|主题|主題|主旨)\s*\*?\s*[:：]", re.IGNORECASE)
_SIGNATURE = re.compile(
    r"^(sent from my\s.{1,40}|sent from (mail|outlook|yahoo mail|my \w+)( for \w+)?.{0,20}|"
    r"get outlook for \w+.{0,10}|sent from \w+ mail.{0,30}|"
    r"(发自|發自|寄自|来自|來自)我的.{1,30}|(从|從)我的.{1,30}(发送|發送|傳送)|"
    r"(发自|來自|来自)\s*(网易|QQ|腾讯|新浪|搜狐|阿里|139|189|WPS|钉钉|企业微信|飞书).{0,20}|"
    r"(发自|發自)\s*(iPhone|iPad|Android|华为|小米|OPPO|vivo|荣耀|HUAWEI).{0,20})\s*$",
    re.IGNORECASE)
SIGNATURE_WINDOW = 8  # a phone tag counts only among the last lines
OUTLOOK_LOOKAHEAD = 6


@dataclass(frozen=True)
class Folded:
    body: str  # what the customer wrote now
    quoted: str  # the history they replied to ("" when none)
    signature: str  # "" when none


def _attribution(lines: list[str], i: int) -> bool:
    line = lines[i].strip()
    if _WROTE_END.search(line) and _WROTE_START.search(line) and len(line) < 300:
        return True
    if i + 1 < len(lines) and re.match(r"^(on\s|在)", line, re.IGNORECASE):
        joined = f"{line} {lines[i + 1].strip()}"
        return bool(_WROTE_END.search(joined)) and len(joined) < 300
    return False


def _outlook_block(lines: list[str], i: int) -> bool:
    if not _FROM.match(lines[i].strip()):
        return False
    window = [x.strip() for x in lines[i + 1:i + 1 + OUTLOOK_LOOKAHEAD]]
    return sum(1 for x in window if _HEADER.match(x)) >= 2


def _only_quotes_after(lines: list[str], i: int) -> bool:
    return all(not x.strip() or x.lstrip().startswith(">") for x in lines[i:])


def quote_start(lines: list[str]) -> int | None:
    for i, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            continue
        if _SEPARATOR.match(line) or _attribution(lines, i) or _outlook_block(lines, i):
            return i
        if _RULE.match(line) and any(_outlook_block(lines, j)
                                     for j in range(i + 1, min(i + 3, len(lines)))):
            return i
        if line.startswith(">") and _only_quotes_after(lines, i):
            return i
    return None


def signature_start(lines: list[str]) -> int | None:
    filled = [i for i, x in enumerate(lines) if x.strip()]
    recent = set(filled[-SIGNATURE_WINDOW:])
    for i, raw in enumerate(lines):
        if raw == "-- " or (raw.strip() == "--" and i in recent):
            return i
        if i in recent and _SIGNATURE.match(raw.strip()):
            return i
    return None


def _join(lines: list[str]) -> str:
    return "\n".join(lines).strip("\n").rstrip()


def fold(text: str) -> Folded:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    q = quote_start(lines)
    shown, quoted = (lines, []) if q is None else (lines[:q], lines[q:])
    s = signature_start(shown)
    body, signature = (shown, []) if s is None else (shown[:s], shown[s:])
    if not _join(body).strip():
        if _join(shown).strip():
            return Folded(_join(shown), _join(quoted), "")
        return Folded(_join(lines), "", "")
    return Folded(_join(body), _join(quoted), _join(signature))
