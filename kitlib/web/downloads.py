"""Serving stored files: ranges, validators, 304s, safe headers, and a record of each download.

Starlette's FileResponse already does single and multiple ranges and ``If-Range``; kitlib
adds what it lacks: 304 answers, a strong ETag that is the content's sha256, a
Content-Disposition with an ASCII fallback beside the UTF-8 name (RFC 6266, RFC 8187), and
4 MiB reads (the default 64 KiB chunks cost most of the throughput; settings.py).
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from collections.abc import Awaitable, Callable, Generator
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from stat import S_ISREG
from urllib.parse import quote

import anyio
from anyio import to_thread
from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.types import Message, Receive, Scope, Send

from kitlib import formats
from kitlib.errors import RangeNotSatisfiable
from kitlib.models import StoredFile
from kitlib.services.files import Attachment

log = logging.getLogger("kitlib")

OnComplete = Callable[[int, bool], Awaitable[None]]


def content_disposition(filename: str, inline: bool) -> str:
    """Both forms of the name: ``filename=`` for old clients, ``filename*`` for the real one."""
    disposition = "inline" if inline else "attachment"
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = "".join(c if c.isprintable() and c not in '"\\' else "_" for c in ascii_name)
    ascii_name = ascii_name.strip() or "download"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def is_inline(media_type: str) -> bool:
    return formats.inline(media_type)


def not_modified(request_headers: Headers, etag: str, last_modified: datetime) -> bool:
    """RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since when both are sent."""
    if_none_match = request_headers.get("if-none-match")
    if if_none_match is not None:
        candidates = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in candidates or etag in candidates
    if_modified_since = request_headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return last_modified.replace(microsecond=0) <= since
    return False


class TrackedFileResponse(FileResponse):
    """A FileResponse that reports how many bytes went out once the last one has."""

    def __init__(self, *args: object, chunk_size: int, on_complete: OnComplete | None,
                 **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.chunk_size = chunk_size
        self.on_complete = on_complete

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sent = 0
        finished = False
        status = 200

        async def counting_send(message: Message) -> None:
            nonlocal sent, finished, status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
                finished = not message.get("more_body", False)
            await send(message)

        await super().__call__(scope, receive, counting_send)
        if finished and self.on_complete is not None and scope["method"] != "HEAD" \
                and status in (200, 206):
            try:
                await self.on_complete(sent, status == 200)
            except Exception:  # the bytes are delivered; a lost statistic must not fail them
                log.exception("could not record a download")


def _headers(stored: StoredFile | Attachment, filename: str | None) -> dict[str, str]:
    """The validators; with a filename (a body follows), the content's headers too."""
    headers = {
        "ETag": f'"{stored.sha256}"',
        "Last-Modified": format_datetime(stored.created_at.astimezone(UTC), usegmt=True),
        "Cache-Control": "private, max-age=0, must-revalidate",
        "X-Content-Type-Options": "nosniff",
    }
    if filename is None:
        return headers
    inline = is_inline(stored.media_type)
    headers["Content-Disposition"] = content_disposition(filename, inline)
    # Whatever a user uploaded must never run as a page of this origin: a sandbox gives it an
    # opaque origin of its own. Inline types (PDF, media, images) may still be framed by our
    # own pages for their preview; Chromium's PDF viewer works under this sandbox.
    headers["Content-Security-Policy"] = "sandbox; default-src 'none'" + (
        "; frame-ancestors 'self'" if inline else "")
    if inline:
        headers["X-Frame-Options"] = "SAMEORIGIN"
    return headers


def _media_type(stored: StoredFile | Attachment) -> str:
    return stored.media_type if stored.media_type != "application/x-empty" \
        else "application/octet-stream"


def not_modified_response(request_headers: Headers,
                          stored: StoredFile | Attachment) -> Response | None:
    """A 304 when the client's copy is current, else None."""
    if not_modified(request_headers, f'"{stored.sha256}"', stored.created_at):
        return Response(status_code=304, headers=_headers(stored, None))
    return None


def file_response(request_headers: Headers, path: Path, stored: StoredFile | Attachment,
                  filename: str, chunk_size: int, on_complete: OnComplete | None,
                  stat: os.stat_result | None = None) -> Response:
    """The response for one stored file, or a 304 when the client's copy is current."""
    if (unchanged := not_modified_response(request_headers, stored)) is not None:
        return unchanged
    headers = _headers(stored, filename)
    return TrackedFileResponse(path, headers=headers, media_type=_media_type(stored),
                               stat_result=stat, chunk_size=chunk_size, on_complete=on_complete)


def accel_response(stored: Attachment, filename: str, location: str) -> Response:
    """An empty answer naming the blob nginx should send (``X-Accel-Redirect``).

    nginx then reads the file with sendfile and does Range and If-Range itself, against the
    validators and content headers kitlib sends here, which deploy/nginx-kitlib.conf copies
    onto its answer. The caller has checked access, answered any 304 and checked the blob.
    """
    headers = _headers(stored, filename)
    headers["X-Accel-Redirect"] = location + stored.storage_key
    return Response(status_code=200, headers=headers, media_type=_media_type(stored))


