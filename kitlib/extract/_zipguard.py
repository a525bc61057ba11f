"""Zip archives read as untrusted: every member size- and ratio-checked before it is inflated.

XML members are parsed with defusedxml (no DTD, no entities), so that office files cannot
expand into gigabytes or reach outside the archive.
"""

from __future__ import annotations

import xml.sax
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import ParseError
from xml.sax.handler import ContentHandler

from defusedxml import DefusedXmlException  # type: ignore[import-untyped, unused-ignore]
from defusedxml.ElementTree import fromstring  # type: ignore[import-untyped, unused-ignore]
from defusedxml.expatreader import DefusedExpatParser  # type: ignore[import-untyped, unused-ignore]

from kitlib.extract._base import MIB, ExtractionError

__all__ = ["SafeZip"]

_MAX_MEMBER_BYTES = 64 * MIB  # one XML part of an office file
_MAX_ARCHIVE_READ_BYTES = 256 * MIB  # all parts read from one office file
_MAX_RATIO = 100  # real office XML deflates 5-30x; DEFLATE's ceiling is ~1000x
_RATIO_FLOOR = 4 * MIB  # small parts may compress as much as they like
_MAX_ZIP_MEMBERS = 20_000


class SafeZip:
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

    def __enter__(self) -> SafeZip:
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
                f"{size / MIB:.0f} MB from {info.compress_size / 1024:.0f} kB"
            )
        if size > self.budget:
            raise ExtractionError(
                f"the {self.label} would unpack to more than {_MAX_ARCHIVE_READ_BYTES // MIB} MB"
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
