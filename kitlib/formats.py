"""File types: one row per format saying how kitlib treats its files, and the lookups over them.

A row names an exact media type (``application/pdf``) or a family of them by prefix (``video/``,
``application/vnd.oasis.opendocument.``); an exact row wins over its family. The type looked up
is the one libmagic found in the bytes (``kitlib.storage.sniff_media_type``), never the client's.
The upload check, the extractor choice, the download's Content-Disposition, the ingest of
recordings and the page previews all read this table, so a new format is one new row here
(plus, to make it searchable, one extractor module in ``kitlib/extract/``).

This module imports nothing from kitlib: it sits at the bottom, beside settings and errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath

__all__ = [
    "EXTRACTABLE",
    "FORMATS",
    "Format",
    "Preview",
    "accepted",
    "find",
    "for_extraction",
    "for_suffix",
    "inline",
    "is_media",
    "is_mp4",
    "preview",
    "read_as",
    "stored_as",
]


class Preview(StrEnum):
    """How a resource page shows its first file above the download button."""

    PDF = "pdf"  # the browser's PDF viewer, in an iframe
    VIDEO = "video"
    AUDIO = "audio"
    IMAGE = "image"


@dataclass(frozen=True, slots=True)
class Format:
    """What kitlib does with the files of one media type (or one family of types)."""

    media_type: str  # exact, or a family prefix ending in "/" or "."
    label: str = ""  # how extraction errors name the format ("the file is not a valid PDF")
    suffixes: tuple[str, ...] = ()  # file-name endings, lower case; each names one row only
    # "module:function" in kitlib.extract that takes the text out; None: nothing to search.
    extractor: str | None = None
    accepted: bool = False  # may be uploaded (anything else is refused with 415)
    inline: bool = False  # downloads open in the browser; otherwise they are saved
    media: bool = False  # a recording: duration probed at ingest, played by <video>/<audio>
    mp4: bool = False  # an ISO base media file whose index ffmpeg moves to the front
    preview: Preview | None = None
    # libmagic calls Markdown and CSV plain text; these inert types are stored by the name.
    stored_by_suffix: bool = False
    # Endings under which a file libmagic calls text/plain (or could not tell) is read with
    # this row's extractor; the stored type stays (text/html, say, is not inert).
    read_by_suffix: tuple[str, ...] = ()

    @property
    def family(self) -> bool:
        """True for a row that covers every type starting with its media_type."""
        return self.media_type.endswith(("/", "."))


_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_ODF = "application/vnd.oasis.opendocument."


def _video(media_type: str, *suffixes: str, mp4: bool = False) -> Format:
    return Format(media_type, suffixes=suffixes, accepted=True, inline=True, media=True,
                  mp4=mp4, preview=Preview.VIDEO)


def _audio(media_type: str, *suffixes: str, mp4: bool = False) -> Format:
    return Format(media_type, suffixes=suffixes, accepted=True, inline=True, media=True,
                  mp4=mp4, preview=Preview.AUDIO)


def _image(media_type: str, *suffixes: str) -> Format:
    return Format(media_type, suffixes=suffixes, accepted=True, inline=True,
                  preview=Preview.IMAGE)


def _binary(media_type: str, *suffixes: str) -> Format:
    """Accepted and kept for download, but nothing in it is searched."""
    return Format(media_type, suffixes=suffixes, accepted=True)


# What a library of documents, slides, recordings and transcripts may hold. Anything else
# (executables, archives of unknown content, scripts) is refused at upload.
FORMATS: tuple[Format, ...] = (
    # Documents
    Format("application/pdf", "PDF", (".pdf",), "pdf:extract_pdf", accepted=True, inline=True,
           preview=Preview.PDF),
    Format("application/x-pdf", "PDF", (), "pdf:extract_pdf"),
    Format(_DOCX, "DOCX", (".docx",), "office:extract_docx", accepted=True),
    Format(_PPTX, "PPTX", (".pptx",), "office:extract_pptx", accepted=True),
    Format(_XLSX, "XLSX", (".xlsx",), "office:extract_xlsx", accepted=True),
    Format("application/vnd.openxmlformats-officedocument.", accepted=True),
    Format(_ODF + "text", "ODT", (".odt",), "office:extract_odf", accepted=True),
    Format(_ODF + "presentation", "ODP", (".odp",), "office:extract_odf", accepted=True),
    Format(_ODF + "spreadsheet", "ODS", (".ods",), "office:extract_odf", accepted=True),
    Format(_ODF, accepted=True),
    _binary("application/msword", ".doc"),
    _binary("application/vnd.ms-excel", ".xls"),
    _binary("application/vnd.ms-powerpoint", ".ppt"),
    _binary("application/x-ole-storage"),
    _binary("application/CDFV2"),  # libmagic's name for OLE2 files it cannot place
    _binary("application/rtf", ".rtf"),
    _binary("text/rtf"),
    _binary("application/zip", ".zip"),
    _binary("application/json", ".json"),
    _binary("application/xml", ".xml"),
    # Text
    Format("text/html", "HTML page", (".html", ".htm"), "text:extract_html", accepted=True,
           read_by_suffix=(".html", ".htm")),
    Format("application/xhtml+xml", "HTML page", (".xhtml",), "text:extract_html"),
    Format("text/markdown", "Markdown file", (".md", ".markdown"), "text:extract_markdown",
           accepted=True, stored_by_suffix=True, read_by_suffix=(".md",)),
    Format("text/x-markdown", "Markdown file", (), "text:extract_markdown", accepted=True),
    Format("text/plain", "text file", (".txt",), "text:extract_plain", accepted=True),
    Format("text/csv", "text file", (".csv",), "text:extract_plain", accepted=True,
           stored_by_suffix=True),
    Format("text/", accepted=True),
    # Transcripts
    Format("text/vtt", "WebVTT transcript", (".vtt",), "transcripts:extract_vtt", accepted=True,
           read_by_suffix=(".vtt",)),
    Format("application/x-subrip", "SRT transcript", (".srt",), "transcripts:extract_srt",
           accepted=True, read_by_suffix=(".srt",)),
    Format("text/srt", "SRT transcript", (), "transcripts:extract_srt", accepted=True),
    # Recordings
    _video("video/mp4", ".mp4", mp4=True),
    _video("video/quicktime", ".mov", mp4=True),
    _video("video/x-m4v", ".m4v", mp4=True),
    _video("video/webm", ".webm"),
    _video("video/"),
    _audio("audio/mp4", mp4=True),
    _audio("audio/x-m4a", ".m4a", mp4=True),
    _audio("audio/mpeg", ".mp3"),
    _audio("audio/"),
    # Images
    _image("image/png", ".png"),
    _image("image/jpeg", ".jpg", ".jpeg"),
    _image("image/gif", ".gif"),
    _image("image/webp", ".webp"),
    Format("image/", accepted=True),
)

_EXACT = {f.media_type: f for f in FORMATS if not f.family}
# Longest prefix first, so that a narrower family would win over a wider one.
_FAMILIES = sorted((f for f in FORMATS if f.family), key=lambda f: -len(f.media_type))
_SUFFIXES = {suffix: f for f in FORMATS for suffix in f.suffixes}
# A file libmagic calls plain text, or could not place, may be a transcript or a page.
_UNSURE = frozenset({"text/plain", "application/octet-stream"})

EXTRACTABLE = frozenset(f.media_type for f in FORMATS if f.extractor is not None)


def find(media_type: str) -> Format | None:
    """The row for a stored media type: its own, else its family's, else None."""
    exact = _EXACT.get(media_type)
    if exact is not None:
        return exact
    return next((f for f in _FAMILIES if media_type.startswith(f.media_type)), None)


