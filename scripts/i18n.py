"""Keep the UI catalogues current: extract messages, merge them into the zh-CN, zh-TW and
en catalogues (new messages can be given translations from a JSON file), compile .mo.

    .venv/bin/python scripts/i18n.py [--add translations.json]

translations.json: {"msgid": ["简体", "繁體"], ...}. English uses the msgids.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "src" / "omnidesk" / "locale"
LOCALES = {"zh_CN": 0, "zh_TW": 1, "en": None}


def extract() -> Catalog:
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "messages.pot"
        subprocess.run(
            [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
             "-k", "_", "-k", "gettext", "-k", "ngettext:1,2", "--no-location",
             "-o", str(pot), "."], cwd=ROOT, check=True, capture_output=True)
        return read_po(pot.open("rb"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--add", type=Path, help="JSON of new translations")
    args = parser.parse_args()
    added = json.loads(args.add.read_text("utf-8")) if args.add else {}
    template = extract()
    for locale, column in LOCALES.items():
        po = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
        po.parent.mkdir(parents=True, exist_ok=True)
        catalog = read_po(po.open("rb"), locale=locale) if po.exists() else Catalog(
            locale=locale, project="omnidesk")
        catalog.update(template, no_fuzzy_matching=True)
        for message in catalog:
            if not message.id:
                continue
            if column is None:
                message.string = message.id
            elif message.id in added:
                message.string = added[message.id][column]
            message.flags.discard("fuzzy")
        catalog.obsolete.clear()
        with po.open("wb") as fh:
            write_po(fh, catalog, width=100, omit_header=False)
        with (po.parent / "messages.mo").open("wb") as fh:
            write_mo(fh, catalog)
        missing = [m.id for m in catalog if m.id and not m.string]
        print(f"{locale}: {len(catalog)} messages, {len(missing)} untranslated")


if __name__ == "__main__":
    main()