class MissingContent(Exception):
    """The blob behind a file row is not in storage (or is not the size recorded)."""


def _check(info: os.stat_result, path: Path, size: int) -> os.stat_result:
    if not S_ISREG(info.st_mode) or info.st_size != size:
        raise MissingContent(path)
    return info


def check_blob(path: Path, size: int) -> os.stat_result:
    """The blob's stat; MissingContent unless it is a regular file of ``size`` bytes."""
    try:
        info = path.stat()
    except OSError:
        raise MissingContent(path) from None
    return _check(info, path, size)


def _read_checked(path: Path, start: int, length: int, size: int) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        raise MissingContent(path) from None
    try:
        _check(os.fstat(fd), path, size)
        return os.pread(fd, length, start)
    finally:
        os.close(fd)


async def small_range_response(path: Path, stored: StoredFile | Attachment, filename: str,
                               start: int, end: int) -> Response:
    """A 206 of one range that fits in one read: a player's seek, the common request.

    One thread hop opens, checks and reads the blob; no stat on the event loop and none of
    FileResponse's machinery, which together were a third of the loop's time under 32
    clients reading ranges (bench/download.py). Raises MissingContent when the blob is gone.
    """
    body = await to_thread.run_sync(_read_checked, path, start, end - start, stored.size)
    headers = _headers(stored, filename)
    headers["Content-Range"] = f"bytes {start}-{end - 1}/{stored.size}"
    headers["Accept-Ranges"] = "bytes"
    return Response(body, status_code=206, headers=headers, media_type=_media_type(stored))


_RANGE = re.compile(r"([0-9]*)-([0-9]*)")


def single_range(request_headers: Headers, etag: str, size: int) -> tuple[int, int] | None:
    """The one byte range asked for, as (start, end exclusive); None for the whole body.

    RFC 9110 §14.2 lets a server ignore a Range it does not support: several ranges, a
    malformed header, or an ``If-Range`` that is not this strong ETag get the whole body.
    """
    header = request_headers.get("range", "")
    if_range = request_headers.get("if-range")
    if not header.startswith("bytes=") or "," in header or \
            (if_range is not None and if_range.strip() != etag):
        return None
    match = _RANGE.fullmatch(header[6:].strip())
    if match is None or not any(match.groups()):
        return None
    first, last = match.groups()
    if not first:
        length = int(last)
        if length == 0 or size == 0:
            raise _unsatisfiable(size)
        return max(size - length, 0), size
    start = int(first)
    end = int(last) + 1 if last else max(size, start + 1)
    if end <= start:  # "bytes=9-3" is malformed: ignored
        return None
    if start >= size:
        raise _unsatisfiable(size)
    return start, min(end, size)


def _unsatisfiable(size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(f"This range is outside the {size:,} bytes of the archive.",
                               headers={"Content-Range": f"bytes */{size}"})


class GeneratedResponse(Response):
    """A body made by a blocking generator, pulled chunk by chunk in worker threads.

    Unlike StreamingResponse it closes the generator (and so its open files) as soon as the
    client goes away, and it reports a body delivered to its last byte.
    """

    def __init__(self, body: Callable[[], Generator[bytes, None, None]], *, status_code: int,
                 headers: dict[str, str], length: int,
                 on_complete: Callable[[], Awaitable[None]] | None = None) -> None:
        super().__init__(status_code=status_code, headers=headers)
        self.make_body = body
        self.length = length
        self.on_complete = on_complete

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.raw_headers})
        if scope["method"] == "HEAD":
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        sent = 0
        chunks = self.make_body()
        # One chunk made ahead: a worker thread reads and checks the next one while the
        # event loop sends this one (bench/bundle.py: two ahead were no faster), so memory
        # stays at three chunks per response.
        ready, queue = anyio.create_memory_object_stream[bytes](max_buffer_size=1)
        try:
            async with anyio.create_task_group() as group:
                async def make() -> None:
                    async with ready:
                        while (chunk := await to_thread.run_sync(next, chunks, None)) is not None:
                            await ready.send(chunk)

                async def watch() -> None:
                    # uvicorn drops writes to a closed connection silently: only this
                    # message tells that nobody reads what a 5 GiB bundle would still make.
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    group.cancel_scope.cancel()

                group.start_soon(make)
                group.start_soon(watch)
                async with queue:
                    async for chunk in queue:
                        await send({"type": "http.response.body", "body": chunk,
                                    "more_body": True})
                        sent += len(chunk)
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                group.cancel_scope.cancel()
        finally:
            # After the task group: no thread is inside the generator any more.
            chunks.close()
        if sent == self.length and self.on_complete is not None:
            try:
                await self.on_complete()
            except Exception:  # the bytes are delivered; a lost statistic must not fail them
                log.exception("could not record a download")

