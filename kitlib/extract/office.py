"""DOCX, PPTX and XLSX (Office Open XML) and ODT, ODP and ODS (OpenDocument): text by SAX."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import AttributesNSImpl

from kitlib.extract._base import SPACES, Builder, ExtractionError
from kitlib.extract._zipguard import SafeZip

__all__ = ["extract_docx", "extract_odf", "extract_pptx", "extract_xlsx"]


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

    def __init__(self, out: Builder, rules: _Rules) -> None:
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
            self.line.append(SPACES.sub(" ", content) if self.rules.collapse_spaces else content)

    def flush(self) -> None:
        """End the current line."""
        if self.line:
            self.out.add("".join(self.line) + "\n")
            self.line.clear()


def extract_docx(path: Path, out: Builder, label: str) -> None:
    with SafeZip(path, "DOCX") as archive:
        handler = _MarkupText(out, _DOCX_RULES)
        if not archive.parse("word/document.xml", handler):
            raise ExtractionError("the file is not a valid DOCX (word/document.xml is missing)")
        for part in ("word/footnotes.xml", "word/endnotes.xml"):
            archive.parse(part, _MarkupText(out, _DOCX_RULES))


def _relationships(archive: SafeZip, part: str) -> dict[str, tuple[str, str]]:
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


def extract_pptx(path: Path, out: Builder, label: str) -> None:
    with SafeZip(path, "PPTX") as archive:
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


def extract_odf(path: Path, out: Builder, label: str) -> None:
    with SafeZip(path, label) as archive:
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


def extract_xlsx(path: Path, out: Builder, label: str) -> None:
    import openpyxl  # type: ignore[import-untyped, unused-ignore]

    with SafeZip(path, "XLSX") as archive:
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
