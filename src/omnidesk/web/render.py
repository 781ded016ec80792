"""Server-rendered pages: one Jinja2 environment, autoescaped, with gettext."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from omnidesk import __version__
from omnidesk.web import i18n

TEMPLATES = Path(__file__).resolve().parent / "templates"

env = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(["html", "xml", "js"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]


def _when(value: datetime | str | None, tz: str = "Asia/Shanghai", fmt: str = "short") -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return format_datetime(value.astimezone(ZoneInfo(tz)), fmt,
                           locale=i18n.current().replace("-", "_"))


env.filters["when"] = _when
env.globals["version"] = __version__
env.globals["LOCALES"] = i18n.LOCALES
env.globals["LOCALE_LABELS"] = i18n.LABELS


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    locale = getattr(request.state, "locale", None) or i18n.pick(request)
    i18n.activate(locale)
    html = env.get_template(template).render(request=request, locale=locale, **context)
    return HTMLResponse(html, status_code=status_code)
