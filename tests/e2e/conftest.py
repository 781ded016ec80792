"""A real Chromium (Debian's), driven by Playwright, against a real server."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from tests.conftest import skip_or_fail

CHROMIUM = os.environ.get("OMNIDESK_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Browser tests run on the embedded database (the API tests cover PostgreSQL)."""
    template: Path = request.getfixturevalue("sqlite_template")
    target = tmp_path / "omnidesk.db"
    shutil.copy(template, target)
    return f"sqlite:///{target}"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    async with async_playwright() as p:
        b = await p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        await b.close()
