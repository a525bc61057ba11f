"""JSON API for resources: list, read, upload, edit, replace the file, delete."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kitlib.access.rules import require_staff
from kitlib.errors import BadRequest, Forbidden, InvalidField, PayloadTooLarge
from kitlib.services import resources as svc
from kitlib.services.validation import page_params
from kitlib.web.auth import csrf_ok, resolve_principal
from kitlib.web.common import json_body, path_int, settings_of, staff, storage_of
from kitlib.web.formdata import (
    MultipartReader,
    declared_length,
    filename_from_disposition,
    raw_body,
)

# Room for the multipart framing and metadata fields around the file itself.
_MULTIPART_OVERHEAD = 1024 * 1024


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
    principal = await resolve_principal(request)
    require_staff(principal)
    settings, storage = settings_of(request), storage_of(request)
    declared = declared_length(request)
    if declared is not None and declared > settings.max_upload_size + _MULTIPART_OVERHEAD:
        raise PayloadTooLarge(f"The upload is larger than the {settings.max_upload_size:,} "
                              "bytes this library accepts.")
    reader = MultipartReader(request)
    fields: dict[str, str] = {}
    uploads: list[svc.Upload] = []
    # A browser form on a session cookie proves itself with a header, or a csrf_token
    # field sent before the file so nothing is written for a forged request.
    csrf_pending = principal.via == "session" and not csrf_ok(request, None)
    try:
        while (part := await reader.next_part()) is not None:
            if part.name == "csrf_token" and part.filename is None:
                if not csrf_ok(request, await reader.read_value(part.name)):
                    raise Forbidden("The form's security token is missing or expired.")
                csrf_pending = False
                continue
            if csrf_pending:
                raise Forbidden("The form's security token is missing or expired.")
            if part.filename is not None:
                if part.name != "file":
                    raise InvalidField(part.name, "only the 'file' part may carry a file")
                blob = await storage.save_stream(reader.data(), settings.max_upload_size)
                uploads.append(svc.Upload(blob, part.filename))
            elif part.name in fields:
                raise InvalidField(part.name, "is sent twice")
            else:
                fields[part.name] = await reader.read_value(part.name)
        if csrf_pending:
            raise Forbidden("The form's security token is missing or expired.")
        if declared is not None and reader.received != declared:
            raise BadRequest("The body does not match its Content-Length.")
        resource = await svc.create_resource(fields, uploads, principal.user)
    except BaseException:
        await svc.discard_uploads(storage, uploads)
        raise
    await svc.settle_uploads(storage, uploads)
    body = (await svc.to_json([resource], staff=principal.is_staff))[0]
    return JSONResponse(body, status_code=201,
                        headers={"Location": f"/api/resources/{resource.id}"})


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
    uploads: list[svc.Upload] = []
    try:
        blob = await storage.save_stream(raw_body(request), settings.max_upload_size)
        uploads.append(svc.Upload(blob, filename))
        await svc.replace_file(resource, uploads[0], principal.user, storage)
    except BaseException:
        await svc.discard_uploads(storage, uploads)
        raise
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

