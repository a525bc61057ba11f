"""Text out of uploaded files: one module per format family, run capped in a child process.

Owns the parsers (``pdf``, ``office`` for DOCX/PPTX/XLSX/ODF, ``text`` for plain text,
Markdown and HTML, ``transcripts`` for WebVTT and SRT), the zip guard (``_zipguard``), the
language guess (``_lang``) and the sandbox (``_process`` starts ``python -P -m
kitlib.extract._sandbox`` with a memory limit and a timeout). Which function reads which media
type is written in ``kitlib.formats``: a row names "module:function" here.

Every file is untrusted. XML is parsed with defusedxml (no DTD, no entities), zip members are
checked for their declared size and compression ratio before they are read, and
``extract_safely`` runs the work in a child with RLIMIT_AS and a wall-clock timeout.

May import ``kitlib.settings``, ``kitlib.errors`` and ``kitlib.formats`` only: never the
database, the search index or the web application, which the child must not load.
"""

from __future__ import annotations

from kitlib.extract._base import MAX_TEXT_CHARS, Cue, Extracted, ExtractionError
from kitlib.extract._process import extract_safely
from kitlib.extract._registry import SUPPORTED_MEDIA_TYPES, extract

__all__ = [
    "MAX_TEXT_CHARS",
    "SUPPORTED_MEDIA_TYPES",
    "Cue",
    "Extracted",
    "ExtractionError",
    "extract",
    "extract_safely",
]
