"""GET /feeds/resources.atom: an Atom feed of new public resources for any search filter."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from kitlib.services import feeds as svc
from kitlib.services import search as search_svc
from kitlib.views.search import service_of


async def resources_feed(request: Request) -> Response:
    # Credentials are ignored on purpose: see kitlib.services.feeds.
    params = await search_svc.parse_params(request.query_params)
    found = await svc.entries(service_of(request), params)
    base = str(request.base_url).rstrip("/")
    body = request.app.state.templates.get_template("feed.atom").render(
        svc.context(base, str(request.url), params, found))
    return Response(body, media_type="application/atom+xml; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300"})
