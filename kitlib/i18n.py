"""Languages: the catalogues, negotiation of Accept-Language, and sizes in each language.

English is the source language (the msgids); French comes from the catalogue in
``kitlib/locale``, compiled at install (``make install`` runs ``pybabel compile``). The request
side (a request's language, the templates' gettext) is ``kitlib.web.i18n``.
"""

from __future__ import annotations

import gettext as gettext_module
from functools import cache
from pathlib import Path

from babel.numbers import format_decimal

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
_UNITS = ("B", "KB", "MB", "GB", "TB")


class CatalogueMissing(RuntimeError):
    """A compiled catalogue is missing: the install step was skipped."""


@cache
def translations(language: str) -> gettext_module.NullTranslations:
    """The compiled catalogue for ``language``; English needs none."""
    if language == "en":
        return gettext_module.NullTranslations()
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.mo"
    if not path.is_file():
        raise CatalogueMissing(f"{path} is missing: compile the catalogues with `make install` "
                               "(pybabel compile -d kitlib/locale)")
    with path.open("rb") as handle:
        return gettext_module.GNUTranslations(handle)


def check_catalogues() -> None:
    """Fail at start-up, not at the first French page, when a catalogue was not compiled."""
    for language in LANGUAGES:
        translations(language)


def negotiate(accept_language: str) -> str:
    """The best of LANGUAGES for an Accept-Language header (RFC 9110 §12.5.4)."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept_language.split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


def N_(message: str) -> str:
    """Marks a message for the catalogue where no request is at hand (an error raised deep
    down); the error page translates it when it is shown."""
    return message


def format_size(size: int, language: str) -> str:
    """1536 -> "1.5 KB" in English, "1,5 Ko" in French (octets, as French readers expect)."""
    value, unit = float(size), 0
    while value >= 1000 and unit < len(_UNITS) - 1:
        value /= 1024
        unit += 1
    number = format_decimal(value, "#,##0" if unit == 0 or value >= 100 else "#,##0.#",
                            locale=language)
    label = _UNITS[unit]
    if language == "fr":
        label = label.replace("B", "o")
    return f"{number}\u00a0{label}"
