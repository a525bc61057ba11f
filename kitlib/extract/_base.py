"""What every extractor shares: the result types, the error, and the capped text builder."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_TEXT_CHARS = 10_000_000
MIB = 1024 * 1024
SPACES = re.compile(r"\s+")

__all__ = [
    "MAX_TEXT_CHARS",
    "MIB",
    "SPACES",
    "Builder",
    "Cue",
    "Extracted",
    "ExtractionError",
    "TextFull",
]


@dataclass(frozen=True, slots=True)
class Cue:
    """One timed cue of a transcript; start and end in seconds."""

    start: float
    end: float
    text: str
    speaker: str | None = None
    # A WebVTT cue identifier that reads as a heading ("Introduction", "Q&A") marks a chapter.
    title: str | None = None


@dataclass(slots=True)
class Extracted:
    """Text of a file, with transcript cues and page count when the format has them."""

    text: str
    cues: list[Cue] = field(default_factory=list)
    pages: int | None = None
    language_hint: str | None = None
    truncated: bool = False


class ExtractionError(Exception):
    """Text could not be taken out of a file; `reason` says why in words staff understand."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TextFull(Exception):
    """Raised inside a parser to stop it once the text cap is reached."""


@dataclass(slots=True)
class Builder:
    """Collects text up to a cap, plus cues and page count, while a format function runs."""

    max_chars: int
    parts: list[str] = field(default_factory=list)
    size: int = 0
    cues: list[Cue] = field(default_factory=list)
    pages: int | None = None

    def add(self, text: str) -> None:
        """Append text, or keep what fits and stop the parser."""
        room = self.max_chars - self.size
        if len(text) > room:
            self.parts.append(text[:room])
            self.size = self.max_chars
            raise TextFull
        self.parts.append(text)
        self.size += len(text)

    def reset(self) -> None:
        """Forget everything collected so far (before a fallback parser starts over)."""
        self.parts.clear()
        self.size = 0
        self.cues.clear()
        self.pages = None
