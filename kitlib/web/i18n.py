"""Languages of the pages: which one a request gets, and the templates' gettext, dates and sizes.

The catalogues themselves are ``kitlib.i18n``. A request's
language is the ``kitlib_lang`` cookie set by the switcher, else the best match of its
``Accept-Language``, else English (a client that states no language is most often a script).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import jinja2
from babel import Locale
from babel.dates import format_date, format_datetime
from markupsafe import Markup
from starlette.requests import Request

from kitlib.i18n import DEFAULT_LANGUAGE, LANGUAGES, format_size, negotiate, translations

LANG_COOKIE = "kitlib_lang"


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


def _moment(value: date | datetime | str) -> date | datetime:
    """A template's date: an object, or the ISO text the JSON of a service holds."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


@jinja2.pass_context
def _format_date(context: Any, value: date | datetime | str | None, form: str = "long") -> str:
    if value is None:
        return ""
    value = _moment(value)
    if isinstance(value, datetime):
        return format_datetime(value, form if form != "long" else "d MMMM y, HH:mm zzz",
                               locale=_language(context))
    return format_date(value, form, locale=_language(context))


@jinja2.pass_context
def _format_day(context: Any, value: date | datetime | str | None, form: str = "long") -> str:
    if value is None:
        return ""
    value = _moment(value)
    day = value.date() if isinstance(value, datetime) else value
    return format_date(day, form, locale=_language(context))


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
