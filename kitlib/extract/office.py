"""Text out of uploaded files: one function per format behind `extract`; `extract_safely` caps it.

Every file is untrusted. XML is parsed with defusedxml (no DTD, no entities), zip members are
checked for their declared size and compression ratio before they are read, and `extract_safely`
runs the work in a child process with a memory limit (RLIMIT_AS) and a wall-clock timeout. The
module imports nothing from kitlib on purpose: the child runs this very file as a script, so it
never loads the web application.
"""

from __future__ import annotations

import codecs
import html
import json
import logging
import math
import os
import posixpath
import re
import signal
import subprocess
import sys
import tempfile
import threading
import unicodedata
import warnings
import xml.sax
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, time
from functools import partial
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import ParseError
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import AttributesNSImpl

from defusedxml import DefusedXmlException  # type: ignore[import-untyped, unused-ignore]
from defusedxml.ElementTree import fromstring  # type: ignore[import-untyped, unused-ignore]
from defusedxml.expatreader import DefusedExpatParser  # type: ignore[import-untyped, unused-ignore]

__all__ = [
    "MAX_TEXT_CHARS",
    "SUPPORTED_MEDIA_TYPES",
    "Cue",
    "Extracted",
    "ExtractionError",
    "extract",
    "extract_safely",
]

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 10_000_000
_MIB = 1024 * 1024
_MAX_MEMBER_BYTES = 64 * _MIB  # one XML part of an office file
_MAX_ARCHIVE_READ_BYTES = 256 * _MIB  # all parts read from one office file
_MAX_RATIO = 100  # real office XML deflates 5-30x; DEFLATE's ceiling is ~1000x
_RATIO_FLOOR = 4 * _MIB  # small parts may compress as much as they like
_MAX_ZIP_MEMBERS = 20_000


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


class _TextFull(Exception):
    """Raised inside a parser to stop it once the text cap is reached."""


@dataclass(slots=True)
class _Builder:
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
            raise _TextFull
        self.parts.append(text)
        self.size += len(text)

    def reset(self) -> None:
        """Forget everything collected so far (before a fallback parser starts over)."""
        self.parts.clear()
        self.size = 0
        self.cues.clear()
        self.pages = None


# --- text-like formats ----------------------------------------------------------------------------


def _read_bytes(path: Path, out: _Builder) -> tuple[bytes, bool]:
    """The bytes that can hold max_chars characters, and whether they are the whole file."""
    limit = out.max_chars * 4 + 4  # a character is at most four UTF-8 bytes, plus a BOM
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
    return data[:limit], len(data) <= limit


def _read_text(path: Path, out: _Builder) -> str:
    """Read and decode a text file: BOM first, then UTF-8, then cp1252 (Windows exports)."""
    data, complete = _read_bytes(path, out)
    return _decode(data, complete=complete)


def _decode(data: bytes, *, complete: bool, declared: str | None = None) -> str:
    """Decode bytes of unknown encoding, tolerating a cut at the end when not complete."""
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return codecs.getincrementaldecoder(codec)("replace").decode(data[len(bom) :], complete)
    try:
        return codecs.getincrementaldecoder("utf-8")("strict").decode(data, complete)
    except UnicodeDecodeError:
        pass
    if declared:
        try:
            return data.decode(declared, "replace")
        except LookupError:
            pass
    # cp1252 rather than Latin-1: Windows tools write ’ œ € as 0x92 0x9c 0x80.
    return data.decode("cp1252", "replace")


def _extract_plain(path: Path, out: _Builder) -> None:
    out.add(_read_text(path, out))


_MD_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_MD_IMAGE = re.compile(r"!\[([^\]\n]{0,500})\]\([^)\n]{0,2000}\)")
_MD_LINK = re.compile(r"\[([^\]\n]{0,500})\]\([^)\n]{0,2000}\)")
_MD_PREFIX = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d{1,9}[.)]\s+)")
_MD_EMPHASIS = re.compile(r"\*\*|\*|`")


