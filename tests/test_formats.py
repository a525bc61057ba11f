"""The table of file types: what may be uploaded, what is searched, shown, played or saved."""

from __future__ import annotations

import gzip
import io
import struct
import zipfile
import zlib
from collections import Counter
from pathlib import Path

import pytest

from kitlib import formats
from kitlib.extract import SUPPORTED_MEDIA_TYPES, extract
from kitlib.extract._registry import _function

DOCS = Path(__file__).parent / "fixtures" / "docs"
PDF = b"%PDF-1.4\n% kitlib formats test\n" + b"0123456789" * 500

# Accepted and offered for download, but deliberately not searched: old binary Office files,
# RTF and generic containers have no extractor (yet).
DOWNLOAD_ONLY = {
    "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
    "application/x-ole-storage", "application/CDFV2", "application/rtf", "text/rtf",
    "application/zip", "application/json", "application/xml",
}

# One real file per extractor family (tests/fixtures/make_fixtures.py makes them).
SAMPLES = {
    "application/pdf": "en_gowning_guide.pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
        "fr_protocole_nettoyage.docx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation":
        "fr_qualite_air.pptx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "adherents.xlsx",
    "application/vnd.oasis.opendocument.text": "charte_accueil.odt",
    "application/vnd.oasis.opendocument.presentation": "economie_circulaire.odp",
    "text/html": "accueil.html",
    "text/markdown": "guide_webinaires.md",
    "text/plain": "notes_utf8.txt",
    "text/vtt": "webinaire.vtt",
    "application/x-subrip": "reunion_windows.srt",
}


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("lisez-moi.txt", "Bonjour")
    return buffer.getvalue()


# -- the table itself -----------------------------------------------------------------------


def test_every_accepted_type_is_searched_played_shown_or_deliberately_download_only() -> None:
    for row in formats.FORMATS:
        if not row.accepted or row.family:
            continue
        assert (row.extractor is not None or row.media or row.preview is not None
                or row.media_type in DOWNLOAD_ONLY), row.media_type


def test_every_extractor_a_row_names_exists_and_every_row_with_one_is_supported() -> None:
    for row in formats.FORMATS:
        if row.extractor is not None:
            assert callable(_function(row.extractor)), row.extractor
            assert row.label, row.media_type  # extraction errors name the format
            assert row.media_type in SUPPORTED_MEDIA_TYPES
    assert {f.media_type for f in formats.FORMATS if f.extractor} == SUPPORTED_MEDIA_TYPES


@pytest.mark.parametrize("media_type, name", sorted(SAMPLES.items()))
def test_each_family_reads_a_real_file_through_its_row(media_type: str, name: str) -> None:
    assert formats.for_extraction(media_type) is not None
    assert extract(DOCS / name, media_type).text


def test_every_suffix_maps_back_to_its_one_format() -> None:
    counts = Counter(s for row in formats.FORMATS for s in row.suffixes)
    assert [s for s, n in counts.items() if n > 1] == []
    for row in formats.FORMATS:
        for suffix in row.suffixes:
            assert suffix == suffix.lower() and suffix.startswith(".")
            assert formats.for_suffix(suffix) is row
            assert formats.for_suffix(suffix.upper()) is row
        assert set(row.read_by_suffix) <= set(row.suffixes), row.media_type
    assert formats.for_suffix(".exe") is None


def test_an_exact_row_wins_over_its_family_and_unknown_types_have_none() -> None:
    assert formats.inline("image/png") and formats.preview("image/png") == "image"
    assert formats.accepted("image/tiff") and not formats.inline("image/tiff")
    assert formats.is_media("video/x-matroska") and formats.preview("audio/ogg") == "audio"
    assert formats.is_mp4("video/quicktime") and not formats.is_mp4("video/webm")
    for unknown in ("application/octet-stream", "application/x-dosexec", "application/gzip"):
        assert formats.find(unknown) is None
        assert not formats.accepted(unknown) and not formats.inline(unknown)


def test_the_name_refines_only_what_libmagic_cannot_tell_apart() -> None:
    assert formats.stored_as("text/plain", "Notes.MD") == "text/markdown"
    assert formats.stored_as("text/plain", "notes.markdown") == "text/markdown"
    assert formats.stored_as("text/plain", "adherents.csv") == "text/csv"
    assert formats.stored_as("text/plain", "page.html") == "text/plain"  # not inert: kept
    assert formats.stored_as("application/pdf", "notes.md") == "application/pdf"
    assert formats.read_as("text/plain", "page.HTM") == "text/html"
    assert formats.read_as("text/plain", "sous-titres.srt") == "application/x-subrip"
    assert formats.read_as("application/octet-stream", "webinaire.vtt") == "text/vtt"
    assert formats.read_as("application/pdf", "webinaire.vtt") == "application/pdf"


# -- what users see ---------------------------------------------------------------------------

async def _upload(lib, content: bytes, filename: str):
    return await lib.client.post(
        "/api/resources", headers=lib.staff, data={"title": "Format", "visibility": "public"},
        files={"file": (filename, content, "application/octet-stream")})


@pytest.mark.anyio
@pytest.mark.parametrize("content, filename", [
    (b"\x7fELF\x02\x01\x01" + b"\x00" * 2000, "outil.pdf"),  # libmagic: octet-stream
    (gzip.compress(b"archive " * 200), "archive.gz"),
])
async def test_a_type_outside_the_table_is_refused_with_415(lib, content, filename):
    response = await _upload(lib, content, filename)
    assert response.status_code == 415
    assert "are not accepted" in response.json()["error"]["message"]


@pytest.mark.anyio
@pytest.mark.parametrize("content, filename, media_type, disposition, preview", [
    (PDF, "guide.pdf", "application/pdf", "inline", '<iframe class="preview"'),
    (_png(), "schema.png", "image/png", "inline", '<img class="preview"'),
    (_zip(), "kit.zip", "application/zip", "attachment", None),
    (b"# Titre\n\nUn paragraphe.\n", "notes.md", "text/markdown", "attachment", None),
])
async def test_downloads_and_previews_follow_the_table(
        lib, content, filename, media_type, disposition, preview):
    response = await _upload(lib, content, filename)
    assert response.status_code == 201, response.text
    body = response.json()
    [file] = body["files"]
    assert file["media_type"] == media_type
    download = await lib.client.get(file["url"])
    assert download.headers["content-disposition"].startswith(f"{disposition}; ")
    page = await lib.client.get(f"/resources/{body['id']}")
    assert page.status_code == 200
    if preview is None:
        assert 'class="preview"' not in page.text
    else:
        assert preview in page.text
