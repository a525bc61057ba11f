"""Extraction of the real files made by tests/fixtures/make_fixtures.py, and the process caps."""

from __future__ import annotations

import struct
import sys
import time
import zipfile
from pathlib import Path

import pytest

from kitlib.extract import (
    SUPPORTED_MEDIA_TYPES,
    Cue,
    ExtractionError,
    _process,
    extract,
    extract_safely,
)
from kitlib.extract.transcripts import _timestamp

DOCS = Path(__file__).parent / "fixtures" / "docs"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"
ODP = "application/vnd.oasis.opendocument.presentation"


def test_docx_keeps_french_accents_and_paragraphs() -> None:
    result = extract(DOCS / "fr_protocole_nettoyage.docx", DOCX)
    lines = result.text.split("\n")
    assert lines[0] == "Protocole de nettoyage et désinfection des postes de travail"
    assert "Lingettes désinfectantes (norme EN 14476)" in lines
    assert "Fréquence : deux fois par jour\tet après chaque réunion." in lines
    assert "Le cœur du dispositif reste l’aération des locaux : « ouvrir 10 minutes »." in lines
    assert "Élément" in lines and "Quotidienne" in lines  # table cells
    assert result.language_hint == "fr"
    assert result.cues == [] and result.pages is None and not result.truncated


def test_pdf_made_by_libreoffice_gives_pages_and_english_text() -> None:
    result = extract(DOCS / "en_gowning_guide.pdf", "application/pdf")
    assert result.pages == 3
    assert result.text.startswith("Cleanroom Gowning Guide")
    assert "particulate count must stay below the ISO 7 threshold" in result.text
    assert "yellow bin at the airlock" in result.text
    assert result.language_hint == "en"