def _extract_markdown(path: Path, out: _Builder) -> None:
    for line in _read_text(path, out).split("\n"):
        if _MD_FENCE.match(line):
            continue
        line = _MD_IMAGE.sub(r"\1", line)
        line = _MD_LINK.sub(r"\1", line)
        line = _MD_EMPHASIS.sub("", _MD_PREFIX.sub("", line))
        out.add(line + "\n")


_HTML_SKIP = frozenset({"script", "style", "template"})
_HTML_BLOCKS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption footer form h1 h2 h3 h4 h5 h6 "
    "header hr li main nav noscript ol p pre section table td th title tr ul".split()
)
_HTML_CHARSET = re.compile(rb"""<meta[^>]{0,200}charset\s*=\s*["']?([A-Za-z0-9_.:-]{1,40})""", re.I)
_SPACES = re.compile(r"\s+")


class _HtmlText(HTMLParser):
    """Visible text of an HTML page, without script, style and template contents."""

    def __init__(self, out: _Builder) -> None:
        super().__init__(convert_charrefs=True)
        self.out = out
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HTML_SKIP:
            self.skipping += 1
        elif tag in _HTML_BLOCKS:
            self.out.add("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HTML_SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _HTML_BLOCKS:
            self.out.add("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.add(_SPACES.sub(" ", data))


def _extract_html(path: Path, out: _Builder) -> None:
    data, complete = _read_bytes(path, out)
    match = _HTML_CHARSET.search(data[:4096])
    declared = match.group(1).decode("ascii") if match else None
    text = _decode(data, complete=complete, declared=declared)
    parser = _HtmlText(out)
    for start in range(0, len(text), 65536):
        parser.feed(text[start : start + 65536])
    parser.close()


# --- transcripts ----------------------------------------------------------------------------------

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


def _extract_cues(path: Path, out: _Builder, *, webvtt: bool) -> None:
    text = _read_text(path, out).replace("\r\n", "\n").replace("\r", "\n")
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


def _extract_vtt(path: Path, out: _Builder) -> None:
    _extract_cues(path, out, webvtt=True)


def _extract_srt(path: Path, out: _Builder) -> None:
    _extract_cues(path, out, webvtt=False)


# --- zip-based office formats ---------------------------------------------------------------------


class _SafeZip:
    """A zip archive whose members are size- and ratio-checked before any byte is inflated."""

    def __init__(self, path: Path, label: str) -> None:
        self.label = label
        self.budget = _MAX_ARCHIVE_READ_BYTES
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, EOFError, ValueError) as exc:
            with path.open("rb") as fh:
                magic = fh.read(8)
            if magic == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
                # Office wraps password-protected files (and the old .doc/.ppt) in OLE2, not zip.
                raise ExtractionError(
                    f"the {label} is encrypted with a password, or is an old binary Office file"
                ) from exc
            raise ExtractionError(f"the file is not a valid {label} (damaged archive)") from exc
        count = len(self.zip.infolist())
        if count > _MAX_ZIP_MEMBERS:
            self.zip.close()
            raise ExtractionError(f"the {label} holds {count} parts, far more than a real document")

    def __enter__(self) -> _SafeZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.zip.close()

    def check(self, name: str) -> bool:
        """Check a member before reading it; False when it does not exist."""
        try:
            info = self.zip.getinfo(name)
        except KeyError:
            return False
        size = info.file_size
        too_dense = size > _RATIO_FLOOR and size > _MAX_RATIO * max(info.compress_size, 1)
        if size > _MAX_MEMBER_BYTES or too_dense:
            raise ExtractionError(
                f"the {self.label} looks like a zip bomb: its part {name} would unpack to "
                f"{size / _MIB:.0f} MB from {info.compress_size / 1024:.0f} kB"
            )
        if size > self.budget:
            raise ExtractionError(
                f"the {self.label} would unpack to more than {_MAX_ARCHIVE_READ_BYTES // _MIB} MB"
            )
        self.budget -= size
        return True

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes] | None]:
        """Open a checked member (None if absent), turning zip damage into ExtractionError."""
        if not self.check(name):
            yield None
            return
        try:
            with self.zip.open(name) as stream:
                yield stream
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
            reason = f"the file is not a valid {self.label} (damaged archive)"
            raise ExtractionError(reason) from exc
        except RuntimeError as exc:  # zipfile's "encrypted, password required"
            raise ExtractionError(f"the {self.label} is encrypted with a password") from exc

    def read(self, name: str) -> bytes | None:
        """Read a checked member whole (small parts only)."""
        with self.open(name) as stream:
            return None if stream is None else stream.read()

    def parse(self, name: str, handler: ContentHandler) -> bool:
        """Stream one XML member through a SAX handler; False when the member does not exist."""
        parser = DefusedExpatParser(namespaceHandling=1, forbid_dtd=True)
        parser.setContentHandler(handler)
        with self.open(name) as stream:
            if stream is None:
                return False
            try:
                parser.parse(stream)
            except DefusedXmlException as exc:
                raise ExtractionError(
                    f"the {self.label} contains XML entity or DOCTYPE declarations, "
                    "which are refused for safety"
                ) from exc
            except xml.sax.SAXParseException as exc:
                raise ExtractionError(
                    f"the file is not a valid {self.label} (damaged XML in {name})"
                ) from exc
        return True

    def tree(self, name: str) -> Any:
        """Parse a small XML member (relationships, manifests) into an ElementTree element."""
        data = self.read(name)
        if data is None:
            return None
        try:
            return fromstring(data, forbid_dtd=True)
        except DefusedXmlException as exc:
            raise ExtractionError(
                f"the {self.label} contains XML entity or DOCTYPE declarations, "
                "which are refused for safety"
            ) from exc
        except ParseError as exc:
            raise ExtractionError(
                f"the file is not a valid {self.label} (damaged XML in {name})"
            ) from exc


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_P = "http://schemas.openxmlformats.org/presentationml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"

