"""Storage.save_stream through the writer thread: what is stored, and what a failure leaves."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import threading
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kitlib.errors import InsufficientStorage, PayloadTooLarge
from kitlib.storage import Storage
from kitlib.storage import writer as blob_writer

pytestmark = pytest.mark.anyio


async def pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i:i + size]
        if i % (64 * size) == 0:
            await asyncio.sleep(0)  # let the writer thread run, as a network would


def leftovers(storage: Storage) -> list[Path]:
    return sorted(p for p in storage.root.rglob("*") if p.is_file())


@pytest.mark.parametrize("piece", [1, 7, 65536, 3 * 1024 * 1024 + 1])
async def test_bytes_hash_and_crc_match_whatever_the_piece_size(tmp_path, piece):
    # One-byte pieces make batches of MAX_PIECES entries (the writev limit), big ones a
    # single piece larger than a batch; both must store the stream unchanged.
    data = os.urandom(300_000 if piece < 100 else 9 * 1024 * 1024 + 5)
    storage = Storage(tmp_path)
    blob = await storage.save_stream(pieces(data, piece), max_size=len(data))
    stored = storage.path_for(blob.key).read_bytes()
    assert stored == data
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert blob.crc32 == zlib.crc32(data)
    assert blob.size == len(data)
    assert not list(storage.tmp.iterdir())


async def test_a_disk_error_mid_upload_is_raised_and_leaves_no_part(tmp_path, monkeypatch):
    written = []
    real = blob_writer._write_all

    def failing(fd, batch):
        if len(written) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(sum(map(len, batch)))
        real(fd, batch)

    monkeypatch.setattr(blob_writer, "_write_all", failing)
    storage = Storage(tmp_path)
    with pytest.raises(InsufficientStorage, match="storage is full"):
        await storage.save_stream(pieces(os.urandom(20 * 1024 * 1024), 65536), 1 << 30)
    assert leftovers(storage) == []


async def test_cleanup_survives_a_second_cancellation(tmp_path):
    # anyio cancels again at every await inside a cancelled scope: the .part must still go.
    storage = Storage(tmp_path)

    async def endless() -> AsyncIterator[bytes]:
        while True:
            yield os.urandom(65536)
            await asyncio.sleep(0)

    task = asyncio.create_task(storage.save_stream(endless(), 1 << 40))
    await asyncio.sleep(0.1)
    task.cancel()
    await asyncio.sleep(0)
    task.cancel()  # lands on the cleanup's wait
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(100):
        if not leftovers(storage):
            break
        await asyncio.sleep(0.01)
    assert leftovers(storage) == []


async def test_too_large_stops_the_writer_and_leaves_nothing(tmp_path):
    storage = Storage(tmp_path)
    with pytest.raises(PayloadTooLarge):
        await storage.save_stream(pieces(os.urandom(6 * 1024 * 1024), 65536), 5 * 1024 * 1024)
    assert leftovers(storage) == []


async def test_a_cancelled_upload_leaves_nothing_and_frees_its_thread(tmp_path):
    storage = Storage(tmp_path)
    started = asyncio.Event()

    async def endless() -> AsyncIterator[bytes]:
        while True:
            yield os.urandom(65536)
            started.set()
            await asyncio.sleep(0)

    task = asyncio.create_task(storage.save_stream(endless(), 1 << 40))
    await started.wait()
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert leftovers(storage) == []
    # The threads have let go of the file; they may take a moment more to return.
    for _ in range(100):
        if not [t for t in threading.enumerate() if t.name.startswith("kitlib-blob")]:
            break
        await asyncio.sleep(0.01)
    assert not [t for t in threading.enumerate() if t.name.startswith("kitlib-blob")]
