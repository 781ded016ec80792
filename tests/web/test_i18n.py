"""The UI catalogues are complete and compiled; the locale is chosen sensibly."""

from __future__ import annotations

import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from omnidesk.web.i18n import CATALOGUES, from_accept_language, normalise

ROOT = Path(__file__).resolve().parents[2]


def extracted() -> set[str]:
    out = ROOT / "var" / "test-messages.pot"
    out.parent.mkdir(exist_ok=True)
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F",
                    "babel.cfg", "-k", "_", "-k", "gettext", "-k", "ngettext:1,2",
                    "--no-location", "-o", str(out), "."], cwd=ROOT, check=True,
                   capture_output=True)
    return {m.id for m in read_po(out.open("rb")) if m.id and isinstance(m.id, str)}


@pytest.mark.parametrize("locale", ["zh_CN", "zh_TW", "en"])
def test_every_ui_message_is_translated_and_compiled(locale: str) -> None:
    folder = CATALOGUES / locale / "LC_MESSAGES"
    po = {m.id: m.string for m in read_po((folder / "messages.po").open("rb")) if m.id}
    missing = sorted(extracted() - {k for k, v in po.items() if v})
    assert not missing, f"run scripts/i18n.py and translate: {missing}"
    mo = {m.id: m.string for m in read_mo(BytesIO((folder / "messages.mo").read_bytes()))
          if m.id}
    assert mo == po, "messages.mo is stale: run scripts/i18n.py"


def test_traditional_and_simplified_differ_where_they_should() -> None:
    tw = {m.id: m.string for m in read_po(
        (CATALOGUES / "zh_TW/LC_MESSAGES/messages.po").open("rb"))}
    assert tw["Resolve"] == "解決" and tw["Customer context"] == "客戶資訊"


@pytest.mark.parametrize(("header", "expected"), [
    ("zh-TW,zh;q=0.9", "zh-TW"), ("zh-Hant-HK", "zh-TW"), ("zh-HK", "zh-TW"),
    ("zh-CN,en;q=0.5", "zh-CN"), ("zh", "zh-CN"), ("en-US,en;q=0.9", "en"),
    ("fr-FR, en;q=0.3", "en"), ("de", None), ("", None),
])
def test_accept_language(header: str, expected: str | None) -> None:
    assert from_accept_language(header) == expected


def test_normalise_tags() -> None:
    assert normalise("zh_Hant") == "zh-TW" and normalise("zh-Hans-CN") == "zh-CN"
    assert normalise("klingon") is None
