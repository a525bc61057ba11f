"""Streaming request bodies: multipart/form-data parts and raw uploads, one pass, no spooling.

python-multipart's push parser is fed from ``request.stream()``; its callbacks only queue
events, and the async side drains them, so a file part's bytes flow straight to storage
without the temporary file that ``request.form()`` would write and copy again.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import Message

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header
from starlette.requests import Request

from kitlib.errors import BadRequest, InvalidField, RequestTimeout, UnsupportedMediaType
from kitlib.services.uploads import clean_filename
from kitlib.services.validation import digits

MAX_PARTS = 64
MAX_FIELD_BYTES = 64 * 1024

_BEGIN, _HEADER_FIELD, _HEADER_VALUE, _HEADER_END, _HEADERS_DONE, _DATA, _END = range(7)


@dataclass(frozen=True)
class PartHeaders:
    name: str
    filename: str | None
    content_type: str


class MultipartReader:
    """Reads a multipart/form-data body part by part from the request stream."""

    def __init__(self, request: Request) -> None:
        content_type, params = parse_options_header(request.headers.get("content-type", ""))
        if content_type != b"multipart/form-data":
            raise UnsupportedMediaType("Send the upload as multipart/form-data.")
        boundary = params.get(b"boundary")
        if not boundary:
            raise BadRequest("The multipart body has no boundary in its Content-Type.")
        self._request = request
        self._stream = idle_limited(request).__aiter__()
        self._events: deque[tuple[int, bytes]] = deque()
        self._finished = False
        self._parts = 0
        self.received = 0
        try:
            self._parser = MultipartParser(boundary, {
                "on_part_begin": lambda: self._events.append((_BEGIN, b"")),
                "on_header_field": lambda d, s, e: self._events.append((_HEADER_FIELD, d[s:e])),
                "on_header_value": lambda d, s, e: self._events.append((_HEADER_VALUE, d[s:e])),
                "on_header_end": lambda: self._events.append((_HEADER_END, b"")),
                "on_headers_finished": lambda: self._events.append((_HEADERS_DONE, b"")),
                "on_part_data": lambda d, s, e: self._events.append((_DATA, d[s:e])),
                "on_part_end": lambda: self._events.append((_END, b"")),
            })
        except Exception as exc:
            raise BadRequest(f"The multipart boundary is not valid: {exc}") from None

    async def _next(self) -> tuple[int, bytes] | None:
        while not self._events:
            if self._finished:
                return None
            try:
                chunk = await self._stream.__anext__()
            except StopAsyncIteration:
                self._finished = True
                if self._parser.state != MultipartState.END:
                    raise BadRequest("The multipart body ended before its closing boundary "
                                     "(truncated upload or a Content-Length that lies).") from None
                continue
            self.received += len(chunk)
            try:
                self._parser.write(chunk)
            except MultipartParseError as exc:
                raise BadRequest(f"The multipart body is malformed: {exc}") from None
        return self._events.popleft()

    async def next_part(self) -> PartHeaders | None:
        """Advance to the next part's headers; None after the last part."""
        headers: dict[str, str] = {}
        field = b""
        value = b""
        while (event := await self._next()) is not None:
            kind, data = event
            if kind == _BEGIN:
                self._parts += 1
                if self._parts > MAX_PARTS:
                    raise BadRequest(f"Too many parts in one upload (at most {MAX_PARTS}).")
            elif kind == _HEADER_FIELD:
                field += data
            elif kind == _HEADER_VALUE:
                value += data
            elif kind == _HEADER_END:
                headers[field.decode("latin-1").lower()] = value.decode("latin-1")
                field, value = b"", b""
            elif kind == _HEADERS_DONE:
                return self._headers(headers)
            elif kind == _DATA:
                continue  # preamble or an unread part's remainder
        return None

    @staticmethod
    def _headers(headers: dict[str, str]) -> PartHeaders:
        disposition, params = parse_options_header(headers.get("content-disposition", ""))
        if disposition != b"form-data" or b"name" not in params:
            raise BadRequest("A multipart part lacks 'Content-Disposition: form-data; name=…'.")
        name = _text(params[b"name"])
        filename = None
        if b"filename" in params:
            filename = clean_filename(_text(params[b"filename"]), name)
        return PartHeaders(name, filename, headers.get("content-type", ""))

    async def data(self) -> AsyncIterator[bytes]:
        """The current part's bytes, as they arrive."""
        while (event := await self._next()) is not None:
            kind, data = event
            if kind == _DATA:
                if data:
                    yield data
            elif kind == _END:
                return
        raise BadRequest("The multipart body ended inside a part.")

    async def read_value(self, name: str) -> str:
        """A small text field, bounded in size and required to be UTF-8."""
        buffer = bytearray()
        async for chunk in self.data():
            buffer += chunk
            if len(buffer) > MAX_FIELD_BYTES:
                raise InvalidField(name, f"longer than {MAX_FIELD_BYTES} bytes")
        try:
            return bytes(buffer).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidField(name, "not valid UTF-8 text") from None


def _text(raw: bytes) -> str:
    # Header parameters arrive as latin-1 code points; browsers put UTF-8 bytes in them.
    try:
        return raw.decode("latin-1").encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


async def idle_limited(request: Request) -> AsyncIterator[bytes]:
    """The body's chunks; a client that sends nothing for ``BODY_IDLE_TIMEOUT`` seconds gets
    a 408, so a trickling (slow-loris) upload cannot hold a connection and a .part forever."""
    limit: float = request.app.state.settings.body_idle_timeout
    stream = request.stream().__aiter__()
    while True:
        try:
            # Not wait_for: on Python 3.11 it wraps each 64 KiB piece's read in a task of
            # its own, a cost paid 16,000 times per GiB.
            async with asyncio.timeout(limit):
                chunk = await stream.__anext__()
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise RequestTimeout(f"The request body stopped arriving for {limit:g} seconds; "
                                 "the upload was abandoned.") from None
        yield chunk


async def raw_body(request: Request) -> AsyncIterator[bytes]:
    """A raw upload's bytes, checked against its Content-Length when one was sent."""
    declared = request.headers.get("content-length")
    expected = int(declared) if declared is not None and digits(declared) else None
    received = 0
    async for chunk in idle_limited(request):
        received += len(chunk)
        if expected is not None and received > expected:
            raise BadRequest("The body is longer than its Content-Length.")
        if chunk:
            yield chunk
    if expected is not None and received != expected:
        raise BadRequest(f"The body ended after {received} of the {expected} bytes its "
                         "Content-Length announced.")


def declared_length(request: Request) -> int | None:
    """The Content-Length header as a number; a malformed one is a 400."""
    value = request.headers.get("content-length")
    if value is None:
        return None
    if not digits(value.strip()):
        raise BadRequest("Content-Length must be a whole number of bytes.")
    return int(value)


def filename_from_disposition(value: str | None) -> str | None:
    """The filename of a raw upload's Content-Disposition, RFC 6266 / RFC 8187 aware."""
    if not value:
        return None
    message = Message()
    message["content-disposition"] = value
    name = message.get_filename()
    return clean_filename(name) if name is not None else None
