"""The request side of access: the caller of a request (token, session, attendee link) and CSRF.

The rules themselves live in ``kitlib.access``; this module only reads credentials off a
request and hands them over.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request

from kitlib.access import links
from kitlib.access.credentials import user_for_session, user_for_token
from kitlib.access.rules import ANONYMOUS, Principal, attendee_principal, principal_for_user
from kitlib.errors import Forbidden, Unauthorized

SESSION_COOKIE = "kitlib_session"
CSRF_COOKIE = "kitlib_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_ok(request: Request, submitted: str | None) -> bool:
    """Double-submit check: the form field or header must equal the CSRF cookie."""
    expected = request.cookies.get(CSRF_COOKIE, "")
    given = submitted or request.headers.get(CSRF_HEADER, "")
    return bool(expected) and bool(given) and hmac.compare_digest(expected, given)


async def resolve_principal(request: Request) -> Principal:
    """Bearer token first, then the session cookie, then an attendee's link cookie.

    A bad bearer token is a 401 and a bad attendee link in a header a 403, never anonymous;
    a stale attendee cookie is simply ignored (the link's own page says why it stopped).
    """
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        assert isinstance(cached, Principal)
        return cached
    principal = ANONYMOUS
    secret: str = request.app.state.settings.secret_key
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, secret_text = authorization.partition(" ")
        token = secret_text.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("Send the API token as 'Authorization: Bearer <token>'.")
        if token.startswith(links.ATTENDEE_PREFIX):
            principal = await attendee_principal(await links.attendee_for_token(secret, token))
        else:
            user = await user_for_token(token)
            if user is None:
                raise Unauthorized("This API token is not valid (unknown, revoked or malformed).")
            principal = principal_for_user(user, "token")
    else:
        if (cookie := request.cookies.get(SESSION_COOKIE)) is not None:
            user = await user_for_session(cookie)
            if user is not None:
                principal = principal_for_user(user, "session")
        if (link := request.cookies.get(links.ATTENDEE_COOKIE)) and not principal.is_staff:
            try:
                attendee = await links.attendee_for_token(secret, link)
            except Forbidden:
                pass
            else:
                principal = await attendee_principal(attendee, principal)
    request.state.principal = principal
    return principal


def check_csrf(request: Request, principal: Principal, submitted: str | None = None) -> None:
    """Unsafe requests riding on a cookie must prove they come from our own pages."""
    if request.method in SAFE_METHODS or principal.via != "session":
        return
    if not csrf_ok(request, submitted):
        raise Forbidden("The form's security token is missing or expired: reload the page and "
                        "try again.")
