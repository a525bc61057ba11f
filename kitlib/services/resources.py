"""Resources and their files: every change that touches a row and a blob together.

Views and the CLI both call these functions, so an upload through the API and an
``kitlib import`` store, dedupe and audit the same way; ``services.uploads`` saves the bytes
and calls ``create_resource`` or ``replace_file`` for the rows.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from kitlib import formats, urls
from kitlib.access.rules import Principal, can_view, visible_q
from kitlib.errors import InvalidField, NotFound, UnsupportedMediaType
from kitlib.jobs.queue import enqueue
from kitlib.models import (
    AuditEvent,
    ExtractionStatus,
    JobKind,
    Kind,
    Language,
    Resource,
    ResourceFile,
    StoredFile,
    User,
    Visibility,
)
from kitlib.services import validation as v
from kitlib.storage import Blob, Storage

log = logging.getLogger("kitlib")

METADATA_FIELDS = {"title", "summary", "language", "tags", "kind", "visibility", "url",
                   "published_at"}



@dataclass(frozen=True)
class Upload:
    blob: Blob
    filename: str


def media_type_for(blob: Blob, filename: str) -> str:
    """The stored type: libmagic's verdict, refined only between inert text types."""
    return formats.stored_as(blob.media_type, filename)


def check_accepted(media_type: str, filename: str) -> None:
    if media_type == "application/x-empty":
        raise InvalidField("file", f"{filename} is empty (0 bytes): there is nothing to store")
    if formats.accepted(media_type):
        return
    raise UnsupportedMediaType(
        f"{filename}: files of type {media_type} are not accepted (documents, slides, "
        "spreadsheets, text, audio, video and images are)")