def for_suffix(suffix: str) -> Format | None:
    """The row a file-name ending (".pdf") belongs to."""
    return _SUFFIXES.get(suffix.lower())


def for_extraction(media_type: str) -> Format | None:
    """The row with an extractor for a media type (parameters and case ignored), or None."""
    kind = media_type.split(";")[0].strip().lower()
    row = _EXACT.get(kind)
    return row if row is not None and row.extractor is not None else None


def accepted(media_type: str) -> bool:
    """May a file of this type be uploaded."""
    row = find(media_type)
    return row is not None and row.accepted


def inline(media_type: str) -> bool:
    """Is a download of this type shown in the browser (else saved as an attachment)."""
    row = find(media_type)
    return row is not None and row.inline


def is_media(media_type: str) -> bool:
    """Is this a recording (video or audio)."""
    row = find(media_type)
    return row is not None and row.media


def is_mp4(media_type: str) -> bool:
    """Is this an MP4-family recording, whose index can be moved to the front."""
    row = find(media_type)
    return row is not None and row.mp4


def preview(media_type: str) -> str | None:
    """How a resource page previews a file of this type ("pdf", "video", ...), or None."""
    row = find(media_type)
    return None if row is None or row.preview is None else row.preview.value


def stored_as(sniffed: str, filename: str) -> str:
    """The type to store: libmagic's verdict, refined by the name only between inert text types."""
    if sniffed == "text/plain":
        name = filename.lower()
        for row in FORMATS:
            if row.stored_by_suffix and name.endswith(row.suffixes):
                return row.media_type
    return sniffed


def read_as(stored: str, filename: str) -> str:
    """The type to extract a stored file as: transcripts and pages that libmagic took for text."""
    if stored in _UNSURE:
        suffix = PurePath(filename.lower()).suffix
        for row in FORMATS:
            if suffix in row.read_by_suffix:
                return row.media_type
    return stored