def test_pdf_falls_back_to_pypdf_when_pdfium_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN PDFium failing to open a file WHEN extracting THEN pypdf reads it instead."""
    import pypdfium2  # type: ignore[import-untyped, unused-ignore]

    def refuse(*args: object, **kwargs: object) -> None:
        raise pypdfium2.PdfiumError("Failed to load document (PDFium: Data format error).", 3)

    monkeypatch.setattr(pypdfium2, "PdfDocument", refuse)
    result = extract(DOCS / "en_gowning_guide.pdf", "application/pdf")
    assert result.pages == 3
    assert "particulate count" in result.text


def test_pptx_follows_slide_order_and_includes_speaker_notes() -> None:
    result = extract(DOCS / "fr_qualite_air.pptx", PPTX)
    assert result.pages == 3
    text = result.text
    assert text.startswith("Webinaire : qualité de l’air intérieur")
    assert text.index("Mesurer le CO₂") < text.index("Résultats") < text.index("Amphithéâtre")
    assert "Rappeler l’expérience menée à Besançon." in text  # notes of slide 2


def test_xlsx_rows_become_tab_separated_lines_with_cached_formula_values() -> None:
    result = extract(DOCS / "adherents.xlsx", XLSX)
    lines = result.text.split("\n")
    assert lines[0] == "Adhérents"
    assert "Métallerie Dupré\tBesançon\t42" in lines
    assert "Total\t59" in lines  # LibreOffice saved the value of =SUM(C2:C3)
    assert "Qualité de l’air\t2024-03-12" in lines
    assert "Calendrier" in lines


def test_odt_collapses_odf_whitespace() -> None:
    result = extract(DOCS / "charte_accueil.odt", ODT)
    assert "Charte d’accueil des nouveaux adhérents" in result.text
    assert "Les réunions ont lieu à Besançon, au siège du pôle." in result.text


def test_odp_counts_slides() -> None:
    result = extract(DOCS / "economie_circulaire.odp", ODP)
    assert result.pages == 2
    assert "Économie circulaire" in result.text
    assert "Diagnostic gratuit pour les PME" in result.text


def test_html_drops_script_and_style() -> None:
    result = extract(DOCS / "accueil.html", "text/html; charset=utf-8")
    assert "Kit d’accueil — pôle" in result.text  # <title>
    assert "Les adhérents accèdent aux kits de ressources & aux replays." in result.text
    assert "Qualité de vie" in result.text  # &nbsp; became a space
    for hidden in ("trackingSecret", "ne-doit-pas-apparaitre", "console.log", "font-family"):
        assert hidden not in result.text


def test_markdown_keeps_words_not_markup() -> None:
    result = extract(DOCS / "guide_webinaires.md", "text/markdown")
    assert "Guide des webinaires" in result.text.split("\n")
    assert "Les replays sont disponibles sous 48 h sur la médiathèque." in result.text
    assert "Logo du pôle" in result.text
    for markup in ("https://example.org", "**", "# ", "```"):
        assert markup not in result.text


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("notes_utf8.txt", "Compte rendu : décisions prises à l’unanimité."),
        ("notes_windows.txt", "Réunion du comité — budget 2024 : 1 500 € pour l’œnologie."),
    ],
)
def test_plain_text_utf8_then_cp1252(name: str, expected: str) -> None:
    assert extract(DOCS / name, "text/plain").text == expected


def test_plain_text_with_utf16_bom(tmp_path: Path) -> None:
    path = tmp_path / "notepad.txt"
    path.write_bytes("\ufeffÉté à Besançon".encode("utf-16-le"))
    assert extract(path, "text/plain").text == "Été à Besançon"


def test_webvtt_cues_keep_exact_start_times_and_speakers() -> None:
    result = extract(DOCS / "webinaire.vtt", "text/vtt")
    assert [(cue.start, cue.end) for cue in result.cues] == [
        (1.0, 4.25),
        (4.25, 7.0),
        (760.0, 761.5),  # 12:40.000, hours omitted
        (754.5, 758.0),  # 00:12:34.500
    ]
    assert result.cues[0] == Cue(1.0, 4.25, "Bonjour à toutes et à tous.", "Marie Dupré")
    assert result.cues[1].text == "Aujourd’hui : la désinfection des postes."
    assert result.cues[3].text == "Quel produit pour les écrans & claviers ? Sur deux lignes."
    assert result.cues[3].speaker == "Jean Martin"
    assert result.text.startswith("Marie Dupré: Bonjour")  # no BOM, no WEBVTT header
    for absent in ("\ufeff", "WEBVTT", "::cue", "exporté", "ne doit pas", "l’envers", "<", "-->"):
        assert absent not in result.text


def test_srt_in_cp1252_keeps_accents_and_skips_broken_block() -> None:
    result = extract(DOCS / "reunion_windows.srt", "application/x-subrip")
    assert result.cues == [
        Cue(0.5, 3.0, "Bienvenue à la réunion d’été."),
        Cue(62.25, 65.0, "Le cœur du sujet : 20 € par salarié."),
        Cue(3600.0, 3602.0, "Fin de la séance."),
    ]
    assert "Bloc cassé" not in result.text


@pytest.mark.parametrize(
    ("stamp", "seconds"),
    [
        ("00:12:34.500", 754.5),
        ("12:34.500", 754.5),
        ("00:12:34,500", 754.5),
        ("01:00:00.001", 3600.001),
        ("00:00:01.5", 1.5),
        ("00:61:00.000", None),
        ("1:2:3", None),
        ("banana", None),
    ],
)
def test_timestamps(stamp: str, seconds: float | None) -> None:
    assert _timestamp(stamp) == seconds


@pytest.mark.parametrize(
    ("name", "media_type", "reason"),
    [
        (
            "broken_truncated.pdf",
            "application/pdf",
            "the file is not a valid PDF (damaged or incomplete)",
        ),
        ("broken_encrypted.pdf", "application/pdf", "the PDF is encrypted with a password"),
        ("broken_corrupt.docx", DOCX, "the file is not a valid DOCX (damaged archive)"),
        (
            "broken_zip_bomb.docx",
            DOCX,
            "the DOCX looks like a zip bomb: its part word/document.xml",
        ),
        (
            "broken_billion_laughs.docx",
            DOCX,
            "the DOCX contains XML entity or DOCTYPE declarations",
        ),
        ("fr_protocole_nettoyage.docx", "image/png", "unsupported file type image/png"),
        ("en_gowning_guide.pdf", DOCX, "the file is not a valid DOCX (damaged archive)"),
        ("notes_utf8.txt", PPTX, "the file is not a valid PPTX (damaged archive)"),
    ],
)
def test_broken_files_give_a_readable_reason(name: str, media_type: str, reason: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ExtractionError) as caught:
        extract(DOCS / name, media_type)
    assert caught.value.reason.startswith(reason)
    assert str(caught.value) == caught.value.reason
    assert time.perf_counter() - started < 5  # refused up front, not after inflating or expanding


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pdf"
    empty.touch()
    with pytest.raises(ExtractionError, match="the file is empty"):
        extract(empty, "application/pdf")
    with pytest.raises(ExtractionError, match="could not be found"):
        extract(tmp_path / "gone.pdf", "application/pdf")


def _patch_declared_size(path: Path, member: str, size: int) -> None:
    """Rewrite the uncompressed size a zip's central directory declares for one member."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    entry = data.find(b"PK\x01\x02")  # central directory file header (APPNOTE 4.3.12)
    while data[entry + 46 : entry + 46 + len(member)] != member.encode():
        entry = data.find(b"PK\x01\x02", entry + 4)
    struct.pack_into("<I", data, entry + 24, size)
    assert info.file_size != size
    path.write_bytes(bytes(data))


