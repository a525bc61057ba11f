"""Storage against database: what a crash can leave behind, found and repaired.

Writes are ordered so that a crash never loses an acknowledged file: a blob is fsynced and
renamed into place before its row commits, and a row is deleted before its blob. So a crash
can leave only harmless leftovers, which ``kitlib check`` reports and ``--repair`` removes:

- an orphan blob: on disk, in no ``stored_file`` row (a crash after the rename, before the
  commit; or after a delete's commit, before the blob went);
- an unused stored file: a row no resource shows any more (a crash inside the garbage
  collection that follows a delete or a file replacement);
- ``.part`` and ``.faststart`` leftovers in ``uploads/tmp``.

A row whose blob is missing is the one thing a crash must never cause; it is reported and
cannot be repaired here (restore the file from a backup).

An upload in flight has its blob in place for a few milliseconds before its row commits, so
while a server runs only blobs older than ``grace`` seconds count as orphans.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from anyio import to_thread
from tortoise.expressions import Subquery

from kitlib.models import ResourceFile, StoredFile
from kitlib.services.resources import collect_garbage
from kitlib.settings import Settings
from kitlib.storage import STALE_AFTER, Storage

GRACE = 15 * 60


@dataclass
class StorageReport:
    orphan_blobs: list[str] = field(default_factory=list)
    missing_blobs: list[tuple[int, str]] = field(default_factory=list)
    unused_files: list[int] = field(default_factory=list)
    stale_parts: list[Path] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.orphan_blobs or self.missing_blobs or self.unused_files
                    or self.stale_parts)

    def lines(self) -> list[str]:
        out = [f"orphan file in uploads/ (no database row): {key}" for key in self.orphan_blobs]
        out += [f"stored file {fid}: its file {key} is missing from uploads/"
                for fid, key in self.missing_blobs]
        out += [f"stored file {fid}: no resource shows it any more" for fid in self.unused_files]
        out += [f"leftover temporary file: {path}" for path in self.stale_parts]
        return out


def _old_keys(storage: Storage, keys: set[str], grace: float) -> list[str]:
    limit = time.time() - grace
    old = []
    for key in sorted(keys):
        try:
            if storage.path_for(key).stat().st_mtime <= limit:
                old.append(key)
        except FileNotFoundError:
            continue
    return old


async def check_storage(settings: Settings, grace: float = GRACE,
                        stale_after: float = STALE_AFTER) -> StorageReport:
    storage = Storage(settings.uploads_dir)
    report = StorageReport()
    on_disk = await to_thread.run_sync(storage.all_keys) if storage.root.exists() else set()
    rows = await StoredFile.all().order_by("id").values_list("id", "storage_key")
    known = {str(key) for _, key in rows}
    report.orphan_blobs = await to_thread.run_sync(_old_keys, storage, on_disk - known, grace)
    report.missing_blobs = [(int(fid), str(key)) for fid, key in rows if key not in on_disk]
    used = ResourceFile.all().values("file_id")
    report.unused_files = [int(r["id"]) for r in await StoredFile.exclude(
        id__in=Subquery(used)).order_by("id").values("id")]
    report.stale_parts = await to_thread.run_sync(storage.stale_parts, stale_after)
    return report


async def repair_storage(settings: Settings, report: StorageReport) -> str:
    """Remove what ``check_storage`` found leftover; a sentence saying what was done."""
    storage = Storage(settings.uploads_dir)
    removed = 0
    for key in report.orphan_blobs:
        # Checked again: the same bytes may have been uploaded since the check.
        if not await StoredFile.filter(storage_key=key).exists():
            await storage.remove(key)
            removed += 1
    await collect_garbage(storage, report.unused_files)
    parts = await to_thread.run_sync(storage.sweep) if report.stale_parts else 0
    text = (f"removed {removed} orphan files, {len(report.unused_files)} unused stored files "
            f"and {parts} temporary files")
    if report.missing_blobs:
        text += (f"; {len(report.missing_blobs)} stored files are missing from uploads/ and "
                 "must be restored from a backup")
    return text
