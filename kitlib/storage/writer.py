"""One upload's bytes to disk: worker threads write and hash while the loop receives.

The event loop only gathers the request's pieces (uvicorn hands them over 64 KiB at a
time) into batches of about a MiB and queues them. Per upload, one thread writes each
batch with one ``writev`` while another hashes it (sha256 and CRC-32); every
``FLUSH_EVERY`` bytes an ``fdatasync`` starts on a third, so the disk writes back during
the upload instead of all at the final fsync. The queue holds at most ``DEPTH`` batches:
memory stays flat, and a disk slower than the network slows the client down instead of
buffering. bench/upload.py measures it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import queue
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from isal import isal_zlib

DEPTH = 8  # batches queued ahead of the writer: 8 MiB at most
FLUSH_EVERY = 64 * 1024 * 1024


class Digests:
    """sha256 and CRC-32 of one stream (ISA-L's CRC-32 is ten times zlib's speed, so it
    adds little to the sha256)."""

    def __init__(self) -> None:
        self.sha256 = hashlib.sha256()
        self.crc32 = 0

    def update(self, data: bytes) -> None:
        self.sha256.update(data)
        self.crc32 = isal_zlib.crc32(data, self.crc32)


class BlobWriter:
    """Writes batches to a new file on its own thread, in order.

    The thread owns the file: it closes it once the last batch is fsynced, and on any other
    outcome (an error, ``abort``) it also removes it, so nothing the event loop does (or a
    second cancellation while it cleans up) can leave the descriptor open or the file behind.
    ``write`` waits only while ``DEPTH`` batches are queued; ``finish`` waits for the fsync.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.digests = Digests()
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        self._loop = asyncio.get_running_loop()
        self._room = asyncio.Semaphore(DEPTH)
        self._batches: queue.SimpleQueue[Sequence[bytes] | None] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._stopped = False
        self._done: asyncio.Future[None] = self._loop.create_future()
        self._thread = threading.Thread(target=self._run, name="kitlib-blob-writer",
                                        daemon=True)
        self._thread.start()

    async def write(self, batch: Sequence[bytes]) -> None:
        self._raise_if_failed()
        await self._room.acquire()
        self._raise_if_failed()
        self._batches.put(batch)

    async def finish(self) -> None:
        """Every batch written, hashed and fsynced, the file closed; raises the writer's
        error if it had one."""
        self._batches.put(None)
        await asyncio.shield(self._done)
        self._raise_if_failed()

    def abort(self) -> None:
        """Stop after the batch being written; the thread then closes and removes the file."""
        self._stopped = True
        self._batches.put(None)  # wakes the thread if it waits; the flag says why

    async def wait_closed(self) -> None:
        await asyncio.shield(self._done)

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def _call_loop(self, callback: Callable[[], object]) -> None:
        try:
            self._loop.call_soon_threadsafe(callback)
        except RuntimeError:
            pass  # the loop is closed (shutdown): nobody waits any more

    def _run(self) -> None:
        flusher: threading.Thread | None = None
        hasher = _Hasher(self.digests)
        unflushed = 0
        complete = False
        try:
            while True:
                batch = self._batches.get()
                if self._stopped:
                    return  # batches still queued are dropped with the file
                if batch is None:
                    if flusher is not None:
                        flusher.join()
                    os.fsync(self._fd)
                    complete = True
                    return
                # Hashing and writing a MiB cost about the same here; side by side on two
                # threads (both release the GIL), a batch takes the longer of the two.
                hasher.start(batch)
                try:
                    _write_all(self._fd, batch)
                finally:
                    hasher.wait()
                self._call_loop(self._room.release)
                unflushed += sum(len(piece) for piece in batch)
                if unflushed >= FLUSH_EVERY and (flusher is None or not flusher.is_alive()):
                    # Start the writeback of what is written so far; the final fsync then has
                    # only the tail left. A failure here shows again at that fsync.
                    flusher = threading.Thread(target=_datasync_quietly, args=(self._fd,),
                                               name="kitlib-blob-flush", daemon=True)
                    flusher.start()
                    unflushed = 0
        except BaseException as exc:  # disk full, I/O error: reported to the request
            self._error = exc
            # Free any waiting write() so it sees the error instead of waiting for room.
            self._call_loop(self._room.release)
        finally:
            hasher.stop()
            if flusher is not None:
                flusher.join()
            os.close(self._fd)
            if not complete:
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()
            self._call_loop(lambda: _resolve(self._done))


class _Hasher:
    """A thread that updates the digests with one batch at a time, in order."""

    def __init__(self, digests: Digests) -> None:
        self.digests = digests
        self._todo: queue.SimpleQueue[Sequence[bytes] | None] = queue.SimpleQueue()
        self._done = threading.Semaphore(0)
        self._thread = threading.Thread(target=self._run, name="kitlib-blob-hash", daemon=True)
        self._thread.start()

    def start(self, batch: Sequence[bytes]) -> None:
        self._todo.put(batch)

    def wait(self) -> None:
        self._done.acquire()

    def stop(self) -> None:
        self._todo.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (batch := self._todo.get()) is not None:
            try:
                for piece in batch:
                    self.digests.update(piece)
            finally:
                self._done.release()


def _write_all(fd: int, batch: Sequence[bytes]) -> None:
    views = [memoryview(piece) for piece in batch if piece]
    while views:
        written = os.writev(fd, views)
        while views and written >= len(views[0]):
            written -= len(views[0])
            views.pop(0)
        if views and written:
            views[0] = views[0][written:]


def _datasync_quietly(fd: int) -> None:
    try:
        os.fdatasync(fd)
    except OSError:
        pass


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
