"""The worker: claims jobs from the outbox (``kitlib.jobs.queue``) and runs them.

Two families of work, each with its own switch in ``kitlib serve`` (``KITLIB_INDEX_WORKER``,
``KITLIB_MEDIA_WORKER``) and its own leader lock, so one never waits for or stops the other:
indexing (extraction jobs run ``extract_safely`` in a thread, store the text and cues on the
resource and queue an index job; index and delete jobs are drained in batches, one index
commit per batch) and media (an MP4's index moved to the front, each recording's duration).
Jobs of a family nobody runs stay queued.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

import anyio
import anyio.to_thread
from tortoise.transactions import in_transaction

from kitlib import formats, media
from kitlib.extract import SUPPORTED_MEDIA_TYPES, ExtractionError, extract_safely
from kitlib.jobs.queue import MAX_ATTEMPTS, claim, enqueue, fail, finish, worker_name
from kitlib.models import (
    ExtractionStatus,
    Job,
    JobKind,
    JobState,
    Resource,
    ResourceFile,
    StoredFile,
)
from kitlib.services import indexing as indexer
from kitlib.services import uploads
from kitlib.settings import Settings
from kitlib.storage import Storage

log = logging.getLogger("kitlib.jobs.worker")

INDEX_BATCH = 200
EXTRACT_BATCH = 4
KEEP_DONE = timedelta(days=1)
@dataclass(frozen=True)
class Family:
    """Job kinds run together: one switch, one leader lock in the index folder."""

    label: str
    kinds: tuple[JobKind, ...]
    lock: str


INDEXING = Family("search", (JobKind.EXTRACT, JobKind.INDEX, JobKind.DELETE), ".worker.lock")
MEDIA = Family("media", (JobKind.MEDIA,), ".media-worker.lock")
FAMILIES = (INDEXING, MEDIA)
ALL_KINDS = tuple(kind for family in FAMILIES for kind in family.kinds)


def families_for(settings: Settings) -> tuple[Family, ...]:
    """The families ``kitlib serve`` runs in the background: those switched on."""
    return tuple(family for family, on in ((INDEXING, settings.index_worker),
                                           (MEDIA, settings.media_worker)) if on)


def _is_media(row: ResourceFile) -> bool:
    return formats.is_media(row.file.media_type)


def _merge_errors(rows: Sequence[ResourceFile], existing: str, mine: Callable[[ResourceFile], bool],
                  own: dict[int, str]) -> str:
    """The resource's error lines in file order: this job's for its own files, and the lines
    the other family's job left for the others (both jobs write the one error field)."""
    lines = existing.splitlines()
    merged: list[str] = []
    for row in rows:
        if mine(row):
            merged.extend([own[row.id]] if row.id in own else [])
        else:
            merged.extend(line for line in lines if line.startswith(f"{row.filename}: "))
    return "\n".join(merged)


async def _files(resource_id: int) -> list[ResourceFile]:
    return list(await ResourceFile.filter(resource_id=resource_id).select_related("file")
                .order_by("position", "id"))


async def _locked(resource_id: int) -> Resource | None:
    """The resource as committed now, locked until the transaction ends (the extraction and
    the media job of one resource may finish at the same moment in two workers)."""
    return await Resource.filter(id=resource_id).select_for_update().first()



