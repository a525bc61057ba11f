"""GET /api/bundles: one ZIP of every file a search filter matches, resumable."""

from __future__ import annotations

from collections.abc import Generator
from datetime import UTC
from email.utils import format_datetime
from functools import partial

from starlette.requests import Request
from starlette.responses import Response

from kitlib.models import DownloadEvent
from kitlib.services import attendees
from kitlib.services import bundle_zip as bz
from kitlib.services import bundles as svc
from kitlib.services import search as search_svc
from kitlib.services.download_events import DownloadRecorder
from kitlib.web import downloads
from kitlib.web.auth import resolve_principal
from kitlib.web.common import settings_of, site_of, storage_of
from kitlib.web.views.api.search import service_of


async def bundle(request: Request) -> Response:
    principal = await resolve_principal(request)
    params = await search_svc.parse_params(request.query_params)
    planned = await svc.plan(service_of(request), storage_of(request), principal, params,
                             site_of(request))
    headers = {
        "ETag": planned.etag,
        "Last-Modified": format_datetime(planned.modified.astimezone(UTC), usegmt=True),
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, max-age=0, must-revalidate",
        "X-Content-Type-Options": "nosniff",
    }
    if "if-none-match" in request.headers and \
            downloads.not_modified(request.headers, planned.etag, planned.modified):
        return Response(status_code=304, headers=headers)
    wanted = downloads.single_range(request.headers, planned.etag, planned.size)
    planned = await svc.with_crcs(planned)
    headers["Content-Disposition"] = downloads.content_disposition(planned.filename, inline=False)
    headers["Content-Type"] = "application/zip"
    # Never below 4 MiB: each piece costs a thread hop and a pass through stream-zip, and
    # 1 MiB pieces left a bundle at 0.86-0.94 of a plain download (bench/bundle.py).
    chunk_size = max(settings_of(request).download_chunk_size, bz.CHUNK)
    if principal.attendee_id is not None and request.method == "GET" and any(
            entry.resource_id in principal.granted_resource_ids for entry in planned.files):
        # A bundle holding the attendee's webinar files counts against their link as a
        # file does: once per window, whatever the range (a resumed transfer is free).
        await attendees.take_download(
            principal.attendee_id,
            attendees.Fetched(attendees.bundle_key(planned.etag), planned.filename),
            settings_of(request).media_grant_seconds)
    user_id = principal.user.id if principal.user else None
    attendee_id = principal.attendee_id
    recorder: DownloadRecorder = request.app.state.downloads
    if wanted is not None:
        start, end = wanted
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{planned.size}"
        headers["Content-Length"] = str(end - start)

        async def record_range() -> None:
            # A range of the archive belongs to no one file: one event, the bytes served.
            recorder.record(DownloadEvent(user_id=user_id, attendee_id=attendee_id,
                                          bytes=end - start, complete=False,
                                          bundle=planned.filename))

        return downloads.GeneratedResponse(partial(_body, planned, start, end, chunk_size),
                                           status_code=206, headers=headers,
                                           length=end - start, on_complete=record_range)
    headers["Content-Length"] = str(planned.size)

    async def record() -> None:
        for entry in planned.files:
            recorder.record(DownloadEvent(user_id=user_id, attendee_id=attendee_id,
                                          resource_id=entry.resource_id, file_id=entry.file_id,
                                          bytes=entry.size, complete=True,
                                          bundle=planned.filename))

    return downloads.GeneratedResponse(partial(_body, planned, 0, planned.size, chunk_size),
                                       status_code=200, headers=headers, length=planned.size,
                                       on_complete=record)


def _body(planned: svc.Bundle, start: int, end: int,
          chunk_size: int) -> Generator[bytes, None, None]:
    return bz.stream(planned.members, planned.zip64, start, end, chunk_size)
