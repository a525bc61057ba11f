"""GET /files/{file_id}/{filename}: one stored file, after the access check."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from kitlib.auth import can_view, resolve_principal
from kitlib.downloads import DownloadRecorder, file_response
from kitlib.errors import NotFound
from kitlib.models import DownloadEvent, Resource, ResourceFile
from kitlib.views.common import path_int, settings_of, storage_of


async def download(request: Request) -> Response:
    principal = await resolve_principal(request)
    attachment = await ResourceFile.get_or_none(id=path_int(request, "file_id")) \
        .select_related("file", "resource")
    if attachment is None or not can_view(principal, attachment.resource):
        raise NotFound("No such file.")
    if request.path_params["filename"] != attachment.filename:
        # An old or mistyped name still reaches the file, under its one canonical URL.
        return RedirectResponse(f"/files/{attachment.id}/{quote(attachment.filename)}",
                                status_code=301)
    stored = attachment.file
    path = storage_of(request).path_for(stored.storage_key)
    if not path.is_file():
        raise NotFound("This file's content is missing from storage; staff have been told.")
    resource: Resource = attachment.resource
    user = principal.user

    recorder: DownloadRecorder = request.app.state.downloads

    async def record(sent: int, complete: bool) -> None:
        recorder.record(DownloadEvent(user=user, resource=resource, file=stored, bytes=sent,
                                      complete=complete))

    return file_response(request.headers, path, stored, attachment.filename,
                         settings_of(request).download_chunk_size, record)
