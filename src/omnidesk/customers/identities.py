"""Identity kinds and their canonical forms (phone numbers in E.164, e-mail lower-cased)."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from omnidesk.kit.errors import ValidationFailed
from omnidesk.models.enums import IdentityKind

KINDS = tuple(k.value for k in IdentityKind)

# phonenumbers compiles its metadata's patterns on every parse and relies on the re
# module's cache (512 entries, shared with the whole process): keep them for good instead.
phonenumbers.enable_pattern_cache()


def normalize_phone(value: str, region: str) -> str:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed(f"{value!r} is not a phone number: {exc}", field="phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed(f"{value!r} is not a valid phone number", field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(value: str) -> str:
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationFailed(f"{value!r} is not an e-mail address: {exc}", field="email") from exc
    return result.normalized.lower()


def normalize_identity(kind: str, value: object, region: str = "CN") -> str:
    """The canonical value of an identity, or a 422 explaining why it is not one."""
    if isinstance(value, str) and kind in KINDS:
        return _canonical(kind, value, region)
    return _normalize(kind, value, region)


@lru_cache(maxsize=65536)
def _canonical(kind: str, value: str, region: str) -> str:
    """Cached: the same numbers and addresses come again and again in the event feed."""
    return _normalize(kind, value, region)


def _normalize(kind: str, value: object, region: str) -> str:
    if kind not in KINDS:
        raise ValidationFailed(
            f"unknown identity kind {kind!r}; one of {', '.join(KINDS)}", field=kind
        )
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ValidationFailed(f"identity {kind} must be a string", field=kind)
    text = str(value).strip()
    if not text or len(text) > 300:
        raise ValidationFailed(f"identity {kind} must have 1 to 300 characters", field=kind)
    if kind == IdentityKind.phone:
        return normalize_phone(text, region)
    if kind == IdentityKind.email:
        return normalize_email(text)
    return text
