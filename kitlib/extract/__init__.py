"""Text out of uploaded files (the parsers and the capped child process in ``office``).

May import ``kitlib.settings``, ``kitlib.errors`` and ``kitlib.formats`` only.
"""

from __future__ import annotations

from kitlib.extract.office import (
    MAX_TEXT_CHARS,
    SUPPORTED_MEDIA_TYPES,
    Cue,
    Extracted,
    ExtractionError,
    extract,
    extract_safely,
)

__all__ = [
    "MAX_TEXT_CHARS",
    "SUPPORTED_MEDIA_TYPES",
    "Cue",
    "Extracted",
    "ExtractionError",
    "extract",
    "extract_safely",
]
