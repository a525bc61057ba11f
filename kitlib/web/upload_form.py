"""The upload form (multipart/form-data) as the stream of fields and files a service reads.

The API's POST /api/resources and the staff upload page read the same form the same way:
staff only, the size announced checked before anything is read, the CSRF token (for a
session cookie) before the first file, so nothing is written for a forged request.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

from starlette.requests import Request

from kitlib.access.rules import Principal, require_staff
from kitlib.errors import BadRequest, Forbidden, InvalidField, PayloadTooLarge
from kitlib.services import uploads
from kitlib.web.auth import csrf_ok, resolve_principal
from kitlib.web.common import settings_of, storage_of
from kitlib.web.formdata import MultipartReader, declared_length

# Room for the multipart framing and metadata fields around the file itself.
MULTIPART_OVERHEAD = 1024 * 1024

_FORGED = "The form's security token is missing or expired."


async def create_from_form(request: Request) -> tuple[Principal, uploads.Uploaded]:
    """The staff caller and the resource their upload form created."""
    principal = await resolve_principal(request)
    require_staff(principal)
    settings, storage = settings_of(request), storage_of(request)
    declared = declared_length(request)
    if declared is not None and declared > settings.max_upload_size + MULTIPART_OVERHEAD:
        raise PayloadTooLarge(f"The upload is larger than the {settings.max_upload_size:,} "
                              "bytes this library accepts.")
    reader = MultipartReader(request)
    # A browser form on a session cookie proves itself with a header, or a csrf_token
    # field sent before the file.
    csrf_pending = principal.via == "session" and not csrf_ok(request, None)
    async with aclosing(_items(request, reader, declared, csrf_pending)) as form:
        created = await uploads.create_resource_with_files(
            storage, form, principal.user, max_size=settings.max_upload_size)
    return principal, created


async def _items(request: Request, reader: MultipartReader, declared: int | None,
                 csrf_pending: bool) -> AsyncGenerator[uploads.FormField | uploads.FormFile, None]:
    seen: set[str] = set()
    while (part := await reader.next_part()) is not None:
        if part.name == "csrf_token" and part.filename is None:
            if not csrf_ok(request, await reader.read_value(part.name)):
                raise Forbidden(_FORGED)
            csrf_pending = False
            continue
        if csrf_pending:
            raise Forbidden(_FORGED)
        if part.filename is not None:
            if part.name != "file":
                raise InvalidField(part.name, "only the 'file' part may carry a file")
            yield uploads.FormFile(part.filename, reader.data())
        elif part.name in seen:
            raise InvalidField(part.name, "is sent twice")
        else:
            seen.add(part.name)
            yield uploads.FormField(part.name, await reader.read_value(part.name))
    if csrf_pending:
        raise Forbidden(_FORGED)
    if declared is not None and reader.received != declared:
        raise BadRequest("The body does not match its Content-Length.")
