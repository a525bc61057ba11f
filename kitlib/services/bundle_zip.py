"""The ZIP side of bundles: member names, ZIP32 or ZIP64, the exact size, and the bytes.

stream-zip writes every structure; nothing here knows a ZIP header's layout. The size is
found by running stream-zip over the same members with no data: every header and
central-directory record is as long as the real one (sizes and CRCs are fixed-width), so
the archive is that many bytes plus the members' sizes.
"""

from __future__ import annotations

import unicodedata
import zlib
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from stat import S_IFREG
from typing import Any

import stream_zip as stream_zip_module
from isal import isal_zlib
from stream_zip import NO_COMPRESSION_32, NO_COMPRESSION_64, MemberFile, Method, stream_zip

CHUNK = 4 * 1024 * 1024  # see views/bundles.py
FILE_MODE = S_IFREG | 0o644
ZIP32_MAX_BYTES = 0xFFFFFFFF
ZIP32_MAX_ENTRIES = 65_000  # ZIP32 counts entries in 16 bits; stay clear of 65,535
MAX_NAME_BYTES = 255  # the longest file name most filesystems take
# MS-DOS times start in 1980; stream-zip's Unix time field is a signed 32-bit number.
EARLIEST = datetime(1980, 1, 1, tzinfo=UTC)
LATEST = datetime(2037, 12, 31, 23, 59, 58, tzinfo=UTC)
# Separators would make directories (or climb out of one); the rest is refused by Windows.
_REPLACED = frozenset('/\\:*?"<>|')


@dataclass(frozen=True)
class Member:
    """One ZIP entry: a stored file read from ``path``, or generated ``data``."""

    name: str
    size: int
    crc32: int | None
    modified: datetime
    path: Path | None = None
    data: bytes | None = None

    @classmethod
    def of_bytes(cls, name: str, data: bytes, modified: datetime) -> Member:
        return cls(name, len(data), isal_zlib.crc32(data), modified, data=data)

    def with_crc32(self, value: int) -> Member:
        return replace(self, crc32=value)


class _FastCrc32Zlib:
    """zlib as stream-zip sees it, with ISA-L's CRC-32: the same numbers, 10 times faster."""

    crc32 = staticmethod(isal_zlib.crc32)

    def __getattr__(self, name: str) -> Any:
        return getattr(zlib, name)


def use_fast_crc32() -> None:
    """Make stream-zip check members' CRC-32 with ISA-L (idempotent).

    stream-zip recomputes every stored member's CRC-32 as it streams it, with zlib's
    (about 3 GiB/s here, a third of a core at download speed: bench/bundle.py). It looks
    ``zlib`` up in its module at each call, so this swaps that name; the check stays.
    """
    if not isinstance(getattr(stream_zip_module, "zlib", None), _FastCrc32Zlib):
        setattr(stream_zip_module, "zlib", _FastCrc32Zlib())  # noqa: B010


def zip_time(moment: datetime) -> datetime:
    """A member's time: UTC, whole seconds, within what both ZIP time fields can hold."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return min(max(moment.replace(microsecond=0), EARLIEST), LATEST)


def clean_name(filename: str, fallback: str) -> str:
    """A name safe to extract anywhere: NFC (accents survive), no directories, no controls."""
    name = unicodedata.normalize("NFC", filename)
    name = "".join("_" if c in _REPLACED else c for c in name
                   if unicodedata.category(c) not in ("Cc", "Cf"))
    # Leading dots hide a file (or make ".."); trailing dots and spaces vanish on Windows.
    name = name.strip(" .")
    while len(name.encode()) > MAX_NAME_BYTES:
        stem, dot, ext = name.rpartition(".")
        name = f"{stem[:-1]}{dot}{ext}" if stem and len(ext) < 16 else name[:-1]
    return name or fallback


def unique_names(filenames: Sequence[str], reserved: Iterable[str] = ()) -> list[str]:
    """Cleaned names, made unique as ``name (2).ext``; case-insensitive, since the archive
    is often unpacked on a filesystem that is."""
    taken = {r.casefold() for r in reserved}
    out = []
    for i, filename in enumerate(filenames, 1):
        name = clean_name(filename, f"file-{i}")
        stem, dot, ext = name.rpartition(".")
        if not stem:
            stem, dot, ext = name, "", ""
        candidate, n = name, 1
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{stem} ({n}){dot}{ext}"
        taken.add(candidate.casefold())
        out.append(candidate)
    return out


def needs_zip64(members: Sequence[Member]) -> bool:
    """ZIP32 holds archives under 4 GiB with fewer than 65,535 entries; past that, ZIP64."""
    return len(members) >= ZIP32_MAX_ENTRIES or archive_size(members, False) > ZIP32_MAX_BYTES


def _method(zip64: bool, size: int, crc: int) -> Method:
    return NO_COMPRESSION_64(size, crc) if zip64 else NO_COMPRESSION_32(size, crc)


def archive_size(members: Sequence[Member], zip64: bool) -> int:
    """The exact byte size of the archive, from a data-less run of stream-zip."""
    empty: list[MemberFile] = [(m.name, m.modified, FILE_MODE, _method(zip64, 0, 0), ())
                               for m in members]
    overhead = sum(len(chunk) for chunk in stream_zip(empty, chunk_size=CHUNK))
    return overhead + sum(m.size for m in members)


def _read(path: Path, opened: list[Any], chunk_size: int) -> Iterator[bytes]:
    # Reads of stream-zip's own chunk size pass through its re-chunking without a copy.
    with path.open("rb", buffering=0) as handle:
        opened.append(handle)
        while chunk := handle.read(chunk_size):
            yield chunk


def _files(members: Sequence[Member], zip64: bool, opened: list[Any],
           chunk_size: int) -> Iterator[MemberFile]:
    for m in members:
        if m.crc32 is None:
            raise ValueError(f"{m.name}: CRC-32 unknown (see bundles.with_crcs)")
        data: Iterable[bytes] = (m.data,) if m.data is not None else \
            _read(m.path, opened, chunk_size) if m.path is not None else ()
        yield m.name, m.modified, FILE_MODE, _method(zip64, m.size, m.crc32), data


def stream(members: Sequence[Member], zip64: bool, start: int = 0, end: int | None = None,
           chunk_size: int = CHUNK) -> Generator[bytes, None, None]:
    """Bytes ``start`` to ``end`` (exclusive) of the archive; blocking, for a worker thread.

    The archive is regenerated from its first byte and the bytes before ``start`` dropped:
    stream-zip checks each member's CRC-32, so the files before a resumed range are read
    again (docs/benchmarks.md measures it). Generation stops at ``end``; closing this
    generator early (a client gone) closes the file being read.
    """
    use_fast_crc32()
    opened: list[Any] = []
    zipped = stream_zip(_files(members, zip64, opened, chunk_size), chunk_size=chunk_size)
    position = 0
    try:
        for chunk in zipped:
            n = len(chunk)
            if position + n > start:
                lo = max(start - position, 0)
                hi = n if end is None else min(end - position, n)
                yield chunk if lo == 0 and hi == n else chunk[lo:hi]
            position += n
            if end is not None and position >= end:
                break
    finally:
        close = getattr(zipped, "close", None)
        if close is not None:
            close()
        for handle in opened:
            handle.close()
