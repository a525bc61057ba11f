"""The extractor of each format, as kitlib.formats names it, run with the text cap and cleaning.

A format's row names "module:function" in this package; the module is imported the first time
a file of that format is read, so a new format needs no change here.
"""

from __future__ import annotations

import importlib
import logging
import re
import unicodedata
import warnings
from collections.abc import Callable
from pathlib import Path

from kitlib import formats
from kitlib.extract._base import MAX_TEXT_CHARS, Builder, Cue, Extracted, ExtractionError, TextFull
from kitlib.extract._lang import guess_language

__all__ = ["SUPPORTED_MEDIA_TYPES", "extract"]

logger = logging.getLogger("kitlib.extract")

# (path, builder, label): the label names the format in error messages ("the ODS is encrypted").
Extractor = Callable[[Path, Builder, str], None]

SUPPORTED_MEDIA_TYPES = formats.EXTRACTABLE

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _function(name: str) -> Extractor:
    """The function a format row names as "module:function"."""
    module, _, function = name.partition(":")
    found: Extractor = getattr(importlib.import_module(f"kitlib.extract.{module}"), function)
    return found


def _clean(text: str) -> str:
    """Normalise newlines, drop control characters, compose accents (NFC) and trim blank runs."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n").replace("\xa0", " ")
    # NFC so that a PDF's "e" + combining acute matches a typed "é" in search.
    text = unicodedata.normalize("NFC", _CONTROL.sub("", text))
    text = "\n".join(line.strip(" \t") for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", re.sub(r" {2,}", " ", text)).strip()


def extract(path: Path, media_type: str, *, max_chars: int = MAX_TEXT_CHARS) -> Extracted:
    """Extract the text of a file of the given media type, in this process (see extract_safely)."""
    kind = media_type.split(";")[0].strip().lower()
    row = formats.for_extraction(kind)
    if row is None or row.extractor is None:
        raise ExtractionError(f"unsupported file type {kind or '(none)'}")
    label, function = row.label, _function(row.extractor)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ExtractionError("the file could not be found on the server") from exc
    if size == 0:
        raise ExtractionError("the file is empty")
    out = Builder(max_chars)
    truncated = False
    try:
        with warnings.catch_warnings():
            # Libraries warn about the oddities of real files; the text is what matters here.
            warnings.simplefilter("ignore")
            function(path, out, label)
    except TextFull:
        truncated = True
    except (ExtractionError, MemoryError):
        raise
    except RecursionError as exc:
        raise ExtractionError(f"the {label} is nested too deeply to be read") from exc
    except Exception as exc:
        # Parsers of untrusted input fail in many ways; callers need one error type and a reason.
        logger.info("extracting %s as %s failed", path, kind, exc_info=True)
        raise ExtractionError(f"the file is not a valid {label} or it is damaged") from exc
    text = _clean("".join(out.parts))
    cues = [Cue(c.start, c.end, _clean(c.text), c.speaker, c.title) for c in out.cues]
    return Extracted(text, cues, out.pages, guess_language(text), truncated)
