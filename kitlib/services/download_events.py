"""Download events, written in batches: who fetched which file, how many bytes, complete or not.

Kept apart from the serving code (downloads.py): the events feed the statistics
(services/stats.py) and the search index's download counts, never the bytes sent.
"""

from __future__ import annotations

import asyncio
import logging
import time

from kitlib.jobs import queue as jobs
from kitlib.models import DownloadEvent, JobKind

log = logging.getLogger("kitlib")


class DownloadRecorder:
    """Download events, written in batches.

    A video player issues a range request for every seek; one INSERT and commit per
    request made the database the bottleneck of concurrent range reads (bench/download.py).
    Events wait at most ``interval`` seconds; a crash loses at most that much statistics,
    never a byte of content.
    """

    def __init__(self, interval: float = 1.0, max_pending: int = 500,
                 reindex_every: float = 60.0) -> None:
        self.interval = interval
        self.max_pending = max_pending
        self.reindex_every = reindex_every
        self._pending: list[DownloadEvent] = []
        self._task: asyncio.Task[None] | None = None
        # Resources whose download count changed, queued for the index at most once a
        # minute each: sorting by downloads follows usage without an index commit per click.
        self._counted: set[int] = set()
        self._queued_at = 0.0

    def record(self, event: DownloadEvent) -> None:
        self._pending.append(event)
        if len(self._pending) >= self.max_pending:
            self._start(delay=0)
        elif self._task is None or self._task.done():
            self._start(delay=self.interval)

    def _start(self, delay: float) -> None:
        async def later() -> None:
            await asyncio.sleep(delay)
            await self.flush()

        if self._task is None or self._task.done() or delay == 0:
            self._task = asyncio.get_running_loop().create_task(later())

    async def flush(self, *, final: bool = False) -> None:
        events, self._pending = self._pending, []
        if not events and not (final and self._counted):
            return
        try:
            if events:
                await DownloadEvent.bulk_create(events)
        except Exception:  # statistics must never take a download down with them
            log.exception("could not record %d download events", len(events))
            return
        self._counted.update(e.resource_id for e in events if e.complete)  # type: ignore[attr-defined]
        now = time.monotonic()
        if self._counted and (final or now - self._queued_at >= self.reindex_every):
            counted, self._counted, self._queued_at = self._counted, set(), now
            try:
                await jobs.enqueue(JobKind.INDEX, counted)
            except Exception:
                log.exception("could not queue download counts for the search index")

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        await self.flush(final=True)