_Name = tuple[str | None, str]


@dataclass(frozen=True)
class _Rules:
    """Which XML elements make paragraphs, carry text, insert characters or are skipped."""

    paragraphs: frozenset[_Name]
    text: frozenset[_Name] | None  # None: all character data inside a paragraph counts (ODF)
    inserts: dict[_Name, str]
    skip: frozenset[_Name]
    collapse_spaces: bool = False


# mc:Fallback repeats the mc:Choice content (text boxes), w:tabs holds tab stops, not tabs.
_DOCX_RULES = _Rules(
    paragraphs=frozenset({(_W, "p")}),
    text=frozenset({(_W, "t")}),
    inserts={(_W, "tab"): "\t", (_W, "br"): "\n", (_W, "cr"): "\n", (_W, "noBreakHyphen"): "-"},
    skip=frozenset({(_MC, "Fallback"), (_W, "tabs")}),
)
# a:fld holds slide numbers and dates that PowerPoint recomputes: noise for search.
_PPTX_RULES = _Rules(
    paragraphs=frozenset({(_A, "p")}),
    text=frozenset({(_A, "t")}),
    inserts={(_A, "br"): "\n"},
    skip=frozenset({(_MC, "Fallback"), (_A, "fld")}),
)
# Annotations and tracked deletions are not part of the visible text (ODF 1.3 §5.5, §5.6).
_ODF_RULES = _Rules(
    paragraphs=frozenset({(_TEXT, "p"), (_TEXT, "h")}),
    text=None,
    inserts={(_TEXT, "tab"): "\t", (_TEXT, "line-break"): "\n"},
    skip=frozenset({(_OFFICE, "annotation"), (_TEXT, "tracked-changes"), (_TEXT, "note-citation")}),
    collapse_spaces=True,
)


