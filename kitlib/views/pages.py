"""Server-rendered pages: home, sign-in and sign-out."""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from kitlib.auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    authenticate,
    create_session,
    csrf_ok,
    end_session,
    new_csrf_token,
    resolve_principal,
    visible_q,
)
from kitlib.errors import Forbidden
from kitlib.models import Kit, Resource, Webinar
from kitlib.services import throttle
from kitlib.services.resources import audit, to_json
from kitlib.views.common import settings_of

MAX_FORM_BYTES = 16 * 1024


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """Render a page with the caller and a CSRF token; set the CSRF cookie when missing."""
    token = request.cookies.get(CSRF_COOKIE) or new_csrf_token()
    principal = getattr(request.state, "principal", None)
    page = request.app.state.templates.get_template(template).render(
        request=request, user=principal.user if principal else None, csrf_token=token, **context)
    response = HTMLResponse(page, status_code=status_code)
    if CSRF_COOKIE not in request.cookies:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="lax",
                            secure=settings_of(request).secure_cookies, path="/")
    return response


async def home(request: Request) -> Response:
    principal = await resolve_principal(request)
    latest = await Resource.filter(visible_q(principal)).order_by("-created_at", "-id").limit(12)
    kits = await Kit.all().order_by("title")
    webinars = await Webinar.all().order_by("-starts_at").limit(6)
    return render(request, "home.html", resources=await to_json(latest), kits=kits,
                  webinars=webinars)


async def _form(request: Request) -> dict[str, str]:
    async with request.form(max_files=0, max_fields=10, max_part_size=MAX_FORM_BYTES) as form:
        return {key: value for key, value in form.items() if isinstance(value, str)}


async def login_page(request: Request) -> Response:
    await resolve_principal(request)
    return render(request, "login.html", next=_safe_next(request.query_params.get("next")))


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect after sign-in is a phishing tool.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


async def login(request: Request) -> Response:
    form = await _form(request)
    if not csrf_ok(request, form.get("csrf_token")):
        raise Forbidden("The form's security token is missing or expired: reload the page.")
    email = form.get("email", "")
    address = request.client.host if request.client else ""
    # Checked before the password, so a throttled guess costs no argon2 and reveals nothing.
    if wait := await throttle.wait_seconds(email, address):
        minutes = math.ceil(wait / 60)
        response = render(request, "login.html", status_code=429,
                          next=_safe_next(form.get("next")), email=email,
                          error=f"Too many failed sign-ins. Try again in {minutes} minute"
                                f"{'s' if minutes > 1 else ''}.")
        response.headers["Retry-After"] = str(wait)
        return response
    user = await authenticate(email, form.get("password", ""))
    if user is None:
        await throttle.record_failure(email, address)
        return render(request, "login.html", status_code=401, next=_safe_next(form.get("next")),
                      email=email, error="Wrong email or password.")
    await throttle.clear_account(email)
    settings = settings_of(request)
    secret = await create_session(user, settings.session_days)
    await audit(user, "session.login", "user", user.id)
    response = RedirectResponse(_safe_next(form.get("next")), status_code=303)
    response.set_cookie(SESSION_COOKIE, secret, max_age=settings.session_days * 86400,
                        httponly=True, samesite="lax", secure=settings.secure_cookies, path="/")
    # A fresh CSRF token per sign-in: one planted before sign-in is useless after it.
    response.set_cookie(CSRF_COOKIE, new_csrf_token(), httponly=True, samesite="lax",
                        secure=settings.secure_cookies, path="/")
    return response


async def logout(request: Request) -> Response:
    form = await _form(request)
    if not csrf_ok(request, form.get("csrf_token")):
        raise Forbidden("The form's security token is missing or expired: reload the page.")
    if (secret := request.cookies.get(SESSION_COOKIE)) is not None:
        await end_session(secret)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
