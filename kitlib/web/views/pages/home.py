"""Server-rendered pages: home, sign-in, sign-out and the language switch."""

from __future__ import annotations

import math

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from kitlib.access.credentials import authenticate, create_session, end_session
from kitlib.i18n import LANGUAGES
from kitlib.services import overview, throttle
from kitlib.services.resources import audit
from kitlib.web.auth import CSRF_COOKIE, SESSION_COOKIE, new_csrf_token, resolve_principal
from kitlib.web.common import settings_of
from kitlib.web.i18n import LANG_COOKIE, gettext_for
from kitlib.web.render import read_form, render, safe_next

# Kept importable from here: other page modules render through it.
__all__ = ["home", "login", "login_page", "logout", "render", "set_language"]


async def home(request: Request) -> Response:
    page = await overview.home(await resolve_principal(request))
    return render(request, "home.html", resources=page.resources, kits=page.kits,
                  upcoming=page.upcoming, past=page.past)


async def login_page(request: Request) -> Response:
    await resolve_principal(request)
    return render(request, "login.html", next=safe_next(request.query_params.get("next")))


async def login(request: Request) -> Response:
    form = await read_form(request)
    # No stored email holds a NUL, and PostgreSQL refuses one in a query (a 500): make it a
    # character that simply matches nobody.
    email = form.get("email", "").replace("\x00", "\ufffd")
    address = request.client.host if request.client else ""
    async with throttle.attempt(email, address) as attempt:
        # Decided before the password is checked, so a throttled guess costs no argon2 and
        # reveals nothing.
        if attempt.wait:
            minutes = math.ceil(attempt.wait / 60)
            response = render(request, "login.html", status_code=429,
                              next=safe_next(form.get("next")), email=email,
                              error=gettext_for(request, "Too many failed sign-ins. Try again "
                                                         "in %(minutes)d minutes.")
                              % {"minutes": minutes})
            response.headers["Retry-After"] = str(attempt.wait)
            return response
        user = await authenticate(email, form.get("password", ""))
        if user is None:
            await attempt.failed()
            return render(request, "login.html", status_code=401,
                          next=safe_next(form.get("next")), email=email,
                          error=gettext_for(request, "Wrong email or password."))
        await attempt.succeeded(email)
    settings = settings_of(request)
    secret = await create_session(user, settings.session_days)
    await audit(user, "session.login", "user", user.id)
    response = RedirectResponse(safe_next(form.get("next")), status_code=303)
    response.set_cookie(SESSION_COOKIE, secret, max_age=settings.session_days * 86400,
                        httponly=True, samesite="lax", secure=settings.secure_cookies, path="/")
    # A fresh CSRF token per sign-in: one planted before sign-in is useless after it.
    response.set_cookie(CSRF_COOKIE, new_csrf_token(), httponly=True, samesite="lax",
                        secure=settings.secure_cookies, path="/")
    return response


async def logout(request: Request) -> Response:
    await read_form(request)
    if (secret := request.cookies.get(SESSION_COOKIE)) is not None:
        await end_session(secret)
    response = RedirectResponse(request.app.url_path_for("home"), status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def set_language(request: Request) -> Response:
    """The switcher: remember the choice for a year, then go back to the same page."""
    form = await read_form(request, max_fields=5)
    response = RedirectResponse(safe_next(form.get("next")), status_code=303)
    if (language := form.get("language", "")) in LANGUAGES:
        response.set_cookie(LANG_COOKIE, language, max_age=365 * 86400, samesite="lax",
                            secure=settings_of(request).secure_cookies, path="/")
    return response