class _MarkupText(ContentHandler):
    """SAX handler that turns office XML into lines of text following a _Rules."""

    def __init__(self, out: _Builder, rules: _Rules) -> None:
        super().__init__()
        self.out = out
        self.rules = rules
        self.line: list[str] = []
        self.in_paragraph = 0
        self.in_text = 0
        self.skipping = 0
        self.pages = 0

    def startElementNS(self, name: _Name, qname: str | None, attrs: AttributesNSImpl) -> None:
        if self.skipping or name in self.rules.skip:
            self.skipping += 1
            return
        if name in self.rules.paragraphs:
            self.in_paragraph += 1
        elif self.rules.text is not None and name in self.rules.text:
            self.in_text += 1
        elif name in self.rules.inserts:
            self.line.append(self.rules.inserts[name])
        elif name == (_TEXT, "s"):  # ODF run of spaces, text:c of them
            count = attrs.get((_TEXT, "c"), "1")
            self.line.append(" " * min(int(count) if count.isdigit() else 1, 100))
        elif name == (_DRAW, "page"):
            self.pages += 1

    def endElementNS(self, name: _Name, qname: str | None) -> None:
        if self.skipping:
            self.skipping -= 1
        elif name in self.rules.paragraphs:
            self.in_paragraph -= 1
            self.flush()
        elif self.rules.text is not None and name in self.rules.text:
            self.in_text -= 1

    def characters(self, content: str) -> None:
        if self.skipping:
            return
        if self.in_text or (self.rules.text is None and self.in_paragraph):
            self.line.append(_SPACES.sub(" ", content) if self.rules.collapse_spaces else content)

    def flush(self) -> None:
        """End the current line."""
        if self.line:
            self.out.add("".join(self.line) + "\n")
            self.line.clear()


def _extract_docx(path: Path, out: _Builder) -> None:
    with _SafeZip(path, "DOCX") as archive:
        handler = _MarkupText(out, _DOCX_RULES)
        if not archive.parse("word/document.xml", handler):
            raise ExtractionError("the file is not a valid DOCX (word/document.xml is missing)")
        for part in ("word/footnotes.xml", "word/endnotes.xml"):
            archive.parse(part, _MarkupText(out, _DOCX_RULES))


def _relationships(archive: _SafeZip, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, member path) for one OPC part."""
    folder, base = posixpath.split(part)
    root = archive.tree(posixpath.join(folder, "_rels", base + ".rels"))
    found: dict[str, tuple[str, str]] = {}
    for rel in [] if root is None else root.iter(f"{{{_PKG_REL}}}Relationship"):
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External" or not target:
            continue
        resolved = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        found[rel.get("Id", "")] = (rel.get("Type", ""), posixpath.normpath(resolved))
    return found


def _extract_pptx(path: Path, out: _Builder) -> None:
    with _SafeZip(path, "PPTX") as archive:
        root = archive.tree("ppt/presentation.xml")
        if root is None:
            raise ExtractionError("the file is not a valid PPTX (ppt/presentation.xml is missing)")
        rels = _relationships(archive, "ppt/presentation.xml")
        slide_ids = root.iter(f"{{{_P}}}sldId")
        slides = [rels[rid][1] for rid in (s.get(f"{{{_R}}}id") for s in slide_ids) if rid in rels]
        out.pages = len(slides)
        for slide in slides:
            archive.parse(slide, _MarkupText(out, _PPTX_RULES))
            for kind, target in _relationships(archive, slide).values():
                if kind.endswith("/notesSlide"):
                    archive.parse(target, _MarkupText(out, _PPTX_RULES))
            out.add("\n")


def _extract_odf(path: Path, out: _Builder, label: str) -> None:
    with _SafeZip(path, label) as archive:
        handler = _MarkupText(out, _ODF_RULES)
        if not archive.parse("content.xml", handler):
            raise ExtractionError(f"the file is not a valid {label} (content.xml is missing)")
        out.pages = handler.pages or None


def _cell_text(value: object) -> str:
    """A spreadsheet value as search text: integral floats without .0, dates as ISO."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime) and value.time() == time():
        return value.date().isoformat()
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _extract_xlsx(path: Path, out: _Builder) -> None:
    import openpyxl  # type: ignore[import-untyped, unused-ignore]

    with _SafeZip(path, "XLSX") as archive:
        # openpyxl reads these parts itself: vet them all before it does.
        for name in archive.zip.namelist():
            if name.endswith((".xml", ".rels")):
                archive.check(name)
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    try:
        for sheet in workbook.worksheets:
            out.add(f"{sheet.title}\n")
            # The declared <dimension> may be forged; without it openpyxl pads nothing.
            sheet.reset_dimensions()
            for row in sheet.iter_rows(values_only=True):
                cells = [_cell_text(v) for v in row if v is not None and v != ""]
                if cells:
                    out.add("\t".join(cells) + "\n")
            out.add("\n")
    finally:
        workbook.close()


