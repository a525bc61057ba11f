"""Recordings at ingest: faststart and duration, with ffmpeg and ffprobe.

A browser can start and seek an MP4 at once only if the file's index (the ``moov`` box)
comes before the media data (``mdat``); recorders and conferencing tools often write it
last, so the player has to fetch the whole file first. ffmpeg moves the index to the front
without re-encoding (``-c copy -movflags +faststart``). Both tools come from Debian's
ffmpeg package, which ``scripts/system-deps`` installs.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

_BOX_SCAN_LIMIT = 64  # top-level boxes read before giving up (a real MP4 has a handful)


class MediaError(Exception):
    """ffmpeg or ffprobe failed, timed out, or is not installed."""


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise MediaError(f"{name} is not installed (Debian package ffmpeg)")
    return found


def top_level_boxes(path: Path) -> list[str]:
    """The types of an ISO base media file's top-level boxes, in file order (ISO 14496-12)."""
    types: list[str] = []
    size_of_file = path.stat().st_size
    with path.open("rb") as fh:
        position = 0
        while position + 8 <= size_of_file and len(types) < _BOX_SCAN_LIMIT:
            fh.seek(position)
            size, kind = struct.unpack(">I4s", fh.read(8))
            if size == 1:  # a 64-bit size follows the type
                (size,) = struct.unpack(">Q", fh.read(8))
            elif size == 0:  # the box runs to the end of the file
                size = size_of_file - position
            if size < 8:
                break  # not an MP4 (or a corrupt one): leave it to ffmpeg, or as it is
            types.append(kind.decode("latin-1"))
            position += size
    return types


def needs_faststart(path: Path) -> bool:
    """True if the index (moov) comes after the media data (mdat)."""
    types = top_level_boxes(path)
    return "moov" in types and "mdat" in types and types.index("moov") > types.index("mdat")


def faststart(source: Path, target: Path, timeout: float) -> None:
    """Write ``source`` to ``target`` with its index first; same streams, no re-encoding."""
    _run([tool("ffmpeg"), "-nostdin", "-v", "error", "-y", "-i", str(source), "-map", "0",
          "-c", "copy", "-movflags", "+faststart", "-f", "mp4", str(target)], timeout)


def duration(path: Path, timeout: float) -> float | None:
    """The media's duration in seconds, or None if ffprobe cannot tell."""
    out = _run([tool("ffprobe"), "-v", "error", "-show_entries", "format=duration",
                "-of", "default=noprint_wrappers=1:nokey=1", str(path)], timeout)
    try:
        seconds = float(out.strip().splitlines()[0])
    except (ValueError, IndexError):
        return None
    return round(seconds, 3) if seconds > 0 else None


def _run(argv: list[str], timeout: float) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, timeout=timeout, check=False,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise MediaError(f"{Path(argv[0]).name} took longer than {timeout:.0f} s") from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["failed"]
        raise MediaError(f"{Path(argv[0]).name}: {reason[0][:300]}")
    return done.stdout.decode("utf-8", "replace")
