"""ZIP bundles of every file a search filter matches: which files, under which names, with
which manifest, how many bytes, and the bytes themselves.

A bundle is deterministic: the same files give the same bytes, so its size is known before
the first byte (``Content-Length``), its strong ETag is a digest of what it holds, and a
resumed download (``Range``) continues the very archive it started. Members are stored,
not deflated (media do not shrink, and a stored member's size is its file's size); each
member's time is its stored file's; the order is the kit's, or the resources' dates.

The ZIP format is stream-zip's (``bundle_zip``); this module decides what goes in.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from anyio import to_thread
from tortoise.expressions import Q

from kitlib import urls
from kitlib.access.rules import Principal, visible_q
from kitlib.errors import BadRequest, KitlibError, NotFound
from kitlib.models import Kit, KitItem, Resource, ResourceFile, StoredFile, Webinar
from kitlib.search import tag_key
from kitlib.services import bundle_zip as bz
from kitlib.services import search as search_svc
from kitlib.services.stats import csv_cell
from kitlib.storage import Storage, file_crc32
from kitlib.urls import Links

log = logging.getLogger("kitlib")

FORMAT = "kitlib-bundle-1"  # part of every ETag: a change of layout changes them all
MAX_FILES = 10_000
MANIFEST_CSV = "manifest.csv"
MANIFEST_JSON = "manifest.json"
CSV_COLUMNS = ("path", "title", "kind", "language", "tags", "sha256", "size", "modified",
               "source_url")


@dataclass(frozen=True)
class Bundle:
    """One requester's bundle for one filter, planned before a byte is sent."""

    members: tuple[bz.Member, ...]  # the manifests first, then the files in order
    files: tuple[FileEntry, ...]
    zip64: bool
    size: int
    etag: str
    modified: datetime
    filename: str


@dataclass(frozen=True)
class FileEntry:
    """A bundled file, as statistics record it."""

    resource_id: int
    file_id: int
    size: int


async def resource_ids(service: search_svc.SearchService, principal: Principal,
                       params: search_svc.Params, limit: int = MAX_FILES) -> list[int]:
    """The resources the filter matches that the caller may open, in bundle order.

    Without words the database answers alone (the index may lag it); with words the index
    names the candidates and the database filters them again, as search does.
    """
    query = Resource.filter(visible_q(principal))
    if params.q.strip():
        total, ids = await search_svc.matching_ids(service, principal, params, limit)
        _check_count(total, limit)
        query = query.filter(id__in=ids)
    if params.kinds:
        query = query.filter(kind__in=list(params.kinds))
    if params.languages:
        query = query.filter(language__in=list(params.languages))
    if params.kits:
        kit_ids = await KitItem.filter(kit_id__in=list(params.kits)) \
            .values_list("resource_id", flat=True)
        query = query.filter(id__in=[int(i) for i in kit_ids])  # type: ignore[call-overload]
    if params.webinars:
        query = query.filter(id__in=sorted(await _shown_by(params.webinars)))
    for q in _dated(params.start, params.end):
        query = query.filter(q)
    _check_count(await query.count(), limit)
    rows = await query.values("id", "tags", "published_at", "created_at")
    if params.tags:
        wanted = {tag_key(t) for t in params.tags}
        rows = [r for r in rows if wanted & {tag_key(t) for t in r["tags"] or []}]
    if len(params.kits) == 1:
        position = {int(r["resource_id"]): (int(r["position"]), int(r["id"])) for r in
                    await KitItem.filter(kit_id=params.kits[0]).values("resource_id",
                                                                        "position", "id")}
        return sorted((int(r["id"]) for r in rows), key=lambda i: position[i])
    rows.sort(key=lambda r: (_utc(r["published_at"] or r["created_at"]), int(r["id"])))
    return [int(r["id"]) for r in rows]


def _check_count(count: int, limit: int) -> None:
    if count > limit:
        raise BadRequest(f"These filters match {count:,} resources; a bundle holds at most "
                         f"{limit:,} files. Narrow the filters (kind, tag, kit, dates).")


async def _shown_by(webinars: Sequence[int]) -> set[int]:
    """Resources each webinar shows, as the index files them: under the first webinar (by
    id) that shows them (kitlib/services/indexing.py)."""
    shown = {rid for w in await Webinar.filter(id__in=list(webinars))
             for rid in (w.recording_id, w.slides_id, w.transcript_id) if rid}
    first: dict[int, int] = {}
    for w in await Webinar.filter(Q(recording_id__in=sorted(shown)) | Q(
            slides_id__in=sorted(shown)) | Q(transcript_id__in=sorted(shown))).order_by("id"):
        for rid in (w.recording_id, w.slides_id, w.transcript_id):
            if rid:
                first.setdefault(rid, w.id)
    return {rid for rid in shown if first.get(rid) in webinars}


