"""Languages of the pages: which one a request gets, its catalogue, dates and sizes.

English is the source language (the msgids); French comes from the catalogue in
``kitlib/locale``, compiled at install (``make install`` runs ``pybabel compile``). A request's
language is the ``kitlib_lang`` cookie set by the switcher, else the best match of its
``Accept-Language``, else English (a client that states no language is most often a script).
"""

from __future__ import annotations

import gettext as gettext_module
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from markupsafe import Markup
from starlette.requests import Request

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "en"
LANG_COOKIE = "kitlib_lang"
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


def language_of(request: Request) -> str:
    """The request's language: the switcher's cookie, else Accept-Language."""
    cached = getattr(request.state, "language", None)
    if isinstance(cached, str):
        return cached
    chosen = request.cookies.get(LANG_COOKIE, "")
    language = chosen if chosen in LANGUAGES else negotiate(
        request.headers.get("accept-language", ""))
    request.state.language = language
    return language


def N_(message: str) -> str:
    """Marks a message for the catalogue where no request is at hand (an error raised deep
    down); the error page translates it when it is shown."""
    return message


def gettext_for(request: Request | None, message: str) -> str:
    """``message`` in the request's language (Python code: flash messages, titles)."""
    language = language_of(request) if request is not None else DEFAULT_LANGUAGE
    return translations(language).gettext(message)


def _language(context: Any) -> str:
    request = context.get("request")
    return language_of(request) if isinstance(request, Request) else DEFAULT_LANGUAGE


# Jinja's i18n extension looks these names up in the context: each call finds the request
# there, so one shared Environment serves every language without per-request state.
@jinja2.pass_context
def _gettext(context: Any, message: str, **variables: Any) -> str:
    text = translations(_language(context)).gettext(message)
    if context.eval_ctx.autoescape:
        text = Markup(text)  # the catalogue is trusted; the variables are escaped by %
    return text % variables  # newstyle: always, so a literal %% becomes %


@jinja2.pass_context
def _ngettext(context: Any, singular: str, plural: str, n: int, **variables: Any) -> str:
    variables.setdefault("num", n)
    text = translations(_language(context)).ngettext(singular, plural, n)
    if context.eval_ctx.autoescape:
        text = Markup(text)
    return text % variables


@jinja2.pass_context
def _page_language(context: Any) -> str:
    return _language(context)


@jinja2.pass_context
def _format_date(context: Any, value: date | datetime | str | None, form: str = "long") -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return format_datetime(value, form if form != "long" else "d MMMM y, HH:mm zzz",
                               locale=_language(context))
    return format_date(value, form, locale=_language(context))


@jinja2.pass_context
def _format_day(context: Any, value: date | datetime | str | None, form: str = "long") -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    day = value.date() if isinstance(value, datetime) else value
    return format_date(day, form, locale=_language(context))


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


@jinja2.pass_context
def _filesize(context: Any, size: int | None) -> str:
    return "" if size is None else format_size(int(size), _language(context))


@jinja2.pass_context
def _language_name(context: Any, code: str) -> str:
    name = Locale.parse(code).get_display_name(_language(context)) or code
    return name[:1].upper() + name[1:]


def install(environment: jinja2.Environment) -> None:
    """Give the templates {% trans %}, _(), and the locale-aware filters."""
    environment.add_extension("jinja2.ext.i18n")
    # Newstyle: {% trans %} passes its variables to gettext, which escapes them (above).
    environment.newstyle_gettext = True  # type: ignore[attr-defined]
    environment.globals.update(gettext=_gettext, _=_gettext, ngettext=_ngettext,
                               page_language=_page_language, LANGUAGES=LANGUAGES)
    environment.filters.update(date=_format_date, day=_format_day, filesize=_filesize,
                               language_name=_language_name)
