"""What every HTML page shares: rendering with the caller, CSRF and language, links to named
routes, and form reading."""

from __future__ import annotations

from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from kitlib.errors import Forbidden
from kitlib.web.auth import CSRF_COOKIE, csrf_ok, new_csrf_token
from kitlib.web.common import settings_of
from kitlib.web.i18n import gettext_for, language_of

MAX_FORM_BYTES = 16 * 1024


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """Render a page with the caller and a CSRF token; set the CSRF cookie when missing."""
    token = request.cookies.get(CSRF_COOKIE) or new_csrf_token()
    principal = getattr(request.state, "principal", None)
    page = request.app.state.templates.get_template(template).render(
        request=request, user=principal.user if principal else None,
        is_staff=bool(principal and principal.is_staff), csrf_token=token,
        language=language_of(request), **context)
    response = HTMLResponse(page, status_code=status_code)
    # The same URL answers in French or English, for one person or another.
    response.headers["Vary"] = "Accept-Language, Cookie"
    response.headers["Cache-Control"] = "private, no-cache"
    if CSRF_COOKIE not in request.cookies:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="lax",
                            secure=settings_of(request).secure_cookies, path="/")
    return response


@jinja2.pass_context
def url_path(context: Any, name: str, **params: Any) -> str:
    """The templates' ``url_path(name, ...)``: the path of a named route (web/routes.py).
    Pages link by path, not by absolute URL, so they read the same through any proxy."""
    request: Request = context["request"]
    return str(request.app.url_path_for(name, **params))


async def read_form(request: Request, max_fields: int = 20) -> dict[str, str]:
    """A small url-encoded form whose CSRF token has been checked."""
    async with request.form(max_files=0, max_fields=max_fields,
                            max_part_size=MAX_FORM_BYTES) as form:
        values = {key: value for key, value in form.items() if isinstance(value, str)}
    if not csrf_ok(request, values.get("csrf_token")):
        raise Forbidden(gettext_for(request, "The form's security token is missing or expired: "
                                             "reload the page and try again."))
    return values


def safe_next(target: str | None) -> str:
    """Only local paths: an open redirect after a form is a phishing tool."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


