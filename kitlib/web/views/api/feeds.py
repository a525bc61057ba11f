"""The Atom feed of new resources, and the personal feed tokens that widen it for a member."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kitlib import urls
from kitlib.access.credentials import create_feed_token, revoke_feed_tokens, user_for_token
from kitlib.access.rules import ANONYMOUS, principal_for_user
from kitlib.errors import Unauthorized
from kitlib.services import feeds as svc
from kitlib.services import search as search_svc
from kitlib.services.resources import audit
from kitlib.web.auth import check_csrf, resolve_principal
from kitlib.web.common import public_url, site_of
from kitlib.web.views.api.search import service_of


async def resources_feed(request: Request) -> Response:
    # Sessions and API tokens are ignored on purpose: see kitlib.services.feeds.
    principal = ANONYMOUS
    token = request.query_params.get("token")
    if token is not None:
        user = await user_for_token(token.strip(), scope="feed")
        if user is None:
            raise Unauthorized("This feed token is not valid (unknown, replaced or revoked).")
        principal = principal_for_user(user, "token")
    params = await search_svc.parse_params(request.query_params)
    found = await svc.entries(service_of(request), params, principal)
    body = request.app.state.templates.get_template("feed.atom").render(
        svc.context(site_of(request), public_url(request), params, found))
    # A personal feed must not sit in a shared cache.
    cache = "private, max-age=300" if token is not None else "public, max-age=300"
    return Response(body, media_type="application/atom+xml; charset=utf-8",
                    headers={"Cache-Control": cache})


async def create_token(request: Request) -> Response:
    """A new personal feed token (the previous one stops working), shown once."""
    principal = await resolve_principal(request)
    if principal.user is None:
        raise Unauthorized("Sign in to get a personal feed.")
    check_csrf(request, principal)
    token = await create_feed_token(principal.user)
    await audit(principal.user, "feed_token.create", "user", principal.user.id)
    return JSONResponse({"token": token, "url": urls.feed(token)},
                        status_code=201, headers={"Cache-Control": "no-store"})


async def delete_token(request: Request) -> Response:
    principal = await resolve_principal(request)
    if principal.user is None:
        raise Unauthorized("Sign in to manage your personal feed.")
    check_csrf(request, principal)
    await revoke_feed_tokens(principal.user)
    await audit(principal.user, "feed_token.revoke", "user", principal.user.id)
    return Response(status_code=204)
