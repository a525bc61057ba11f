"""JSON API for resources: list, read, upload, edit, replace the file, delete."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kitlib import urls
from kitlib.errors import InvalidField, PayloadTooLarge
from kitlib.services import resources as svc
from kitlib.services import uploads
from kitlib.services.validation import page_params
from kitlib.web.auth import resolve_principal
from kitlib.web.common import json_body, path_int, settings_of, staff, storage_of
from kitlib.web.formdata import declared_length, filename_from_disposition, raw_body
from kitlib.web.upload_form import create_from_form


async def list_resources(request: Request) -> Response:
    principal = await resolve_principal(request)
    page, per_page = page_params(request.query_params)
    total, rows = await svc.list_visible(principal, page=page, per_page=per_page,
                                         filters=request.query_params)
    return JSONResponse({"total": total, "page": page, "per_page": per_page,
                         "items": await svc.to_json(rows, staff=principal.is_staff)})


async def get_resource(request: Request) -> Response:
    principal = await resolve_principal(request)
    resource = await svc.get_visible(principal, path_int(request, "resource_id"))
    return JSONResponse((await svc.to_json([resource], staff=principal.is_staff))[0])


async def create_resource(request: Request) -> Response:
    principal, created = await create_from_form(request)
    body = (await svc.to_json([created.resource], staff=principal.is_staff))[0]
    return JSONResponse(body, status_code=201,
                        headers={"Location": urls.resource(created.resource.id)})


async def put_file(request: Request) -> Response:
    principal = await staff(request)
    settings, storage = settings_of(request), storage_of(request)
    resource = await svc.get_visible(principal, path_int(request, "resource_id"))
    filename = filename_from_disposition(request.headers.get("content-disposition"))
    if filename is None:
        raise InvalidField("Content-Disposition",
                           "name the file, e.g. attachment; filename=\"recording.mp4\"")
    declared = declared_length(request)
    if declared is not None and declared > settings.max_upload_size:
        raise PayloadTooLarge(f"The upload is larger than the {settings.max_upload_size:,} "
                              "bytes this library accepts.")
    await uploads.add_file_version(storage, resource, filename, raw_body(request),
                                   principal.user, max_size=settings.max_upload_size)
    return JSONResponse((await svc.to_json([resource], staff=principal.is_staff))[0])


async def update_resource(request: Request) -> Response:
    principal = await staff(request)
    resource = await svc.get_visible(principal, path_int(request, "resource_id"))
    await svc.update_resource(resource, await json_body(request), principal.user)
    return JSONResponse((await svc.to_json([resource], staff=principal.is_staff))[0])


async def delete_resource(request: Request) -> Response:
    principal = await staff(request)
    resource = await svc.get_visible(principal, path_int(request, "resource_id"))
    await svc.delete_resource(resource, principal.user, storage_of(request))
    return Response(status_code=204)

