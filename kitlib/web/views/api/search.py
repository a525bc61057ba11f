"""GET /api/search and /api/suggest: read the query, ask the search service, answer JSON."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kitlib.services import search as svc
from kitlib.web.auth import resolve_principal


def service_of(request: Request) -> svc.SearchService:
    service: svc.SearchService = request.app.state.search
    return service


async def search(request: Request) -> Response:
    principal = await resolve_principal(request)
    params = await svc.parse_params(request.query_params)
    return JSONResponse(await svc.search(service_of(request), principal, params))


async def suggest(request: Request) -> Response:
    principal = await resolve_principal(request)
    prefix = request.query_params.get("q", "")
    return JSONResponse(await svc.suggest(service_of(request), principal, prefix))
