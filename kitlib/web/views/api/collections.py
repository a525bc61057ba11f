"""JSON API for kits and webinars."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kitlib import urls
from kitlib.services import bundles
from kitlib.services import kits as svc
from kitlib.services.validation import page_params
from kitlib.web.auth import resolve_principal
from kitlib.web.common import json_body, path_int, site_of, staff, storage_of
from kitlib.web.views.api.search import service_of


def _created(body: dict[str, Any], location: str) -> Response:
    return JSONResponse(body, status_code=201, headers={"Location": location})


async def list_kits(request: Request) -> Response:
    principal = await resolve_principal(request)
    return JSONResponse({"items": [await svc.kit_json(k, principal, with_items=False)
                                   for k in await svc.list_kits()]})


async def get_kit(request: Request) -> Response:
    principal = await resolve_principal(request)
    kit = await svc.get_kit(request.path_params["slug"])
    data = await svc.kit_json(kit, principal)
    data["bundle"] = await bundles.kit_bundle(service_of(request), storage_of(request), principal,
                                              kit, site_of(request))
    return JSONResponse(data)


async def create_kit(request: Request) -> Response:
    principal = await staff(request)
    kit = await svc.create_kit(await json_body(request), principal.user)
    return _created(await svc.kit_json(kit, principal), urls.kit(kit.slug))


async def update_kit(request: Request) -> Response:
    principal = await staff(request)
    kit = await svc.get_kit(request.path_params["slug"])
    await svc.update_kit(kit, await json_body(request), principal.user)
    return JSONResponse(await svc.kit_json(kit, principal))


async def delete_kit(request: Request) -> Response:
    principal = await staff(request)
    await svc.delete_kit(await svc.get_kit(request.path_params["slug"]), principal.user)
    return Response(status_code=204)


async def list_webinars(request: Request) -> Response:
    principal = await resolve_principal(request)
    page, per_page = page_params(request.query_params)
    total, rows = await svc.list_webinars(page, per_page)
    return JSONResponse({"total": total, "page": page, "per_page": per_page,
                         "items": [await svc.webinar_json(w, principal) for w in rows]})


async def get_webinar(request: Request) -> Response:
    principal = await resolve_principal(request)
    webinar = await svc.get_webinar(path_int(request, "webinar_id"))
    return JSONResponse(await svc.webinar_json(webinar, principal))


async def create_webinar(request: Request) -> Response:
    principal = await staff(request)
    webinar = await svc.create_webinar(await json_body(request), principal.user)
    return _created(await svc.webinar_json(webinar, principal), urls.webinar(webinar.id))


async def update_webinar(request: Request) -> Response:
    principal = await staff(request)
    webinar = await svc.get_webinar(path_int(request, "webinar_id"))
    await svc.update_webinar(webinar, await json_body(request), principal.user)
    return JSONResponse(await svc.webinar_json(webinar, principal))


async def delete_webinar(request: Request) -> Response:
    principal = await staff(request)
    await svc.delete_webinar(await svc.get_webinar(path_int(request, "webinar_id")),
                             principal.user)
    return Response(status_code=204)
