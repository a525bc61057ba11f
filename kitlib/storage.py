"""uploads/: streaming writes, content-addressed names and safe path resolution.

A blob is written once to ``uploads/tmp/<random>.part`` while its sha256 (and the CRC-32 that
ZIP bundles need, see services/bundles.py) is computed, then
fsynced and renamed to ``uploads/<aa>/<bb>/<sha256>``. The rename is atomic, so a reader or a
crash never sees half a file under its final name, and the same bytes are kept once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiofiles
import aiofiles.os
import magic
from anyio import to_thread
from isal import isal_zlib

from kitlib.errors import PayloadTooLarge

CHUNK = 1024 * 1024
SNIFF_BYTES = 64 * 1024
_KEY_CHARS = frozenset("0123456789abcdef/")


@dataclass(frozen=True)
class Blob:
    sha256: str
    size: int
    media_type: str
    key: str
    created: bool  # False when the same bytes were already stored
    crc32: int = 0


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
        hasher = Digests()
        size = 0
        head = b""
        buffer = bytearray()
        # Double buffering: while one MiB is written and hashed on worker threads, the next
        # one is read from the network. At most two buffers are alive, so memory stays flat.
        pending: asyncio.Future[tuple[int, None]] | None = None
        try:
            async with aiofiles.open(part, "wb") as out:
                try:
                    async for chunk in chunks:
                        size += len(chunk)
                        if size > max_size:
                            raise PayloadTooLarge(f"the file is larger than the {max_size:,} "
                                                  "bytes this library accepts")
                        if len(head) < SNIFF_BYTES:
                            head += chunk[: SNIFF_BYTES - len(head)]
                        buffer += chunk
                        if len(buffer) >= CHUNK:
                            if pending is not None:
                                await pending
                            pending = _write_and_hash(out, hasher, bytes(buffer))
                            buffer.clear()
                    if pending is not None:
                        await pending
                        pending = None
                    if buffer:
                        await _write_and_hash(out, hasher, bytes(buffer))
                finally:
                    if pending is not None:
                        # Let the in-flight write finish before the file is closed and removed.
                        await asyncio.shield(asyncio.gather(pending, return_exceptions=True))
                await out.flush()
                await to_thread.run_sync(os.fsync, out.fileno())
            sha256 = hasher.sha256.hexdigest()
            key = self.key_for(sha256)
            final = self.path_for(key)
            created = not final.exists()
            if created:
                final.parent.mkdir(parents=True, exist_ok=True)
                part.replace(final)
                _fsync_dir(final.parent)
            else:
                part.unlink()
            return Blob(sha256, size, sniff_media_type(head), key, created, hasher.crc32)
        except BaseException:
            # Cancelled by a client disconnect, refused for size, or a disk error: no leftovers.
            await asyncio.shield(_remove_quietly(part))
            raise

    async def remove(self, key: str) -> None:
        await _remove_quietly(self.path_for(key))

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


class Digests:
    """sha256 and CRC-32 of one stream, updated together on the hashing thread (ISA-L's
    CRC-32 is ten times zlib's speed, so it adds little to the sha256)."""

    def __init__(self) -> None:
        self.sha256 = hashlib.sha256()
        self.crc32 = 0

    def update(self, data: bytes) -> None:
        self.sha256.update(data)
        self.crc32 = isal_zlib.crc32(data, self.crc32)


def file_crc32(path: Path) -> int:
    """The CRC-32 of a stored file, for rows saved before the column existed (blocking)."""
    crc = 0
    with path.open("rb", buffering=0) as handle:
        while chunk := handle.read(CHUNK):
            crc = isal_zlib.crc32(chunk, crc)
    return crc


def _write_and_hash(out: aiofiles.threadpool.binary.AsyncBufferedIOBase,
                    hasher: Digests, data: bytes) -> asyncio.Future[tuple[int, None]]:
    # hashlib releases the GIL for large buffers: hash on a worker thread while aiofiles
    # writes on another, so the two overlap on a 2-core machine.
    return asyncio.gather(out.write(data), to_thread.run_sync(hasher.update, data))


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
