"""PDF: PDFium first (fast, faithful layout), pypdf for the files PDFium refuses."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from kitlib.extract._base import Builder, ExtractionError

__all__ = ["extract_pdf"]

logger = logging.getLogger("kitlib.extract")


# PDFium is not thread-safe, not even across documents (pypdfium2 docs, "Incompatibility with
# Threading"): one call at a time in this process.
_PDFIUM_LOCK = threading.Lock()


def extract_pdf(path: Path, out: Builder, label: str) -> None:
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


def _pdfium_pages(document: Any, out: Builder) -> None:
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


def _extract_pdf_pypdf(path: Path, out: Builder) -> None:
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
