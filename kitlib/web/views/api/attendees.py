"""Webinar attendees: list import, links and usage for staff; the attendee's own landing page."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kitlib import urls
from kitlib.access import links
from kitlib.access.rules import attendee_principal
from kitlib.errors import InvalidField, PayloadTooLarge, UnsupportedMediaType
from kitlib.services import attendees as svc
from kitlib.services import kits
from kitlib.web.auth import resolve_principal
from kitlib.web.common import json_body, path_int, report_format, settings_of, site_of, staff
from kitlib.web.formdata import declared_length, raw_body
from kitlib.web.render import render

_CSV_TYPES = {"text/csv", "application/csv", "text/plain", "application/octet-stream",
              "application/vnd.ms-excel", "text/comma-separated-values"}


async def _import_body(request: Request) -> tuple[bytes, dict[str, Any]]:
    """The CSV bytes and options, from a raw CSV body or a form with a ``file`` part."""
    length = declared_length(request)
    if length is not None and length > svc.MAX_IMPORT_BYTES + 64 * 1024:
        raise PayloadTooLarge(f"Registration lists are limited to "
                              f"{svc.MAX_IMPORT_BYTES // (1024 * 1024)} MiB.")
    options: dict[str, Any] = dict(request.query_params)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        async with request.form(max_files=1, max_fields=10,
                                max_part_size=svc.MAX_IMPORT_BYTES) as form:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise InvalidField("file", "attach the registration list as the 'file' part")
            data = await upload.read(svc.MAX_IMPORT_BYTES + 1)
            options.update({k: v for k, v in form.items() if isinstance(v, str)})
    elif kind in _CSV_TYPES:
        chunks = bytearray()
        async for chunk in raw_body(request):
            chunks += chunk
            if len(chunks) > svc.MAX_IMPORT_BYTES:
                break
        data = bytes(chunks)
    else:
        raise UnsupportedMediaType("Send the registration list as text/csv, or as the 'file' "
                                   "part of a multipart/form-data form.")
    if len(data) > svc.MAX_IMPORT_BYTES:
        raise PayloadTooLarge(f"Registration lists are limited to "
                              f"{svc.MAX_IMPORT_BYTES // (1024 * 1024)} MiB.")
    return data, options


async def import_attendees(request: Request) -> Response:
    principal = await staff(request)
    webinar = await kits.get_webinar(path_int(request, "webinar_id"))
    data, options = await _import_body(request)
    settings = settings_of(request)
    report = await svc.import_list(webinar, data, options, settings.attendee_link_days,
                                   principal.user)
    rows = await svc.of_webinar(webinar)
    site = site_of(request)
    return JSONResponse({
        "created": report.created, "updated": report.updated, "rejected": report.rejected,
        "attendees": [svc.attendee_json(a, settings.secret_key, site) for a in rows]})


async def list_attendees(request: Request) -> Response:
    await staff(request)
    webinar = await kits.get_webinar(path_int(request, "webinar_id"))
    rows = await svc.of_webinar(webinar)
    secret, site = settings_of(request).secret_key, site_of(request)
    return JSONResponse({"items": [svc.attendee_json(a, secret, site) for a in rows]})


async def update_attendee(request: Request) -> Response:
    principal = await staff(request)
    webinar = await kits.get_webinar(path_int(request, "webinar_id"))
    attendee = await svc.get_attendee(webinar, path_int(request, "attendee_id"))
    await svc.update(attendee, await json_body(request), principal.user)
    return JSONResponse(svc.attendee_json(attendee, settings_of(request).secret_key,
                                          site_of(request)))


async def usage(request: Request) -> Response:
    await staff(request)
    webinar = await kits.get_webinar(path_int(request, "webinar_id"))
    form = report_format(request)
    rows = await svc.usage(webinar)
    if form == "json":
        return JSONResponse({"webinar": webinar.id, "attendees": rows})
    return Response(svc.usage_csv(rows), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="kitlib-webinar-{webinar.id}-usage.csv"',
        "Cache-Control": "private, no-store"})


async def landing(request: Request) -> Response:
    """The page a personal link opens: the webinar's parts, playable and downloadable. It
    keeps the link in a cookie, so search and the pages after it know the attendee."""
    settings = settings_of(request)
    token = request.path_params["token"]
    attendee = await links.attendee_for_token(settings.secret_key, token)
    principal = await attendee_principal(attendee, await resolve_principal(request))
    request.state.principal = principal
    webinar, found = await svc.landing(attendee)
    parts = [{"part": part.part, "title": part.title, "files": [
        {"url": links.granted_url(settings.secret_key, attendee, row.id,
                                  urls.file(row.id, row.filename)),
         "filename": row.filename, "size": row.file.size, "media_type": row.file.media_type}
        for row in part.files]} for part in found]
    response = render(request, "attend.html", webinar=webinar, attendee=attendee, parts=parts)
    remaining = int(attendee.expires_at.timestamp() - time.time())
    response.set_cookie(links.ATTENDEE_COOKIE, token, max_age=max(remaining, 60), httponly=True,
                        samesite="lax", secure=settings.secure_cookies, path="/")
    response.headers["Referrer-Policy"] = "no-referrer"  # the link is a credential
    response.headers["Cache-Control"] = "private, no-store"
    return response
