"""The database side of the search index: documents from rows, writes, rebuilds and checks.

``searcher`` knows Whoosh and nothing of the database; this module turns resources into
``IndexDoc``s and owns every write. Writes to one index folder are serialised by a process-wide
lock, so the worker's batches and a rebuild never interleave (a batch written into the old
build while a rebuild swaps in a new one would be lost).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import anyio.from_thread
import anyio.to_thread
from tortoise.expressions import Q
from tortoise.functions import Count

from kitlib import search as si
from kitlib.models import DownloadEvent, Job, JobKind, KitItem, Resource, Webinar
from kitlib.settings import Settings

BATCH = 500
PARALLEL_FROM = 20_000  # resources from which a rebuild uses several processes
MAX_PROCS = 4
# A change committed by a transaction that began this long before a rebuild started is
# still replayed after its swap (see rebuild).
REPLAY_MARGIN = timedelta(minutes=1)
REPLAY_DELAY = timedelta(minutes=2)
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def write_lock(path: Path) -> threading.Lock:
    """The lock every writer of the index at ``path`` holds, in this process."""
    with _locks_guard:
        return _locks.setdefault(str(path.resolve()), threading.Lock())


def fingerprint(doc: si.IndexDoc) -> str:
    """A digest of what the index holds for a document (download counts move on their own)."""
    values = asdict(replace(doc, fingerprint="", download_count=0))
    return hashlib.sha256(json.dumps(values, default=str, sort_keys=True).encode()).hexdigest()[:32]


async def docs_for(ids: Sequence[int]) -> list[si.IndexDoc]:
    """The index documents of the resources still in the database among ``ids``."""
    if not ids:
        return []
    resources = await Resource.filter(id__in=list(ids)).order_by("id")
    kits: dict[int, list[int]] = {}
    for row in await KitItem.filter(resource_id__in=list(ids)).values("resource_id", "kit_id"):
        kits.setdefault(int(row["resource_id"]), []).append(int(row["kit_id"]))
    webinars: dict[int, Webinar] = {}
    for shown in await _webinars_showing(ids):
        for rid in (shown.recording_id, shown.slides_id, shown.transcript_id):
            if rid is not None:
                webinars.setdefault(rid, shown)
    downloads = {int(r["resource_id"]): int(r["n"]) for r in await DownloadEvent
                 .filter(resource_id__in=list(ids), complete=True)
                 .annotate(n=Count("id")).group_by("resource_id").values("resource_id", "n")}
    out = []
    for resource in resources:
        webinar = webinars.get(resource.id)
        speakers = tuple(s.get("name", "") for s in webinar.speakers) if webinar else ()
        orgs = " ".join(s.get("organisation", "") for s in webinar.speakers) if webinar else ""
        published = resource.published_at or resource.created_at
        doc = si.IndexDoc(
            id=resource.id, title=resource.title, language=resource.language.value,
            kind=resource.kind.value, visibility=resource.visibility.value,
            summary=resource.summary, body=resource.body_text,
            cues=tuple((float(c[0]), str(c[1])) for c in resource.cues  # type: ignore[arg-type]
                       if isinstance(c, list) and len(c) == 2),
            tags=tuple(resource.tags), kits=tuple(sorted(kits.get(resource.id, []))),
            webinar_id=webinar.id if webinar else None, speakers=speakers,
            organisation=orgs.strip(), published=published.date(),
            download_count=downloads.get(resource.id, 0))
        out.append(replace(doc, fingerprint=fingerprint(doc)))
    return out


async def _webinars_showing(ids: Sequence[int]) -> list[Webinar]:
    wanted = list(ids)
    return list(await Webinar.filter(Q(recording_id__in=wanted) | Q(slides_id__in=wanted)
                                     | Q(transcript_id__in=wanted)).order_by("id"))


async def _id_batch(after: int) -> list[int]:
    rows = await Resource.filter(id__gt=after).order_by("id").limit(BATCH).values("id")
    return [int(r["id"]) for r in rows]


def _docs_from_thread() -> Iterator[si.IndexDoc]:
    """Every resource's document, read in batches from a worker thread (bounded memory)."""
    after = 0
    while ids := anyio.from_thread.run(_id_batch, after):
        yield from anyio.from_thread.run(docs_for, ids)
        after = ids[-1]


