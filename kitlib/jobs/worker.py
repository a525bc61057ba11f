"""The worker: claims jobs from the outbox (``kitlib.jobs.queue``) and runs them.

Extraction jobs run ``extract_safely`` in a thread, store the text and cues on the resource and
queue an index job; index and delete jobs are drained in batches, one index commit per batch.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import uuid
from collections.abc import Iterator
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
from kitlib.settings import Settings
from kitlib.storage import Storage, file_chunks

log = logging.getLogger("kitlib.jobs.worker")

INDEX_BATCH = 200
EXTRACT_BATCH = 4
KEEP_DONE = timedelta(days=1)

async def _extract(settings: Settings, storage: Storage, job: Job) -> None:
    resource = await Resource.get_or_none(id=job.resource_id)
    if resource is None:
        await finish([job])
        return
    rows = await ResourceFile.filter(resource_id=resource.id).select_related("file") \
        .order_by("position", "id")
    texts: list[str] = []
    cues: list[list[object]] = []
    errors: list[str] = []
    for row in rows:
        if formats.is_media(row.file.media_type):
            try:
                await _prepare_media(settings, storage, row)
            except media.MediaError as exc:
                errors.append(f"{row.filename}: {exc}")
            continue
        media_type = formats.read_as(row.file.media_type, row.filename)
        if media_type not in SUPPORTED_MEDIA_TYPES:
            continue
        run = partial(extract_safely, storage.path_for(row.file.storage_key), media_type,
                      settings.extract_timeout, settings.extract_memory_mb)
        try:
            got = await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
        except ExtractionError as exc:
            errors.append(f"{row.filename}: {exc.reason}")
            continue
        except OSError as exc:
            errors.append(f"{row.filename}: the stored file cannot be read ({exc.strerror})")
            continue
        texts.append(got.text)
        cues.extend([round(c.start, 3), c.text, *([c.title] if c.title else [])]
                    for c in got.cues)
    status = (ExtractionStatus.FAILED if errors else
              ExtractionStatus.DONE if texts or cues else ExtractionStatus.NONE)
    async with in_transaction():
        await Resource.filter(id=resource.id).update(
            body_text="\n\n".join(texts), cues=cues, extraction_status=status,
            extraction_error="\n".join(errors))
        await enqueue(JobKind.INDEX, [resource.id])
    await finish([job])


async def _prepare_media(settings: Settings, storage: Storage, row: ResourceFile) -> None:
    """Move an MP4's index to the front (a new blob replaces the old) and store the duration."""
    # Imported here: services.resources imports this module to queue its jobs.
    from kitlib.services.resources import Upload, collect_garbage, stored_file_for

    stored: StoredFile = row.file
    path = storage.path_for(stored.storage_key)
    timeout = float(settings.extract_timeout)
    if formats.is_mp4(stored.media_type) and \
            await anyio.to_thread.run_sync(media.needs_faststart, path):
        remuxed = storage.tmp / f"{uuid.uuid4().hex}.faststart"
        try:
            await anyio.to_thread.run_sync(media.faststart, path, remuxed, timeout,
                                           abandon_on_cancel=True)
            blob = await storage.save_stream(file_chunks(remuxed),
                                             max_size=remuxed.stat().st_size)
        finally:
            remuxed.unlink(missing_ok=True)
        new = await stored_file_for(Upload(blob, stored.original_filename))
        if new.media_type != stored.media_type:
            await StoredFile.filter(id=new.id).update(media_type=stored.media_type)
        await ResourceFile.filter(id=row.id).update(file_id=new.id)
        await storage.settle(blob)
        await collect_garbage(storage, [stored.id])
        log.info("moved the index of %s to the front (file %s → %s)", row.filename, stored.id,
                 new.id)
        stored, path = new, storage.path_for(new.storage_key)
    if stored.duration is None:
        seconds = await anyio.to_thread.run_sync(media.duration, path, timeout)
        await StoredFile.filter(id=stored.id).update(duration=seconds)


async def run_once(settings: Settings, worker: str) -> int:
    """One round: a few extractions, then one batch of index writes; jobs handled."""
    storage = Storage(settings.uploads_dir)
    handled = 0
    for job in await claim([JobKind.EXTRACT], EXTRACT_BATCH, worker):
        try:
            await _extract(settings, storage, job)
        except Exception as exc:
            log.exception("extraction job %s failed", job.id)
            await fail([job], repr(exc))
        handled += 1
    batch = await claim([JobKind.INDEX, JobKind.DELETE], INDEX_BATCH, worker)
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


async def drain(settings: Settings, *, worker: str | None = None) -> int:
    """Run jobs until none is runnable now; how many were handled (tests call this)."""
    worker = worker or worker_name()
    total = 0
    while handled := await run_once(settings, worker):
        total += handled
    await Job.filter(state=JobState.DONE, created_at__lt=datetime.now(UTC) - KEEP_DONE).delete()
    return total


@contextlib.contextmanager
def _leader_lock(settings: Settings) -> Iterator[bool]:
    """Whether this process is the one worker; with several server processes only one drains.

    An advisory ``flock`` is released by the kernel when its holder dies, so a surviving
    process takes over at its next poll.
    """
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    with (settings.index_dir / ".worker.lock").open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


async def run_worker(settings: Settings, *, poll_s: float = 1.0) -> None:
    """Drain forever, pausing ``poll_s`` when idle; a failing round is logged, not fatal.

    Only one process per index drains at a time (``kitlib serve --workers N`` starts N
    candidates, ``kitlib worker`` may run beside them); the others wait to take over.
    """
    while True:
        with _leader_lock(settings) as leader:
            if leader:
                await release_orphaned()
                await _drain_forever(settings, poll_s)
        await anyio.sleep(poll_s * 5)


async def drain_as_leader(settings: Settings) -> int | None:
    """``kitlib worker --once``: drain unless another worker holds the queue (then None)."""
    with _leader_lock(settings) as leader:
        if not leader:
            return None
        await release_orphaned()
        return await drain(settings)


async def release_orphaned() -> int:
    """Requeue the jobs a dead worker left running, at once rather than after the lease.

    Only the holder of the leader lock runs jobs, and the kernel released the lock when its
    previous holder died: so whoever takes the lock knows no living worker holds them. A job
    that was running during every one of its attempts (a file that kills the worker) fails.
    """
    await Job.filter(state=JobState.RUNNING, attempts__gte=MAX_ATTEMPTS).update(
        state=JobState.FAILED, locked_by="", last_error="the worker stopped during every attempt")
    released = await Job.filter(state=JobState.RUNNING).update(state=JobState.QUEUED,
                                                              locked_by="")
    if released:
        log.warning("requeued %d jobs left running by a worker that stopped", released)
    return int(released)


async def _drain_forever(settings: Settings, poll_s: float) -> None:
    worker = worker_name()
    while True:
        try:
            handled = await drain(settings, worker=worker)
        except Exception:
            log.exception("search worker round failed")
            handled = 0
        if not handled:
            await anyio.sleep(poll_s)
