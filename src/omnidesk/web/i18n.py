"""UI localisation: zh-CN, zh-TW and en gettext catalogues (Babel), chosen from the
user's setting, a cookie, or Accept-Language."""

from __future__ import annotations

from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError, negotiate_locale
from babel.support import NullTranslations, Translations
from starlette.requests import Request

LOCALES = ("zh-CN", "zh-TW", "en")
DEFAULT = "zh-CN"
COOKIE = "omnidesk_locale"
CATALOGUES = Path(__file__).resolve().parent.parent / "locale"
LABELS = {"zh-CN": "简体中文", "zh-TW": "繁體中文", "en": "English"}
_ALIASES = {
    "zh_Hant": "zh-TW", "zh_TW": "zh-TW", "zh_HK": "zh-TW", "zh_MO": "zh-TW",
    "zh_Hans": "zh-CN", "zh_CN": "zh-CN", "zh_SG": "zh-CN", "zh": "zh-CN", "en": "en",
}
_current: ContextVar[str] = ContextVar("omnidesk_locale", default=DEFAULT)


@cache
def translations(locale: str) -> NullTranslations:
    folder = locale.replace("-", "_")
    return Translations.load(str(CATALOGUES), [folder], domain="messages")


def normalise(tag: str | None) -> str | None:
    """Map a language tag (zh-Hant-TW, zh_HK, en-US, zh) to one of ours."""
    if not tag:
        return None
    if tag in LOCALES:
        return tag
    try:
        loc = Locale.parse(tag.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    if loc.language == "zh":
        key = f"zh_{loc.script}" if loc.script else f"zh_{loc.territory or ''}".rstrip("_")
        return _ALIASES.get(key, "zh-CN")
    return _ALIASES.get(loc.language)


def from_accept_language(header: str | None) -> str | None:
    if not header:
        return None
    ranked = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, i, tag.strip()))
    for _, _, tag in sorted(ranked):
        found = normalise(tag)
        if found:
            return found
    return negotiate_locale([], LOCALES)


def pick(request: Request, user_locale: str | None = None) -> str:
    """Cookie (explicit switch) → the user's setting → Accept-Language → default."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(COOKIE),
                      user_locale, from_accept_language(request.headers.get("accept-language"))):
        found = normalise(candidate)
        if found:
            return found
    return DEFAULT


def activate(locale: str) -> None:
    _current.set(locale)


def current() -> str:
    return _current.get()


def gettext(message: str) -> str:
    return translations(_current.get()).ugettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ungettext(singular, plural, n)