def test_zip_member_declaring_a_huge_size_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "declares-4gb.docx"
    path.write_bytes((DOCS / "fr_protocole_nettoyage.docx").read_bytes())
    _patch_declared_size(path, "word/document.xml", 4_000_000_000)
    with pytest.raises(ExtractionError, match="zip bomb: its part word/document.xml would unpack"):
        extract(path, DOCX)


def test_zip_member_lying_small_is_cut_and_reported_damaged(tmp_path: Path) -> None:
    path = tmp_path / "declares-100-bytes.docx"
    path.write_bytes((DOCS / "fr_protocole_nettoyage.docx").read_bytes())
    _patch_declared_size(path, "word/document.xml", 100)
    with pytest.raises(ExtractionError, match=r"not a valid DOCX \((damaged archive|damaged XML)"):
        extract(path, DOCX)


def test_odt_with_a_doctype_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "doctype.odt"
    with (
        zipfile.ZipFile(DOCS / "charte_accueil.odt") as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "content.xml":
                data = data.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY a "aaaa">]>', 1)
            dst.writestr(info, data)
    with pytest.raises(ExtractionError, match="^the ODT contains XML entity or DOCTYPE"):
        extract(path, ODT)


def test_text_is_capped(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text("désinfection " * 1000, encoding="utf-8")
    result = extract(path, "text/plain", max_chars=100)
    assert result.truncated
    assert len(result.text) <= 100
    assert result.text.startswith("désinfection désinfection")


def test_supported_media_types_cover_the_formats() -> None:
    assert {"application/pdf", DOCX, PPTX, XLSX, ODT, ODP, "text/vtt"} <= SUPPORTED_MEDIA_TYPES


# --- the capped child process ---------------------------------------------------------------------


def test_extract_safely_returns_what_extract_returns() -> None:
    path = DOCS / "webinaire.vtt"
    assert extract_safely(path, "text/vtt") == extract(path, "text/vtt")
    docx = DOCS / "fr_protocole_nettoyage.docx"
    assert "désinfection" in extract_safely(docx, DOCX).text


def test_extract_safely_passes_reasons_through() -> None:
    with pytest.raises(ExtractionError, match="^the PDF is encrypted with a password$"):
        extract_safely(DOCS / "broken_encrypted.pdf", "application/pdf")


def test_extract_safely_kills_a_slow_child(monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN an extraction that never ends WHEN the timeout passes THEN it is killed, reported."""
    monkeypatch.setattr(
        _process, "_WORKER_COMMAND", [sys.executable, "-c", "import time; time.sleep(60)"]
    )
    started = time.perf_counter()
    with pytest.raises(ExtractionError, match=r"^extraction took longer than 0\.5 s$"):
        extract_safely(DOCS / "notes_utf8.txt", "text/plain", timeout_s=0.5)
    assert time.perf_counter() - started < 5


def test_extract_safely_caps_memory_of_the_real_worker(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(("é" * 999 + "\n").encode() * 20_000)  # 40 MB of UTF-8
    with pytest.raises(ExtractionError, match="^extraction needed more than 60 MB of memory$"):
        extract_safely(big, "text/plain", memory_mb=60)


def test_memory_cap_is_set_from_outside_the_child(monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a child that sets no limit itself WHEN it allocates 1 GB THEN the cap still holds."""
    monkeypatch.setattr(
        _process,
        "_WORKER_COMMAND",
        [sys.executable, "-c", "import sys; sys.stdin.read(); b = bytearray(1 << 30)"],
    )
    with pytest.raises(ExtractionError, match="^extraction needed more than 100 MB of memory$"):
        extract_safely(DOCS / "notes_utf8.txt", "text/plain", memory_mb=100)


def test_a_crashing_child_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    crash = "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"
    monkeypatch.setattr(_process, "_WORKER_COMMAND", [sys.executable, "-c", crash])
    with pytest.raises(ExtractionError, match=r"^the extraction crashed \(SIGSEGV\)"):
        extract_safely(DOCS / "notes_utf8.txt", "text/plain")