def parse_metadata(values: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validated resource metadata; with ``partial`` only the fields present are returned."""
    v.reject_unknown(v.json_object(values), METADATA_FIELDS)
    parsers: dict[str, Any] = {
        "title": lambda x: v.one_line("title", x, max_length=300),
        "summary": lambda x: v.long_text("summary", x),
        "language": lambda x: v.choice("language", x, Language),
        "tags": lambda x: v.tags("tags", x),
        "kind": lambda x: v.choice("kind", x, Kind),
        "visibility": lambda x: v.choice("visibility", x, Visibility),
        "url": lambda x: v.url("url", x),
        "published_at": lambda x: v.timestamp("published_at", x),
    }
    if not partial and "title" not in values:
        raise InvalidField("title", "is required")
    return {name: parse(values[name]) for name, parse in parsers.items() if name in values}


def file_json(attachment: ResourceFile) -> dict[str, Any]:
    stored = attachment.file
    return {"id": attachment.id, "sha256": stored.sha256, "size": stored.size,
            "media_type": stored.media_type, "filename": attachment.filename,
            "url": urls.file(attachment.id, attachment.filename), "duration": stored.duration}


def resource_json(resource: Resource, attachments: Sequence[ResourceFile], *,
                  staff: bool = False) -> dict[str, Any]:
    data = {
        "id": resource.id, "title": resource.title, "summary": resource.summary,
        "language": resource.language.value, "tags": resource.tags, "kind": resource.kind.value,
        "visibility": resource.visibility.value, "url": resource.url,
        "published_at": resource.published_at.isoformat() if resource.published_at else None,
        "created_at": resource.created_at.isoformat(),
        "updated_at": resource.updated_at.isoformat(),
        "files": [file_json(a) for a in attachments],
    }
    if staff:
        # Why a file is not searchable is staff business (it may name internal files).
        data["extraction_status"] = resource.extraction_status.value
        data["extraction_error"] = resource.extraction_error
    return data


async def attachments_of(resource_ids: Sequence[int]) -> dict[int, list[ResourceFile]]:
    found: dict[int, list[ResourceFile]] = {rid: [] for rid in resource_ids}
    if resource_ids:
        rows = await ResourceFile.filter(resource_id__in=list(resource_ids)) \
            .select_related("file").order_by("position", "id")
        for row in rows:
            found[row.resource_id].append(row)  # type: ignore[attr-defined]
    return found


async def to_json(resources: Sequence[Resource], *, staff: bool = False) -> list[dict[str, Any]]:
    files = await attachments_of([r.id for r in resources])
    return [resource_json(r, files[r.id], staff=staff) for r in resources]


async def get_visible(principal: Principal, resource_id: int) -> Resource:
    """The resource if this caller may open it; otherwise the same 404 as a missing one."""
    resource = await Resource.get_or_none(id=resource_id)
    if resource is None or not can_view(principal, resource):
        raise NotFound("No such resource.")
    return resource


async def list_visible(principal: Principal, *, page: int, per_page: int,
                       filters: Mapping[str, Any]) -> tuple[int, list[Resource]]:
    query = Resource.filter(visible_q(principal))
    if filters.get("kind"):
        query = query.filter(kind=v.choice("kind", filters["kind"], Kind))
    if filters.get("language"):
        query = query.filter(language=v.choice("language", filters["language"], Language))
    total = await query.count()
    rows = await query.order_by("-created_at", "-id").offset((page - 1) * per_page).limit(per_page)
    return total, list(rows)


async def stored_file_for(upload: Upload) -> StoredFile:
    media_type = media_type_for(upload.blob, upload.filename)
    existing = await StoredFile.get_or_none(sha256=upload.blob.sha256)
    if existing is not None:
        if existing.crc32 is None:
            existing.crc32 = upload.blob.crc32
            await StoredFile.filter(id=existing.id).update(crc32=upload.blob.crc32)
        return existing
    try:
        return await StoredFile.create(
            sha256=upload.blob.sha256, size=upload.blob.size, media_type=media_type,
            original_filename=upload.filename, storage_key=upload.blob.key,
            crc32=upload.blob.crc32)
    except IntegrityError:
        # Another request stored the same bytes a moment ago: share its row.
        return await StoredFile.get(sha256=upload.blob.sha256)


async def audit(user: User | None, action: str, target_type: str, target_id: int | None,
                **detail: Any) -> None:
    await AuditEvent.create(user=user, action=action, target_type=target_type,
                            target_id=target_id, detail=detail)


async def create_resource(metadata: Mapping[str, Any], uploads: Sequence[Upload],
                          user: User | None) -> Resource:
    """A new resource with its files; the row and its attachments commit together."""
    values = parse_metadata(metadata)
    kind = values.get("kind", Kind.DOCUMENT)
    if kind == Kind.LINK:
        if not values.get("url"):
            raise InvalidField("url", "is required for a link")
    elif not uploads:
        raise InvalidField("file", "is required (send the file as the 'file' part)")
    for upload in uploads:
        check_accepted(media_type_for(upload.blob, upload.filename), upload.filename)
    if uploads:
        values["extraction_status"] = ExtractionStatus.PENDING
    async with in_transaction():
        resource = await Resource.create(**values)
        media_types = []
        for position, upload in enumerate(uploads):
            stored = await stored_file_for(upload)
            media_types.append(stored.media_type)
            await ResourceFile.create(resource=resource, file=stored, filename=upload.filename,
                                      position=position)
        await _enqueue_file_work(resource.id, media_types)
        await audit(user, "resource.create", "resource", resource.id, title=resource.title,
                    files=[u.blob.sha256 for u in uploads])
    return resource


async def _enqueue_file_work(resource_id: int, media_types: Sequence[str]) -> None:
    """Queue the text extraction and, for recordings, the media work (each its own switch)."""
    if any(formats.is_media(t) for t in media_types):
        await enqueue(JobKind.MEDIA, [resource_id])
    await enqueue(JobKind.EXTRACT, [resource_id])


async def replace_file(resource: Resource, upload: Upload, user: User | None) -> list[int]:
    """Make ``upload`` the resource's only file, in one transaction; the stored files it no
    longer shows (for ``collect_garbage`` once the upload is settled)."""
    check_accepted(media_type_for(upload.blob, upload.filename), upload.filename)
    async with in_transaction():
        old = await _file_ids(resource)
        await ResourceFile.filter(resource=resource).delete()
        stored = await stored_file_for(upload)
        await ResourceFile.create(resource=resource, file=stored, filename=upload.filename)
        resource.extraction_status = ExtractionStatus.PENDING
        resource.extraction_error = ""
        # auto_now stamps the change
        await resource.save(update_fields=["updated_at", "extraction_status", "extraction_error"])
        await _enqueue_file_work(resource.id, [stored.media_type])
        await audit(user, "resource.replace_file", "resource", resource.id,
                    sha256=upload.blob.sha256, filename=upload.filename)
    return [i for i in old if i != stored.id]


async def update_resource(resource: Resource, body: Mapping[str, Any], user: User | None) -> None:
    values = parse_metadata(body, partial=True)
    if not values:
        raise InvalidField("body", "names no field to change")
    async with in_transaction():
        for name, value in values.items():
            setattr(resource, name, value)
        await resource.save()
        await enqueue(JobKind.INDEX, [resource.id])
        await audit(user, "resource.update", "resource", resource.id, fields=sorted(values))


async def delete_resource(resource: Resource, user: User | None, storage: Storage) -> None:
    async with in_transaction():
        file_ids = await _file_ids(resource)
        await audit(user, "resource.delete", "resource", resource.id, title=resource.title)
        await enqueue(JobKind.DELETE, [resource.id])
        await resource.delete()
    await collect_garbage(storage, file_ids)


async def _file_ids(resource: Resource) -> list[int]:
    rows = await ResourceFile.filter(resource=resource).values("file_id")
    return [int(row["file_id"]) for row in rows]


async def collect_garbage(storage: Storage, file_ids: Sequence[int]) -> None:
    """Drop stored files no resource shows any more: the row first, then the blob.

    A crash between the two leaves an orphan blob, which ``kitlib check`` finds; the
    other order could leave a row pointing at nothing.
    """
    for file_id in set(file_ids):
        if await ResourceFile.filter(file_id=file_id).exists():
            continue
        stored = await StoredFile.get_or_none(id=file_id)
        if stored is None:
            continue
        try:
            await stored.delete()
        except IntegrityError:
            continue  # attached again meanwhile
        await _remove_unused_blob(storage, stored.storage_key)


async def _remove_unused_blob(storage: Storage, key: str) -> None:
    # The same bytes may have been uploaded again meanwhile: their new row keeps the blob.
    await storage.remove_unless(key, StoredFile.filter(storage_key=key).exists)
