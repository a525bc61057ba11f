"""WebVTT captions from a transcript's cues, for the <track> of a recording."""

from __future__ import annotations

from collections.abc import Sequence

# A last cue shows this long when nothing follows it.
LAST_CUE_SECONDS = 5.0


def _clock(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _plain(text: str) -> str:
    # "-->" would end a cue's timing line early and "<" opens a tag (W3C WebVTT §4.1).
    return text.replace("-->", "→").replace("&", "&amp;").replace("<", "&lt;").strip()


def webvtt(cues: Sequence[Sequence[object]], end: float | None = None) -> str:
    """A WebVTT file: each cue lasts until the next one starts."""
    lines = ["WEBVTT", ""]
    starts = [float(str(c[0])) for c in cues]
    for index, cue in enumerate(cues):
        start = starts[index]
        stop = starts[index + 1] if index + 1 < len(starts) else (
            max(end, start + 0.5) if end else start + LAST_CUE_SECONDS)
        text = _plain(str(cue[1]))
        if not text or stop <= start:
            continue
        lines += [f"{_clock(start)} --> {_clock(stop)}", text, ""]
    return "\n".join(lines)