def _dated(start: date | None, end: date | None) -> list[Q]:
    """Dated (published, else created) within [start, end], as search's ``_outside`` reads."""
    parts = []
    for bound, lookup in ((start, "gte"), (end, "lt")):
        if bound is None:
            continue
        moment = datetime.combine(bound, time(), tzinfo=UTC)
        if lookup == "lt":
            moment += timedelta(days=1)
        parts.append(Q(**{f"published_at__{lookup}": moment}) | Q(  # type: ignore[arg-type]
            Q(published_at=None), Q(**{f"created_at__{lookup}": moment})))  # type: ignore[arg-type]
    return parts


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def plan(service: search_svc.SearchService, storage: Storage, principal: Principal,
               params: search_svc.Params, site: Links, *, force_zip64: bool = False,
               limit: int = MAX_FILES) -> Bundle:
    """The bundle for this caller and filter; 404 when no file matches, 400 past ``limit``."""
    ids = await resource_ids(service, principal, params, limit)
    # Access again: a resource hidden since the ids were chosen must not slip in.
    resources = {r.id: r for r in await Resource.filter(visible_q(principal), id__in=ids)}
    attachments: dict[int, list[ResourceFile]] = {}
    for row in await ResourceFile.filter(resource_id__in=ids).select_related("file") \
            .order_by("position", "id"):
        attachments.setdefault(row.resource_id, []).append(row)  # type: ignore[attr-defined]
    rows = [(resources[i], a) for i in ids if i in resources for a in attachments.get(i, [])]
    if not rows:
        raise NotFound("No file matches these filters.")
    if len(rows) > limit:
        raise BadRequest(f"These filters match {len(rows):,} files; a bundle holds at most "
                         f"{limit:,}. Narrow the filters (kind, tag, kit, dates).")
    names = bz.unique_names([a.filename for _, a in rows], reserved=(MANIFEST_CSV, MANIFEST_JSON))
    entries = []
    for (resource, attachment), name in zip(rows, names, strict=True):
        stored: StoredFile = attachment.file
        entries.append(_entry(resource, attachment, stored, name, site))
    members = [bz.Member(name=e["path"], size=e["size"], crc32=e["crc32"],
                         modified=bz.zip_time(e["created_at"]),
                         path=storage.path_for(e["storage_key"])) for e in entries]
    latest = max(m.modified for m in members)
    manifest_json = _manifest_json(entries)
    manifests = [bz.Member.of_bytes(MANIFEST_CSV, _manifest_csv(entries), latest),
                 bz.Member.of_bytes(MANIFEST_JSON, manifest_json, latest)]
    everything = tuple(manifests + members)
    zip64 = force_zip64 or bz.needs_zip64(everything)
    digest = hashlib.sha256(f"{FORMAT}\n{'zip64' if zip64 else 'zip32'}\n".encode())
    digest.update(manifest_json)
    files = tuple(FileEntry(r.id, a.file.id, int(a.file.size)) for r, a in rows)
    slug = await _single_kit_slug(params)
    return Bundle(everything, files, zip64, bz.archive_size(everything, zip64),
                  f'"{digest.hexdigest()}"', latest,
                  f"{slug}.zip" if slug else "kitlib-bundle.zip")


def _entry(resource: Resource, attachment: ResourceFile, stored: StoredFile, name: str,
           site: Links) -> dict[str, Any]:
    return {
        "path": name, "title": resource.title, "kind": resource.kind.value,
        "language": resource.language.value, "tags": list(resource.tags or []),
        "sha256": stored.sha256, "size": int(stored.size),
        # The member's time is in the archive's bytes, so it is in the manifest (the ETag).
        "modified": bz.zip_time(stored.created_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source_url": site.file(attachment.id, attachment.filename),
        "resource_id": resource.id, "created_at": stored.created_at,
        "crc32": stored.crc32, "storage_key": stored.storage_key, "file_id": stored.id}


_PRIVATE = ("created_at", "crc32", "storage_key", "file_id")


def _manifest_json(entries: list[dict[str, Any]]) -> bytes:
    files = [{k: v for k, v in e.items() if k not in _PRIVATE} for e in entries]
    return (json.dumps({"format": FORMAT, "files": files}, ensure_ascii=False, indent=2)
            + "\n").encode()


def _manifest_csv(entries: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        row = {**e, "tags": "; ".join(e["tags"])}
        writer.writerow([csv_cell(row[c]) for c in CSV_COLUMNS])
    # A BOM, so spreadsheet tools read the accents right (as the stats export does).
    return ("\ufeff" + buffer.getvalue()).encode()


async def _single_kit_slug(params: search_svc.Params) -> str | None:
    if len(params.kits) != 1:
        return None
    kit = await Kit.get_or_none(id=params.kits[0])
    return kit.slug if kit else None


async def with_crcs(bundle: Bundle) -> Bundle:
    """The bundle with every member's CRC-32 known: files stored before migration 0007 are
    read once (in a thread) and their CRC saved. Also checks every file is on disk."""
    generated = len(bundle.members) - len(bundle.files)
    members = list(bundle.members[:generated])
    for member, entry in zip(bundle.members[generated:], bundle.files, strict=True):
        assert member.path is not None
        try:
            on_disk = member.path.stat().st_size
        except OSError:
            on_disk = -1
        if on_disk != member.size:
            log.error("bundle member %s (stored file %s) is missing or has %d bytes, not %d",
                      member.path, entry.file_id, on_disk, member.size)
            raise KitlibError(f"The content of {member.name!r} is missing from storage; "
                              "staff have been told.")
        if member.crc32 is None:
            crc = await to_thread.run_sync(file_crc32, member.path)
            await StoredFile.filter(id=entry.file_id).update(crc32=crc)
            member = member.with_crc32(crc)
        members.append(member)
    return replace(bundle, members=tuple(members))


async def kit_bundle(service: search_svc.SearchService, storage: Storage, principal: Principal,
                     kit: Kit, site: Links) -> dict[str, Any] | None:
    """``{url, size}`` of the whole kit's bundle for this caller; None when it holds no file
    the caller may open."""
    try:
        planned = await plan(service, storage, principal, search_svc.Params(kits=(kit.id,)),
                             site)
    except NotFound:
        return None
    return {"url": urls.bundle({"kit": kit.slug}), "size": planned.size}
