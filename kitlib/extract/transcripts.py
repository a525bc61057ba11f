"""WebVTT and SRT transcripts: timed cues, speakers from <v> tags, chapters from cue identifiers."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from pathlib import Path

from kitlib.extract._base import Builder, Cue
from kitlib.extract.text import read_text

__all__ = ["extract_srt", "extract_vtt"]


_TIMESTAMP = re.compile(r"(?:(\d{1,4}):)?(\d{1,2}):(\d{2})[.,](\d{1,3})")
_TIMING = re.compile(r"^\s*([\d:.,]+)\s*-->\s*([\d:.,]+)")
_BLOCK_SPLIT = re.compile(r"\n[ \t]*\n")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?[ \t]+([^>\n]{1,200})>")
_TAG = re.compile(r"<[^>\n]{0,500}>")
_ASS_OVERRIDE = re.compile(r"\{\\[^}\n]{0,200}\}")
# Identifiers tools generate (SRT numbers, "cue-12", "c3", UUIDs) are not chapter titles.
_GENERATED_ID = re.compile(r"[A-Za-z]{0,8}[-_ .]?\d+|[0-9a-fA-F-]{16,}")


def _timestamp(value: str) -> float | None:
    """Seconds from a WebVTT (00:12:34.500 or 12:34.500) or SRT (00:12:34,500) timestamp."""
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        return None
    hours, minutes, seconds, fraction = match.groups()
    if int(minutes) > 59 or int(seconds) > 59:
        return None
    millis = ((int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)) * 1000
    # Whole milliseconds first, so 00:12:34.500 gives exactly 754.5.
    return (millis + int(fraction.ljust(3, "0"))) / 1000


def _cue(timing: str, payload: list[str]) -> Cue | None:
    """A cue from its timing line and text lines, or None when it is broken."""
    match = _TIMING.match(timing)
    if match is None:
        return None
    start, end = _timestamp(match.group(1)), _timestamp(match.group(2))
    if start is None or end is None or end < start:
        return None
    raw = "\n".join(payload)
    voice = _VOICE.search(raw)
    text = html.unescape(_ASS_OVERRIDE.sub("", _TAG.sub("", raw)))
    text = " ".join(line.strip() for line in text.split("\n") if line.strip())
    if not text:
        return None
    return Cue(start, end, text, voice.group(1).strip() if voice else None)


def _extract_cues(path: Path, out: Builder, *, webvtt: bool) -> None:
    text = read_text(path, out).replace("\r\n", "\n").replace("\r", "\n")
    blocks = _BLOCK_SPLIT.split(text)
    if webvtt and blocks and re.match(r"WEBVTT(?:[ \t\n]|$)", blocks[0]):
        blocks = blocks[1:]  # the header block may carry metadata lines, never cues
    speaker: str | None = None
    for block in blocks:
        lines = block.strip("\n").split("\n")
        head = lines[0]
        ident = None
        if "-->" in head:
            timing, payload = head, lines[1:]
        elif len(lines) > 1 and "-->" in lines[1]:
            timing, payload = lines[1], lines[2:]  # the first line is a cue identifier / SRT number
            ident = " ".join(head.split())[:200]
        else:
            continue  # NOTE, STYLE, REGION blocks and broken cues (WebVTT §6.1 skips them too)
        cue = _cue(timing, payload)
        if cue is None:
            continue
        if webvtt and ident and not _GENERATED_ID.fullmatch(ident):
            cue = replace(cue, title=ident)
        prefix = f"{cue.speaker}: " if cue.speaker and cue.speaker != speaker else ""
        speaker = cue.speaker or speaker
        out.add(prefix + cue.text + "\n")
        out.cues.append(cue)


def extract_vtt(path: Path, out: Builder, label: str) -> None:
    _extract_cues(path, out, webvtt=True)


def extract_srt(path: Path, out: Builder, label: str) -> None:
    _extract_cues(path, out, webvtt=False)