# --- PDF ------------------------------------------------------------------------------------------


# PDFium is not thread-safe, not even across documents (pypdfium2 docs, "Incompatibility with
# Threading"): one call at a time in this process.
_PDFIUM_LOCK = threading.Lock()


def _extract_pdf(path: Path, out: _Builder) -> None:
    import pypdfium2 as pdfium  # type: ignore[import-untyped, unused-ignore]

    with _PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(path)
        except pdfium.PdfiumError as exc:
            if exc.err_code == pdfium.raw.FPDF_ERR_PASSWORD:
                raise ExtractionError("the PDF is encrypted with a password") from exc
            logger.info("PDFium could not open %s (%s); trying pypdf", path, exc)
            document = None
        try:
            if document is not None:
                _pdfium_pages(document, out)
                return
        except pdfium.PdfiumError as exc:
            logger.info("PDFium failed on a page of %s (%s); trying pypdf", path, exc)
            out.reset()
        finally:
            if document is not None:
                document.close()
    _extract_pdf_pypdf(path, out)


def _pdfium_pages(document: Any, out: _Builder) -> None:
    """Text of every page of an open PDFium document."""
    out.pages = len(document)
    for index in range(len(document)):
        page = document[index]
        try:
            textpage = page.get_textpage()
            try:
                out.add(textpage.get_text_range() + "\n\n")
            finally:
                textpage.close()
        finally:
            page.close()


