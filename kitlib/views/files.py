"""GET /files/{file_id}/{filename}: one stored file, after the access check."""

from __future__ import annotations

from stat import S_ISREG
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from kitlib.auth import may_open, resolve_principal
from kitlib.downloads import DownloadRecorder, file_response, find_attachment
from kitlib.errors import NotFound
from kitlib.models import DownloadEvent
from kitlib.views.common import path_int, settings_of, storage_of


async def download(request: Request) -> Response:
    principal = await resolve_principal(request)
    attachment = await find_attachment(path_int(request, "file_id"))
    if attachment is None or not may_open(principal, attachment.visibility,
                                          attachment.resource_id):
        raise NotFound("No such file.")
    if request.path_params["filename"] != attachment.filename:
        # An old or mistyped name still reaches the file, under its one canonical URL.
        return RedirectResponse(f"/files/{attachment.id}/{quote(attachment.filename)}",
                                status_code=301)
    path = storage_of(request).path_for(attachment.storage_key)
    try:
        # One stat on the loop (an inode in cache: microseconds), handed to the response so
        # Starlette does not make its own in a worker thread.
        stat = path.stat()
    except OSError:
        stat = None
    if stat is None or not S_ISREG(stat.st_mode):
        raise NotFound("This file's content is missing from storage; staff have been told.")
    user_id = principal.user.id if principal.user else None
    resource_id, file_id = attachment.resource_id, attachment.file_id

    recorder: DownloadRecorder = request.app.state.downloads

    async def record(sent: int, complete: bool) -> None:
        recorder.record(DownloadEvent(user_id=user_id, resource_id=resource_id, file_id=file_id,
                                      bytes=sent, complete=complete))

    return file_response(request.headers, path, attachment, attachment.filename,
                         settings_of(request).download_chunk_size, record, stat=stat)