async def _extract(settings: Settings, storage: Storage, job: Job) -> None:
    resource = await Resource.get_or_none(id=job.resource_id)
    if resource is None:
        await finish([job])
        return
    rows = await _files(resource.id)
    texts: list[str] = []
    cues: list[list[object]] = []
    errors: dict[int, str] = {}
    for row in rows:
        if _is_media(row):  # the media job's
            continue
        media_type = formats.read_as(row.file.media_type, row.filename)
        if media_type not in SUPPORTED_MEDIA_TYPES:
            continue
        run = partial(extract_safely, storage.path_for(row.file.storage_key), media_type,
                      settings.extract_timeout, settings.extract_memory_mb)
        try:
            got = await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
        except ExtractionError as exc:
            errors[row.id] = f"{row.filename}: {exc.reason}"
            continue
        except OSError as exc:
            errors[row.id] = f"{row.filename}: the stored file cannot be read ({exc.strerror})"
            continue
        texts.append(got.text)
        cues.extend([round(c.start, 3), c.text, *([c.title] if c.title else [])]
                    for c in got.cues)
    async with in_transaction():
        current = await _locked(resource.id)
        existing = current.extraction_error if current is not None else ""
        error = _merge_errors(rows, existing, lambda row: not _is_media(row), errors)
        status = (ExtractionStatus.FAILED if error else
                  ExtractionStatus.DONE if texts or cues else ExtractionStatus.NONE)
        await Resource.filter(id=resource.id).update(
            body_text="\n\n".join(texts), cues=cues, extraction_status=status,
            extraction_error=error)
        await enqueue(JobKind.INDEX, [resource.id])
        # A recording queued before media jobs existed (a data folder from an older kitlib)
        # has only this extraction job: give it the media job it never got.
        if any(_is_media(row) and row.file.duration is None for row in rows) and not \
                await Job.filter(kind=JobKind.MEDIA, resource_id=resource.id,
                                 state__in=[JobState.QUEUED, JobState.RUNNING]).exists():
            await enqueue(JobKind.MEDIA, [resource.id])
    await finish([job])


async def _media(settings: Settings, storage: Storage, job: Job) -> None:
    """A media job: prepare each recording; its errors join the resource's extraction errors."""
    errors: dict[int, str] = {}
    changed = False
    for row in await _files(job.resource_id):
        if not _is_media(row):
            continue
        try:
            changed |= await _prepare_media(settings, storage, row)
        except media.MediaError as exc:
            errors[row.id] = f"{row.filename}: {exc}"
    async with in_transaction():
        current = await _locked(job.resource_id)
        if current is not None:
            error = _merge_errors(await _files(current.id), current.extraction_error, _is_media,
                                  errors)
            # Before the extraction ran, it settles the status (keeping these lines) and
            # queues the index write; after it, this job does both.
            extracted = current.extraction_status != ExtractionStatus.PENDING
            if error != current.extraction_error:
                values: dict[str, object] = {"extraction_error": error}
                if extracted:
                    values["extraction_status"] = (
                        ExtractionStatus.FAILED if error else ExtractionStatus.DONE
                        if current.body_text or current.cues else ExtractionStatus.NONE)
                await Resource.filter(id=current.id).update(**values)
            if extracted and (changed or error != current.extraction_error):
                await enqueue(JobKind.INDEX, [current.id])
    await finish([job])


async def _prepare_media(settings: Settings, storage: Storage, row: ResourceFile) -> bool:
    """Move an MP4's index to the front (a new blob replaces the old) and store the duration;
    whether anything changed."""
    stored: StoredFile = row.file
    path = storage.path_for(stored.storage_key)
    changed = False
    timeout = float(settings.extract_timeout)
    if formats.is_mp4(stored.media_type) and \
            await anyio.to_thread.run_sync(media.needs_faststart, path):
        remuxed = storage.tmp / f"{uuid.uuid4().hex}.faststart"
        try:
            await anyio.to_thread.run_sync(media.faststart, path, remuxed, timeout,
                                           abandon_on_cancel=True)
            new = await uploads.swap_stored_file(storage, row, stored, remuxed)
        finally:
            remuxed.unlink(missing_ok=True)
        log.info("moved the index of %s to the front (file %s → %s)", row.filename, stored.id,
                 new.id)
        stored, path = new, storage.path_for(new.storage_key)
        changed = True
    if stored.duration is None:
        seconds = await anyio.to_thread.run_sync(media.duration, path, timeout)
        await StoredFile.filter(id=stored.id).update(duration=seconds)
        changed = True
    return changed


_Handler = Callable[[Settings, Storage, Job], Awaitable[None]]
# Per resource the media job is queued before the extraction, and a round runs it first.
_ONE_BY_ONE: tuple[tuple[JobKind, str, _Handler], ...] = (
    (JobKind.MEDIA, "media", _media), (JobKind.EXTRACT, "extraction", _extract))


