"""Parsing of user-supplied metadata into clean values, with errors that name the field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from kitlib.errors import InvalidField

E = TypeVar("E", bound=StrEnum)

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# PostgreSQL's integer columns stop at 2**31 - 1: asyncpg refuses to send a larger id (a 500
# found by schemathesis), and no row can have one anyway.
MAX_ID = 2**31 - 1
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def digits(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts '²', which int() refuses (a 500)."""
    return text.isascii() and text.isdigit()


def is_id(text: str) -> bool:
    """A row id as text: digits only, and no larger than the id columns hold."""
    return len(text) <= 12 and digits(text) and int(text) <= MAX_ID


def is_slug(text: str) -> bool:
    return _SLUG.match(text) is not None


def one_line(field: str, value: Any, *, max_length: int, required: bool = True) -> str:
    """A single-line text: no CR, LF or other control characters."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidField(field, "must be text")
    text = value.strip()
    if required and not text:
        raise InvalidField(field, "is required")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise InvalidField(field, "must be a single line without control characters")
    if len(text) > max_length:
        raise InvalidField(field, f"is longer than {max_length} characters")
    return text


def long_text(field: str, value: Any, *, max_length: int = 20_000) -> str:
    """A multi-line text: newlines and tabs allowed, other control characters not."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidField(field, "must be text")
    if _CONTROL.search(value):
        raise InvalidField(field, "contains control characters")
    if len(value) > max_length:
        raise InvalidField(field, f"is longer than {max_length} characters")
    return value.strip().replace("\r\n", "\n")


def choice(field: str, value: Any, enum: type[E]) -> E:
    allowed = ", ".join(member.value for member in enum)
    if not isinstance(value, str):
        raise InvalidField(field, f"must be one of: {allowed}")
    try:
        return enum(value.strip().lower())
    except ValueError:
        raise InvalidField(field, f"{value[:40]!r} is not one of: {allowed}") from None


def tags(field: str, value: Any) -> list[str]:
    """Tags from a comma-separated string or a list; trimmed, lower-cased, de-duplicated."""
    if value is None or value == "":
        return []
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        raise InvalidField(field, "must be a comma-separated text or a list of texts")
    seen: list[str] = []
    for item in items:
        tag = one_line(field, item, max_length=64, required=False).lower()
        if tag and tag not in seen:
            seen.append(tag)
    if len(seen) > 30:
        raise InvalidField(field, "has more than 30 tags")
    return seen


def timestamp(field: str, value: Any, *, required: bool = False) -> datetime | None:
    """An ISO 8601 date or date-time; a date alone means midnight UTC."""
    if value is None or value == "":
        if required:
            raise InvalidField(field, "is required")
        return None
    if not isinstance(value, str):
        raise InvalidField(field, "must be an ISO 8601 date or date-time")
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidField(field, f"{text[:40]!r} is not an ISO 8601 date or date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def day(field: str, value: str | None) -> date | None:
    """A YYYY-MM-DD query parameter (a date-time is cut to its day); None if absent."""
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise InvalidField(field, f"{value[:40]!r} is not a date (YYYY-MM-DD)") from None


def slug(field: str, value: Any) -> str:
    text = one_line(field, value, max_length=100)
    if not _SLUG.match(text):
        raise InvalidField(field, "use lower-case letters, digits and single dashes")
    return text


def url(field: str, value: Any) -> str:
    text = one_line(field, value, max_length=2000, required=False)
    if text and not text.startswith(("https://", "http://")):
        raise InvalidField(field, "must start with https:// or http://")
    return text


def optional_id(field: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise InvalidField(field, "must be a positive integer id or null")
    return value


def page_params(params: Any, *, default_per_page: int = 20, max_per_page: int = 100
                ) -> tuple[int, int]:
    """``page`` and ``per_page`` query parameters, bounded."""
    try:
        page = int(params.get("page", 1))
        per_page = int(params.get("per_page", default_per_page))
    except ValueError:
        raise InvalidField("page", "page and per_page must be whole numbers") from None
    if page < 1 or page > 10_000:
        raise InvalidField("page", "must be between 1 and 10000")
    if per_page < 1 or per_page > max_per_page:
        raise InvalidField("per_page", f"must be between 1 and {max_per_page}")
    return page, per_page


def json_object(body: Any) -> dict[str, Any]:
    if isinstance(body, Mapping):
        return dict(body)
    if not isinstance(body, dict):
        raise InvalidField("body", "must be a JSON object")
    return body


def reject_unknown(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        known = ", ".join(sorted(allowed))
        raise InvalidField(unknown[0], f"is not a known field (known: {known})")