def _rebuild_sync(path: Path, procs: int, before_swap: Callable[[], object] | None = None) -> int:
    with write_lock(path):
        return si.rebuild(path, _docs_from_thread(), procs=procs, before_swap=before_swap)


async def _procs() -> int:
    # Sub-processes pay off only for large libraries; small ones (and tests) stay in-process.
    if await Resource.all().count() < PARALLEL_FROM:
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_PROCS))


async def _replay(since: datetime, delay: timedelta = timedelta(0)) -> None:
    """Queue again every change queued since ``since``, to run after ``delay``."""
    changed = {int(r["resource_id"]) for r in await Job.filter(
        created_at__gte=since, kind__in=[JobKind.INDEX, JobKind.DELETE]).values("resource_id")}
    when = datetime.now(UTC) + delay
    await Job.bulk_create([Job(kind=JobKind.INDEX, resource_id=rid, run_after=when)
                           for rid in sorted(changed)])


async def rebuild(settings: Settings) -> int:
    """Rebuild the index from the database beside the live one and swap it in; the count.

    A worker in another process (a server while `kitlib reindex` runs) may write changes
    into the live index while this one is built from rows read earlier; the swap would drop
    them. So every change queued since the build started is queued again for the new index:
    once just before the swap, held back a little (if this process dies right after the
    swap, those still run), and once after it, at once.
    """
    started = datetime.now(UTC) - REPLAY_MARGIN
    procs = await _procs()

    def before_swap() -> None:
        anyio.from_thread.run(_replay, started, REPLAY_DELAY)

    count = await anyio.to_thread.run_sync(_rebuild_sync, settings.index_dir, procs,
                                           before_swap)
    await _replay(started)
    return count


def _apply_sync(path: Path, upserts: list[si.IndexDoc], deletes: list[int]) -> str:
    with write_lock(path):
        try:
            if not (path / si.CURRENT).is_symlink():
                # No index yet (a new install, or a library from before search): build it all.
                raise si.IndexUnavailable(f"no index in {path}")
            ix = si.open_or_create(path)
        except si.IndexUnavailable:
            # Corrupt or outdated: a rebuild from the database includes this batch.
            si.rebuild(path, _docs_from_thread())
            return "rebuilt"
        try:
            si.apply(ix, upserts, deletes)
        finally:
            ix.close()
        return "applied"


async def write(settings: Settings, ids: Sequence[int]) -> str:
    """Bring the index in step with the database for ``ids``, in one commit."""
    docs = await docs_for(ids)
    gone = sorted(set(ids) - {d.id for d in docs})
    return await anyio.to_thread.run_sync(_apply_sync, settings.index_dir, docs, gone)


@dataclass
class Report:
    """What ``kitlib check`` found: ids per kind of difference."""

    missing: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)
    extra: list[int] = field(default_factory=list)
    unreadable: str = ""

    @property
    def clean(self) -> bool:
        return not (self.missing or self.stale or self.extra or self.unreadable)


def _indexed(path: Path) -> dict[int, str]:
    ix = si.open_or_create(path)
    try:
        return si.all_ids(ix)
    finally:
        ix.close()


async def check(settings: Settings) -> Report:
    """Every difference between the database and the index."""
    report = Report()
    try:
        indexed = await anyio.to_thread.run_sync(_indexed, settings.index_dir)
    except si.SearchIndexError as exc:
        report.unreadable = str(exc)
        return report
    seen: set[int] = set()
    after = 0
    while ids := await _id_batch(after):
        for doc in await docs_for(ids):
            seen.add(doc.id)
            if doc.id not in indexed:
                report.missing.append(doc.id)
            elif indexed[doc.id] != doc.fingerprint:
                report.stale.append(doc.id)
        after = ids[-1]
    report.extra = sorted(set(indexed) - seen)
    return report


async def repair(settings: Settings, report: Report) -> str:
    """Fix what ``check`` found; a sentence saying what was done."""
    if report.unreadable:
        count = await rebuild(settings)
        return f"rebuilt the index from the database ({count} resources)"
    ids = [*report.missing, *report.stale, *report.extra]
    for start in range(0, len(ids), BATCH):
        await write(settings, ids[start:start + BATCH])
    return (f"indexed {len(report.missing)} missing, refreshed {len(report.stale)} stale, "
            f"removed {len(report.extra)} extra")
