"""GET /files/{file_id}/{filename}: one stored file, after the access check."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from kitlib import urls
from kitlib.access import links
from kitlib.access.rules import Principal, attendee_principal, may_open
from kitlib.errors import NotFound, RangeNotSatisfiable
from kitlib.models import DownloadEvent
from kitlib.services import attendees
from kitlib.services.download_events import DownloadRecorder
from kitlib.services.files import Attachment, find_attachment
from kitlib.web.auth import resolve_principal
from kitlib.web.common import path_int, settings_of, storage_of
from kitlib.web.downloads import (
    MissingContent,
    accel_response,
    check_blob,
    file_response,
    not_modified,
    not_modified_response,
    single_range,
    small_range_response,
)


async def download(request: Request) -> Response:
    principal = await resolve_principal(request)
    settings = settings_of(request)
    attachment = await find_attachment(path_int(request, "file_id"),
                                       immediate=bool(settings.accel_redirect))
    if attachment is None:
        raise NotFound("No such file.")
    principal = await _with_grant(request, principal, attachment)
    if not may_open(principal, attachment.visibility, attachment.resource_id):
        raise NotFound("No such file.")
    if request.path_params["filename"] != attachment.filename:
        # An old or mistyped name still reaches the file, under its one canonical URL.
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(urls.file(attachment.id, attachment.filename) + query,
                                status_code=301)
    path = storage_of(request).path_for(attachment.storage_key)
    asked = _asked(request, attachment)
    fast: Response | None = None
    stat = None
    try:
        if settings.accel_redirect:
            if (unchanged := not_modified_response(request.headers, attachment)) is not None:
                return unchanged
            # On the loop: in this mode no thread reads blobs, so nothing holds the GIL
            # against a stat of an inode in cache.
            check_blob(path, attachment.size)
            fast = accel_response(attachment, attachment.filename, settings.accel_redirect)
        elif asked.range is not None and \
                asked.range[1] - asked.range[0] <= settings.download_chunk_size:
            fast = await small_range_response(path, attachment, attachment.filename,
                                              *asked.range)
        else:
            # One stat on the loop (an inode in cache: microseconds), handed to the response
            # so Starlette does not make its own in a worker thread.
            stat = check_blob(path, attachment.size)
    except (OSError, MissingContent):
        raise NotFound("This file's content is missing from storage; staff have been told.") \
            from None
    through_link = principal.attendee_id is not None and \
        attachment.visibility not in principal.visibilities
    if through_link and asked.fetches:
        assert principal.attendee_id is not None
        await attendees.take_download(
            principal.attendee_id,
            attendees.Fetched(attendees.file_key(attachment.file_id), attachment.filename,
                              attachment.resource_id),
            settings.media_grant_seconds)
    user_id = principal.user.id if principal.user else None
    attendee_id = principal.attendee_id
    resource_id, file_id = attachment.resource_id, attachment.file_id

    recorder: DownloadRecorder = request.app.state.downloads

    async def record(sent: int, complete: bool) -> None:
        recorder.record(DownloadEvent(user_id=user_id, resource_id=resource_id, file_id=file_id,
                                      attendee_id=attendee_id, bytes=sent, complete=complete))

    if fast is not None and settings.accel_redirect:
        # nginx sends the bytes and tells kitlib nothing more: what was asked is recorded, once
        # the answer went to nginx. Several ranges in one request (rare) are not counted.
        if asked.fetches and not asked.several:
            start, end = asked.range or (0, attachment.size)
            fast.background = BackgroundTask(record, end - start, asked.whole)
        return fast
    if fast is not None:
        # Recorded once the body went out, as the streamed responses do.
        fast.background = BackgroundTask(record, len(fast.body), asked.whole)
        return fast
    return file_response(request.headers, path, attachment, attachment.filename,
                         settings.download_chunk_size, record, stat=stat)


@dataclass(frozen=True)
class _Asked:
    """What a request asks of a file, read once from its method and headers."""

    range: tuple[int, int] | None  # the one satisfiable range of a GET that gets a body
    # A GET answered with bytes (200 or 206, one range or several): what an attendee's
    # download limit looks at. A HEAD, a 304 revalidation or a 416 fetches nothing.
    fetches: bool
    several: bool = False  # several ranges: a 206 of parts, recorded by nobody
    whole: bool = False  # from the first byte to the last: a complete download


def _asked(request: Request, attachment: Attachment) -> _Asked:
    etag = f'"{attachment.sha256}"'
    if request.method != "GET" or not_modified(request.headers, etag, attachment.created_at):
        return _Asked(None, False)
    try:
        wanted = single_range(request.headers, etag, attachment.size)
    except RangeNotSatisfiable:
        return _Asked(None, False)
    # Several ranges read as "no range" here, yet answer a 206 of parts, never the file.
    several = "," in request.headers.get("range", "")
    return _Asked(wanted, True, several,
                  not several and wanted in (None, (0, attachment.size)))


async def _with_grant(request: Request, principal: Principal,
                      attachment: Attachment) -> Principal:
    """The caller, plus what a signed media URL (``?grant=``) opens, when they need it."""
    grant = request.query_params.get(links.GRANT_PARAM)
    if grant is None or may_open(principal, attachment.visibility, attachment.resource_id):
        return principal
    settings = settings_of(request)
    attendee = await links.attendee_for_grant(settings.secret_key, grant, attachment.id,
                                              settings.media_grant_seconds)
    return await attendee_principal(attendee, principal)