async def run_once(settings: Settings, worker: str,
                   kinds: Sequence[JobKind] = ALL_KINDS) -> int:
    """One round: a few media and extraction jobs, then one batch of index writes; jobs
    handled. Only jobs of ``kinds`` are taken: the others stay queued."""
    storage = Storage(settings.uploads_dir)
    handled = 0
    for kind, label, handler in _ONE_BY_ONE:
        if kind not in kinds:
            continue
        for job in await claim([kind], EXTRACT_BATCH, worker):
            try:
                await handler(settings, storage, job)
            except Exception as exc:
                log.exception("%s job %s failed", label, job.id)
                await fail([job], repr(exc))
            handled += 1
    batched = [kind for kind in (JobKind.INDEX, JobKind.DELETE) if kind in kinds]
    batch = await claim(batched, INDEX_BATCH, worker) if batched else []
    if batch:
        try:
            await indexer.write(settings, sorted({j.resource_id for j in batch}))
        except Exception as exc:
            log.exception("index batch of %d jobs failed", len(batch))
            await fail(batch, repr(exc))
        else:
            await finish(batch)
        handled += len(batch)
    return handled


async def drain(settings: Settings, *, worker: str | None = None,
                kinds: Sequence[JobKind] = ALL_KINDS) -> int:
    """Run jobs until none is runnable now; how many were handled (tests call this)."""
    worker = worker or worker_name()
    total = 0
    while handled := await run_once(settings, worker, kinds):
        total += handled
    await Job.filter(state=JobState.DONE, created_at__lt=datetime.now(UTC) - KEEP_DONE).delete()
    return total


@contextlib.contextmanager
def _leader_lock(settings: Settings, family: Family) -> Iterator[bool]:
    """Whether this process is the one worker of ``family``; with several server processes
    only one drains it.

    An advisory ``flock`` is released by the kernel when its holder dies, so a surviving
    process takes over at its next poll.
    """
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    with (settings.index_dir / family.lock).open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


async def run_worker(settings: Settings, families: Sequence[Family] = FAMILIES, *,
                     poll_s: float = 1.0) -> None:
    """Drain ``families`` forever, each on its own, pausing ``poll_s`` when idle; a failing
    round is logged, not fatal.

    Only one process per index drains a family at a time (``kitlib serve --workers N``
    starts N candidates, ``kitlib worker`` may run beside them); the others wait to take over.
    """
    async with anyio.create_task_group() as group:
        for family in families:
            group.start_soon(_lead, settings, family, poll_s)


async def _lead(settings: Settings, family: Family, poll_s: float) -> None:
    while True:
        with _leader_lock(settings, family) as leader:
            if leader:
                await release_orphaned(family)
                await _drain_forever(settings, family, poll_s)
        await anyio.sleep(poll_s * 5)


async def drain_as_leader(settings: Settings) -> int | None:
    """``kitlib worker --once``: drain every family no other worker holds; None when another
    worker holds them all."""
    handled: int | None = None
    for family in FAMILIES:
        with _leader_lock(settings, family) as leader:
            if leader:
                await release_orphaned(family)
                handled = (handled or 0) + await drain(settings, kinds=family.kinds)
    return handled


async def release_orphaned(family: Family) -> int:
    """Requeue the jobs of ``family`` a dead worker left running, at once rather than after
    the lease.

    Only the holder of the family's leader lock runs its jobs, and the kernel released the
    lock when its previous holder died: so whoever takes the lock knows no living worker
    holds them. A job that was running during every one of its attempts (a file that kills
    the worker) fails.
    """
    running = Job.filter(state=JobState.RUNNING, kind__in=list(family.kinds))
    await running.filter(attempts__gte=MAX_ATTEMPTS).update(
        state=JobState.FAILED, locked_by="", last_error="the worker stopped during every attempt")
    released = await Job.filter(state=JobState.RUNNING, kind__in=list(family.kinds)).update(
        state=JobState.QUEUED, locked_by="")
    if released:
        log.warning("requeued %d jobs left running by a worker that stopped", released)
    return int(released)


async def _drain_forever(settings: Settings, family: Family, poll_s: float) -> None:
    worker = worker_name()
    while True:
        try:
            handled = await drain(settings, worker=worker, kinds=family.kinds)
        except Exception:
            log.exception("%s worker round failed", family.label)
            handled = 0
        if not handled:
            await anyio.sleep(poll_s)
