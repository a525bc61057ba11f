"""Uploads: a file's bytes to a blob and its rows to the database, all or nothing.

Every caller that stores new bytes (the API and the staff upload form, ``kitlib import``,
the worker's faststart remux) goes through ``session``: blobs are settled once their rows
commit and discarded on any failure, so no refused or interrupted upload leaves a blob that
no row names (``kitlib check`` would report it as an orphan).
"""

from __future__ import annotations

import contextlib
import unicodedata
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tortoise.transactions import in_transaction

from kitlib.errors import InvalidField
from kitlib.models import Resource, ResourceFile, StoredFile, User
from kitlib.services import resources as svc
from kitlib.storage import Storage, UploadSession, file_chunks, upload_session

MAX_FILENAME_BYTES = 255


@dataclass(frozen=True)
class FormField:
    """A text field of an upload form."""

    name: str
    value: str


@dataclass(frozen=True)
class FormFile:
    """A file of an upload form: its (checked) name and its bytes as they arrive."""

    filename: str
    chunks: AsyncIterator[bytes]


@dataclass(frozen=True)
class Uploaded:
    """The resource an upload created or changed, and the files it stored."""

    resource: Resource
    uploads: tuple[svc.Upload, ...]


def clean_filename(raw: str, field: str = "filename") -> str:
    """Accept a client's filename only if it is a plain, printable, single-segment name."""
    name = unicodedata.normalize("NFC", raw).strip()
    if not name:
        raise InvalidField(field, "the filename is empty")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise InvalidField(field, "the filename contains control characters (NUL, CR, LF…)")
    if "/" in name or "\\" in name or name in {".", ".."}:
        raise InvalidField(field, "the filename must not contain a path ('/', '\\' or '..')")
    if len(name.encode("utf-8")) > MAX_FILENAME_BYTES:
        raise InvalidField(field, f"the filename is longer than {MAX_FILENAME_BYTES} bytes")
    return name


@dataclass(frozen=True)
class Imported:
    """A local file's fate: the resource that shows it, and whether it was one already."""

    resource_id: int | None  # None: a duplicate whose resource went meanwhile
    duplicate: bool


async def _referenced(key: str) -> bool:
    return await StoredFile.filter(storage_key=key).exists()


@contextlib.asynccontextmanager
async def session(storage: Storage) -> AsyncIterator[UploadSession]:
    """``async with session(storage) as up: blob = await up.save(...)``, then commit the
    rows inside the block: see ``kitlib.storage.session``."""
    async with upload_session(storage, _referenced) as up:
        yield up


async def create_resource_with_files(storage: Storage, form: AsyncIterable[FormField | FormFile],
                                     user: User | None, *, max_size: int) -> Uploaded:
    """A new resource from a form's fields and files, read in the order they arrive."""
    fields: dict[str, str] = {}
    uploads: list[svc.Upload] = []
    async with session(storage) as up:
        async for item in form:
            if isinstance(item, FormFile):
                uploads.append(svc.Upload(await up.save(item.chunks, max_size), item.filename))
            else:
                fields[item.name] = item.value
        resource = await svc.create_resource(fields, uploads, user)
    return Uploaded(resource, tuple(uploads))


async def add_file_version(storage: Storage, resource: Resource, filename: str,
                           chunks: AsyncIterator[bytes], user: User | None, *,
                           max_size: int) -> Uploaded:
    """A new file for ``resource``, replacing the one it had; unused old bytes are removed."""
    async with session(storage) as up:
        upload = svc.Upload(await up.save(chunks, max_size), filename)
        unused = await svc.replace_file(resource, upload, user)
    await svc.collect_garbage(storage, unused)
    return Uploaded(resource, (upload,))


async def import_path(storage: Storage, path: Path, filename: str, metadata: dict[str, Any],
                      user: User | None, *, max_size: int) -> Imported:
    """A resource for a local file, unless a resource already shows the same bytes (then
    nothing is stored)."""
    async with session(storage) as up:
        blob = await up.save(file_chunks(path), max_size)
        existing = await StoredFile.get_or_none(sha256=blob.sha256)
        if existing is not None and await ResourceFile.filter(file=existing).exists():
            await up.discard(blob)
            attached = await ResourceFile.filter(file=existing).first()
            return Imported(attached.resource_id if attached is not None  # type: ignore[attr-defined]
                            else None, duplicate=True)
        resource = await svc.create_resource(metadata, [svc.Upload(blob, filename)], user)
    return Imported(resource.id, duplicate=False)


async def swap_stored_file(storage: Storage, row: ResourceFile, stored: StoredFile,
                           replacement: Path) -> StoredFile:
    """``replacement`` (the same media, rewritten) becomes the file ``row`` serves; the old
    bytes go if nothing else shows them."""
    async with session(storage) as up:
        blob = await up.save(file_chunks(replacement), max_size=replacement.stat().st_size)
        async with in_transaction():
            new = await svc.stored_file_for(svc.Upload(blob, stored.original_filename))
            if new.media_type != stored.media_type:
                await StoredFile.filter(id=new.id).update(media_type=stored.media_type)
            await ResourceFile.filter(id=row.id).update(file_id=new.id)
        new.media_type = stored.media_type
    await svc.collect_garbage(storage, [stored.id])
    return new
