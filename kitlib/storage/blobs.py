"""uploads/: streaming writes, content-addressed names and safe path resolution.

A blob is written once to ``uploads/tmp/<random>.part`` (by writer.py) while its sha256
(and the CRC-32 that ZIP bundles need, see services/bundles.py) is computed, then fsynced
and renamed to ``uploads/<aa>/<bb>/<sha256>``. The rename is atomic, so a reader or a
crash never sees half a file under its final name, and the same bytes are kept once.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiofiles
import aiofiles.os
import magic
from anyio import to_thread
from isal import isal_zlib

from kitlib.errors import InsufficientStorage, PayloadTooLarge
from kitlib.storage.writer import BlobWriter

log = logging.getLogger("kitlib")

CHUNK = 1024 * 1024
SNIFF_BYTES = 64 * 1024
MAX_PIECES = 512  # below IOV_MAX (1024 on Linux)
_KEY_CHARS = frozenset("0123456789abcdef/")


@dataclass(frozen=True)
class Blob:
    sha256: str
    size: int
    media_type: str
    key: str
    created: bool  # False when the same bytes were already stored
    crc32: int = 0
    # When the bytes were already stored: this upload's own copy, kept until its row is
    # committed (``settle``), in case the stored one is being collected meanwhile.
    spare: Path | None = None


def sniff_media_type(head: bytes) -> str:
    """The media type from a file's first bytes, never from the client's word."""
    if not head:
        return "application/x-empty"
    detected = str(magic.from_buffer(head, mime=True))
    if detected.startswith("text/") or detected == "application/octet-stream":
        # libmagic calls subtitles plain text; players and extractors need the real type.
        stripped = head.lstrip(b"\xef\xbb\xbf").lstrip()
        if stripped.startswith(b"WEBVTT"):
            return "text/vtt"
        first = stripped.split(b"\n", 2)
        if len(first) > 1 and first[0].strip().isdigit() and b"-->" in first[1]:
            return "application/x-subrip"
    return detected


# Older than this, a temporary file has no writer left: the longest upload takes minutes.
STALE_AFTER = 6 * 3600


class Storage:
    """The uploads folder: nothing outside it is ever read or written through this class."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.tmp = self.root / "tmp"
        self._lock = asyncio.Lock()

    def ensure(self) -> None:
        self.tmp.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def key_for(sha256: str) -> str:
        return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def path_for(self, key: str) -> Path:
        """Resolve a storage key, refusing anything that could leave the uploads folder."""
        if not key or not set(key) <= _KEY_CHARS or ".." in key or key.startswith("/"):
            raise ValueError(f"invalid storage key {key!r}")
        # The key's alphabet (hex digits and '/', no '..') already keeps it inside the root,
        # so no realpath per request; the commonpath check stays as a second lock.
        path = self.root / key
        if os.path.commonpath([self.root, path]) != str(self.root):
            raise ValueError(f"storage key {key!r} leaves the uploads folder")
        return path

    async def save_stream(self, chunks: AsyncIterator[bytes], max_size: int) -> Blob:
        """Write a stream to its content-addressed place; the .part goes on any failure."""
        self.ensure()
        part = self.tmp / f"{secrets.token_hex(16)}.part"
        writer: BlobWriter | None = None
        try:
            writer = BlobWriter(part)
            size, head = await _feed(writer, chunks, max_size)
            await writer.finish()
            sha256 = writer.digests.sha256.hexdigest()
            key = self.key_for(sha256)
            final = self.path_for(key)
            created = not final.exists()
            if created:
                final.parent.mkdir(parents=True, exist_ok=True)
                part.replace(final)
                _fsync_dir(final.parent)
            return Blob(sha256, size, sniff_media_type(head), key, created,
                        writer.digests.crc32, spare=None if created else part)
        except BaseException as exc:
            # Cancelled by a client disconnect, refused for size, or a disk error: no leftovers.
            # Only synchronous steps before the wait, so a second cancellation cannot skip them.
            if writer is not None:
                writer.abort()
            with contextlib.suppress(FileNotFoundError):
                part.unlink()
            if writer is not None:
                await writer.wait_closed()
            if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise InsufficientStorage("The library's storage is full: the upload was not "
                                          "kept. Staff can free space and try again.") from exc
            raise

    async def remove(self, key: str) -> None:
        await _remove_quietly(self.path_for(key))

    @contextlib.asynccontextmanager
    async def _blob_lock(self) -> AsyncIterator[None]:
        """Serialises collecting a blob with settling a new copy of it, across coroutines
        (an asyncio lock) and across ``--workers`` processes (flock on the tmp/ folder
        itself, so no lock file ever shows among the uploads)."""
        async with self._lock:
            self.ensure()
            fd = os.open(self.tmp, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                await to_thread.run_sync(fcntl.flock, fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # releases the flock

    async def remove_unless(self, key: str, referenced: Callable[[], Awaitable[bool]]) -> None:
        """Remove a blob unless ``referenced()`` says a row uses it, as one step against
        ``settle``: a new row for the same bytes either is seen here or restores the blob."""
        async with self._blob_lock():
            if not await referenced():
                await self.remove(key)

    async def settle(self, blob: Blob) -> None:
        """After the blob's row is committed: put the spare copy in place if the stored one
        was collected meanwhile, else drop it."""
        if blob.spare is None:
            return
        async with self._blob_lock():
            final = self.path_for(blob.key)
            if not final.exists() and blob.spare.exists():
                final.parent.mkdir(parents=True, exist_ok=True)
                blob.spare.replace(final)
                _fsync_dir(final.parent)
                log.warning("blob %s was collected while a new upload of it committed; "
                            "restored from that upload", blob.sha256)
            else:
                await _remove_quietly(blob.spare)

    async def discard(self, blob: Blob) -> None:
        """Drop the spare copy of an upload whose rows were never committed."""
        if blob.spare is not None:
            await _remove_quietly(blob.spare)

    def stale_parts(self, older_than: float) -> list[Path]:
        """Leftover .part files from a crash, older than ``older_than`` seconds."""
        if not self.tmp.is_dir():
            return []
        limit = time.time() - older_than
        found = []
        for path in self.tmp.iterdir():
            # .part: an upload in progress; .faststart: a recording being remuxed.
            with contextlib.suppress(OSError):
                if path.suffix in (".part", ".faststart") and path.stat().st_mtime < limit:
                    found.append(path)
        return found

    def sweep(self, older_than: float = STALE_AFTER) -> int:
        """Remove what crashed uploads and remuxes left in tmp/; how many files went."""
        removed = 0
        for path in self.stale_parts(older_than):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed += 1
        return removed

    def all_keys(self) -> set[str]:
        """Every blob key present on disk (for consistency checks)."""
        keys: set[str] = set()
        for path in self.root.glob("??/??/*"):
            if path.is_file() and len(path.name) == 64:
                keys.add(str(path.relative_to(self.root)))
        return keys


async def file_chunks(path: Path) -> AsyncIterator[bytes]:
    """A local file in CHUNK-sized reads, for ``save_stream``."""
    async with aiofiles.open(path, "rb") as handle:
        while chunk := await handle.read(CHUNK):
            yield chunk


async def _feed(writer: BlobWriter, chunks: AsyncIterator[bytes],
                max_size: int) -> tuple[int, bytes]:
    """Queue the stream to the writer in batches; its size and first bytes (for sniffing)."""
    size = 0
    head = b""
    batch: list[bytes] = []
    batched = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > max_size:
            raise PayloadTooLarge(f"the file is larger than the {max_size:,} "
                                  "bytes this library accepts")
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
        batch.append(chunk)
        batched += len(chunk)
        # About a MiB per batch, and never more pieces than one writev takes.
        if batched >= CHUNK or len(batch) >= MAX_PIECES:
            await writer.write(batch)
            batch, batched = [], 0
    if batch:
        await writer.write(batch)
    return size, head


def file_crc32(path: Path) -> int:
    """The CRC-32 of a stored file, for rows saved before the column existed (blocking)."""
    crc = 0
    with path.open("rb", buffering=0) as handle:
        while chunk := handle.read(CHUNK):
            crc = isal_zlib.crc32(chunk, crc)
    return crc


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


async def _remove_quietly(path: Path) -> None:
    try:
        await aiofiles.os.remove(path)
    except FileNotFoundError:
        pass
