"""Plain text, Markdown and HTML: decoded by BOM, UTF-8, a declared charset, then cp1252."""

from __future__ import annotations

import codecs
import re
from html.parser import HTMLParser
from pathlib import Path

from kitlib.extract._base import SPACES, Builder

__all__ = ["decode", "extract_html", "extract_markdown", "extract_plain", "read_text"]


def _read_bytes(path: Path, out: Builder) -> tuple[bytes, bool]:
    """The bytes that can hold max_chars characters, and whether they are the whole file."""
    limit = out.max_chars * 4 + 4  # a character is at most four UTF-8 bytes, plus a BOM
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
    return data[:limit], len(data) <= limit


def read_text(path: Path, out: Builder) -> str:
    """Read and decode a text file: BOM first, then UTF-8, then cp1252 (Windows exports)."""
    data, complete = _read_bytes(path, out)
    return decode(data, complete=complete)


def decode(data: bytes, *, complete: bool, declared: str | None = None) -> str:
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


def extract_plain(path: Path, out: Builder, label: str) -> None:
    out.add(read_text(path, out))


_MD_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_MD_IMAGE = re.compile(r"!\[([^\]\n]{0,500})\]\([^)\n]{0,2000}\)")
_MD_LINK = re.compile(r"\[([^\]\n]{0,500})\]\([^)\n]{0,2000}\)")
_MD_PREFIX = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d{1,9}[.)]\s+)")
_MD_EMPHASIS = re.compile(r"\*\*|\*|`")


def extract_markdown(path: Path, out: Builder, label: str) -> None:
    for line in read_text(path, out).split("\n"):
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


class _HtmlText(HTMLParser):
    """Visible text of an HTML page, without script, style and template contents."""

    def __init__(self, out: Builder) -> None:
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
            self.out.add(SPACES.sub(" ", data))


def extract_html(path: Path, out: Builder, label: str) -> None:
    data, complete = _read_bytes(path, out)
    match = _HTML_CHARSET.search(data[:4096])
    declared = match.group(1).decode("ascii") if match else None
    text = decode(data, complete=complete, declared=declared)
    parser = _HtmlText(out)
    for start in range(0, len(text), 65536):
        parser.feed(text[start : start + 65536])
    parser.close()