def _extract_pdf_pypdf(path: Path, out: _Builder) -> None:
    """Pure-Python fallback for the PDFs PDFium refuses."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PyPdfError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractionError("the PDF is encrypted with a password")
        out.pages = len(reader.pages)
        for page in reader.pages:
            out.add(page.extract_text() + "\n\n")
    except DependencyError as exc:
        raise ExtractionError("the PDF uses an encryption method this server cannot read") from exc
    except PyPdfError as exc:
        raise ExtractionError("the file is not a valid PDF (damaged or incomplete)") from exc


# --- entry points ---------------------------------------------------------------------------------

_DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_PPTX_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
_XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_ODF_PREFIX = "application/vnd.oasis.opendocument."

_EXTRACTORS: dict[str, tuple[str, Callable[[Path, _Builder], None]]] = {
    "application/pdf": ("PDF", _extract_pdf),
    "application/x-pdf": ("PDF", _extract_pdf),
    _DOCX_TYPE: ("DOCX", _extract_docx),
    _PPTX_TYPE: ("PPTX", _extract_pptx),
    _XLSX_TYPE: ("XLSX", _extract_xlsx),
    _ODF_PREFIX + "text": ("ODT", partial(_extract_odf, label="ODT")),
    _ODF_PREFIX + "presentation": ("ODP", partial(_extract_odf, label="ODP")),
    _ODF_PREFIX + "spreadsheet": ("ODS", partial(_extract_odf, label="ODS")),
    "text/html": ("HTML page", _extract_html),
    "application/xhtml+xml": ("HTML page", _extract_html),
    "text/markdown": ("Markdown file", _extract_markdown),
    "text/x-markdown": ("Markdown file", _extract_markdown),
    "text/plain": ("text file", _extract_plain),
    "text/csv": ("text file", _extract_plain),
    "text/vtt": ("WebVTT transcript", _extract_vtt),
    "application/x-subrip": ("SRT transcript", _extract_srt),
    "text/srt": ("SRT transcript", _extract_srt),
}
SUPPORTED_MEDIA_TYPES = frozenset(_EXTRACTORS)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_FR_WORDS = frozenset(
    "le la les des du un une et est dans pour que qui sur avec pas au aux ce cette sont nous vous "
    "par plus".split()
)
_EN_WORDS = frozenset(
    "the and of to is in that for with are this be by from it was not you have or".split()
)


def _clean(text: str) -> str:
    """Normalise newlines, drop control characters, compose accents (NFC) and trim blank runs."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n").replace("\xa0", " ")
    # NFC so that a PDF's "e" + combining acute matches a typed "é" in search.
    text = unicodedata.normalize("NFC", _CONTROL.sub("", text))
    text = "\n".join(line.strip(" \t") for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", re.sub(r" {2,}", " ", text)).strip()


def _guess_language(text: str) -> str | None:
    """'fr' or 'en' from common function words, or None when unsure."""
    words = re.findall(r"[a-zà-ÿœ]+", text[:100_000].lower())
    french = sum(word in _FR_WORDS for word in words)
    english = sum(word in _EN_WORDS for word in words)
    if french + english < 3:
        return None
    if french >= 2 * english:
        return "fr"
    if english >= 2 * french:
        return "en"
    return None


def extract(path: Path, media_type: str, *, max_chars: int = MAX_TEXT_CHARS) -> Extracted:
    """Extract the text of a file of the given media type, in this process (see extract_safely)."""
    kind = media_type.split(";")[0].strip().lower()
    if kind not in _EXTRACTORS:
        raise ExtractionError(f"unsupported file type {kind or '(none)'}")
    label, function = _EXTRACTORS[kind]
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ExtractionError("the file could not be found on the server") from exc
    if size == 0:
        raise ExtractionError("the file is empty")
    out = _Builder(max_chars)
    truncated = False
    try:
        with warnings.catch_warnings():
            # Libraries warn about the oddities of real files; the text is what matters here.
            warnings.simplefilter("ignore")
            function(path, out)
    except _TextFull:
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
    return Extracted(text, cues, out.pages, _guess_language(text), truncated)


# --- the capped child process ---------------------------------------------------------------------

# The child runs this file as a script (-P: its folder is not put on sys.path, so kitlib/*.py cannot
# shadow the standard library), so extraction never imports kitlib or the web application.
_WORKER_COMMAND = [sys.executable, "-P", str(Path(__file__).resolve())]


def _memory_reason(memory_mb: int) -> str:
    return f"extraction needed more than {memory_mb} MB of memory"


def _cap_child(pid: int, timeout_s: float, memory_mb: int) -> None:
    """Apply the limits to the child from outside, before it receives any work."""
    import resource

    memory = memory_mb * _MIB
    cpu = math.ceil(timeout_s) + 1
    prlimit = getattr(resource, "prlimit", None)
    if prlimit is None:  # not Linux: the worker applies the same limits to itself
        return
    try:
        prlimit(pid, resource.RLIMIT_AS, (memory, memory))
        prlimit(pid, resource.RLIMIT_CPU, (cpu, cpu + 1))
        prlimit(pid, resource.RLIMIT_CORE, (0, 0))
    except ProcessLookupError:
        pass  # already gone; its exit status tells what happened


def _kill(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def extract_safely(
    path: Path,
    media_type: str,
    timeout_s: float = 60,
    memory_mb: int = 512,
    *,
    max_chars: int = MAX_TEXT_CHARS,
) -> Extracted:
    """Extract in a child process killed past timeout_s seconds or memory_mb MB of address space."""
    if timeout_s <= 0 or memory_mb <= 0:
        raise ValueError("timeout_s and memory_mb must be positive")
    request = json.dumps(
        {
            "path": str(Path(path).resolve()),
            "media_type": media_type,
            "max_chars": max_chars,
            "timeout_s": timeout_s,
            "memory_mb": memory_mb,
        }
    ).encode()
    with tempfile.TemporaryFile() as stderr:
        # A new session gives the child its own process group: the kill reaches whatever it forks.
        process = subprocess.Popen(
            _WORKER_COMMAND,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            start_new_session=True,
        )
        try:
            _cap_child(process.pid, timeout_s, memory_mb)
            answer, _ = process.communicate(request, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill(process)
            process.communicate()
            raise ExtractionError(f"extraction took longer than {timeout_s:g} s") from None
        except BaseException:
            _kill(process)
            process.communicate()
            raise
        stderr.seek(max(0, stderr.seek(0, os.SEEK_END) - 4000))
        errors = stderr.read().decode("utf-8", "replace")
    return _answer(process.returncode, answer, errors, timeout_s, memory_mb)


def _answer(
    returncode: int, answer: bytes, errors: str, timeout_s: float, memory_mb: int
) -> Extracted:
    """Turn the child's exit status and JSON answer into a result or an ExtractionError."""
    if returncode == 0:
        try:
            data = json.loads(answer)
        except ValueError:
            data = None
        if isinstance(data, dict) and data.get("ok"):
            result = data["result"]
            result["cues"] = [Cue(**cue) for cue in result["cues"]]
            return Extracted(**result)
        if isinstance(data, dict) and isinstance(data.get("reason"), str):
            raise ExtractionError(data["reason"])
    logger.warning("extraction child exited with %s: %s", returncode, errors[-2000:])
    if "MemoryError" in errors:
        raise ExtractionError(_memory_reason(memory_mb))
    if returncode == -signal.SIGXCPU:
        raise ExtractionError(f"extraction took longer than {timeout_s:g} s of processor time")
    if returncode == -signal.SIGKILL:  # not ours (we raise on timeout): the kernel's OOM killer
        raise ExtractionError("the extraction was stopped by the system, probably short of memory")
    if returncode < 0:
        name = signal.Signals(-returncode).name
        raise ExtractionError(
            f"the extraction crashed ({name}): the file is damaged, or it needed more than "
            f"{memory_mb} MB of memory"
        )
    raise ExtractionError(f"the extraction failed unexpectedly (exit status {returncode})")


def _worker_main() -> None:
    """Child side of extract_safely: one JSON request on stdin, one JSON answer on a private fd."""
    import resource

    # Stray prints from C libraries must not corrupt the answer: fd 1 now goes to stderr.
    answer_fd = os.dup(1)
    os.dup2(2, 1)
    # pypdf logs a warning per damaged object: a hostile PDF could fill the disk behind stderr.
    logging.disable(logging.WARNING)
    request = json.loads(sys.stdin.buffer.read(1_000_000))
    memory_mb = int(request["memory_mb"])
    oom = json.dumps({"ok": False, "reason": _memory_reason(memory_mb)}).encode()
    memory = memory_mb * _MIB
    cpu = math.ceil(float(request["timeout_s"])) + 1
    # Set from outside already on Linux (race-free); repeated for platforms without prlimit.
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    try:
        result = extract(
            Path(request["path"]), request["media_type"], max_chars=int(request["max_chars"])
        )
        payload = json.dumps({"ok": True, "result": asdict(result)}).encode()
    except ExtractionError as exc:
        payload = json.dumps({"ok": False, "reason": exc.reason}).encode()
    except MemoryError:
        payload = oom
    with os.fdopen(answer_fd, "wb") as answer:
        answer.write(payload)


if __name__ == "__main__":
    _worker_main()
