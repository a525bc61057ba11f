"""The outbox: jobs written in the transaction of each change, and their claim by a worker.

Every change to a resource writes a ``Job`` in the transaction of the change (``enqueue``),
so the index may lag the database but never misses a change. Workers claim jobs with one
compare-and-set ``UPDATE … WHERE state='queued'`` stamped with a claim token, which works the
same on SQLite and PostgreSQL: two workers never run the same job. A job left ``running`` by
a worker that died is taken again once its lease runs out. Imports ``models`` only.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from tortoise.expressions import F

from kitlib.models import Job, JobKind, JobState

LEASE = timedelta(minutes=15)  # longer than any extraction timeout we would set


MAX_ATTEMPTS = 5


def worker_name() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}"


async def enqueue(kind: JobKind, resource_ids: Iterable[int]) -> None:
    """Queue one job per resource; call it inside the transaction of the change."""
    now = datetime.now(UTC)
    jobs = [Job(kind=kind, resource_id=rid, run_after=now) for rid in sorted(set(resource_ids))]
    if jobs:
        await Job.bulk_create(jobs)


async def _retake_expired(now: datetime) -> None:
    cutoff = now - LEASE
    await Job.filter(state=JobState.RUNNING, locked_at__lt=cutoff,
                     attempts__gte=MAX_ATTEMPTS).update(
        state=JobState.FAILED, locked_by="", last_error="the worker stopped during every attempt")
    await Job.filter(state=JobState.RUNNING, locked_at__lt=cutoff).update(
        state=JobState.QUEUED, locked_by="")


async def claim(kinds: Sequence[JobKind], limit: int, worker: str) -> list[Job]:
    """Take up to ``limit`` runnable jobs for this worker; no other worker gets them."""
    now = datetime.now(UTC)
    await _retake_expired(now)
    rows = await Job.filter(state=JobState.QUEUED, run_after__lte=now, kind__in=list(kinds)) \
        .order_by("id").limit(limit).values("id")
    ids = [int(r["id"]) for r in rows]
    if not ids:
        return []
    token = f"{worker}:{uuid.uuid4().hex[:12]}"
    # The WHERE re-checks the state row by row: of two racing workers one updates, the
    # other matches nothing (PostgreSQL re-evaluates it after the first commit).
    await Job.filter(id__in=list(ids), state=JobState.QUEUED).update(
        state=JobState.RUNNING, locked_by=token, locked_at=now, attempts=F("attempts") + 1)
    return list(await Job.filter(locked_by=token, state=JobState.RUNNING).order_by("id"))


async def finish(jobs: Sequence[Job]) -> None:
    for job in jobs:
        await Job.filter(id=job.id, locked_by=job.locked_by).update(
            state=JobState.DONE, locked_by="", last_error="")


async def fail(jobs: Sequence[Job], error: str) -> None:
    """Put the jobs back with a growing delay, or mark them failed after MAX_ATTEMPTS."""
    now = datetime.now(UTC)
    for job in jobs:
        query = Job.filter(id=job.id, locked_by=job.locked_by)
        if job.attempts >= MAX_ATTEMPTS:
            await query.update(state=JobState.FAILED, locked_by="", last_error=error[:2000])
        else:
            await query.update(state=JobState.QUEUED, locked_by="", last_error=error[:2000],
                               run_after=now + timedelta(seconds=2 ** job.attempts))
