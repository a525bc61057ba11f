"""Languages: negotiation, the switcher's cookie, translated pages, per-locale formats."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from kitlib.i18n import format_size, negotiate, translations
from kitlib.web import charts

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("header, language", [
    ("fr-FR,fr;q=0.9,en;q=0.8", "fr"), ("en-GB,en;q=0.9", "en"), ("de-DE, fr;q=0.5", "fr"),
    ("en;q=0.2, fr;q=0.7", "fr"), ("de", "en"), ("", "en"), ("fr;q=0", "en"),
    ("fr;q=abc, en", "en")])
def test_accept_language_is_negotiated(header, language):
    assert negotiate(header) == language


def test_sizes_follow_the_locale():
    assert format_size(512, "en") == "512\u00a0B"
    assert format_size(1536, "en") == "1.5\u00a0KB"
    assert format_size(1536, "fr") == "1,5\u00a0Ko"
    assert format_size(3 * 1024**3, "fr") == "3\u00a0Go"


def test_the_french_catalogue_is_compiled_and_complete():
    catalogue = translations("fr")
    assert catalogue.gettext("Sign in") == "Se connecter"
    assert catalogue.ngettext("%(num)d result", "%(num)d results", 2) == "%(num)d résultats"


async def test_pages_follow_accept_language_then_the_remembered_choice(lib):
    french = await lib.client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert '<html lang="fr">' in french.text and "Se connecter" in french.text
    assert "Accept-Language" in french.headers["vary"]
    english = await lib.client.get("/login", headers={"Accept-Language": "en-US"})
    assert '<html lang="en">' in english.text and "Sign in" in english.text
    token = lib.client.cookies["kitlib_csrf"]
    switched = await lib.client.post("/language", data={
        "csrf_token": token, "language": "fr", "next": "/search?q=x"})
    assert switched.status_code == 303 and switched.headers["location"] == "/search?q=x"
    assert "kitlib_lang=fr" in switched.headers["set-cookie"]
    again = await lib.client.get("/login", headers={"Accept-Language": "en-US"})
    assert '<html lang="fr">' in again.text
    # Only local paths: the switcher is no open redirect.
    away = await lib.client.post("/language", data={
        "csrf_token": token, "language": "en", "next": "//evil.example/"})
    assert away.headers["location"] == "/"


async def test_dates_follow_the_locale(lib):
    await lib.client.post("/api/webinars", headers=lib.staff, json={
        "title": "W", "starts_at": "2020-05-14T10:00:00Z"})
    french = await lib.client.get("/", headers={"Accept-Language": "fr"})
    english = await lib.client.get("/", headers={"Accept-Language": "en"})
    assert "14 mai 2020" in french.text
    assert "May 14, 2020" in english.text


def test_charts_place_bars_under_a_round_maximum():
    chart = charts.columns([("a", 3), ("b", 7)], height=100)
    assert chart.maximum == 10
    assert [b.height for b in chart.bars] == [30, 70]
    assert chart.bars[1].y == 30
    days = charts.daily([{"key": "2026-01-02", "downloads": 4}], date(2026, 1, 1),
                        date(2026, 1, 3))
    assert days == [("2026-01-01", 0), ("2026-01-02", 4), ("2026-01-03", 0)]
    assert charts.rows([]).bars == []


def test_every_string_of_the_pages_has_a_french_translation(tmp_path):
    """The catalogue covers what the templates and views say today (``make messages``
    extracts new strings into it)."""
    root = Path(__file__).resolve().parent.parent
    pot = tmp_path / "messages.pot"
    subprocess.run([str(Path(sys.executable).with_name("pybabel")), "extract",
                    "-F", "babel.cfg", "-k", "gettext_for:2", "-o", str(pot), "."],
                   cwd=root, check=True, capture_output=True, timeout=120)
    with pot.open("rb") as handle:
        wanted = {m.id for m in read_po(handle) if m.id}
    with (root / "kitlib/locale/fr/LC_MESSAGES/messages.po").open("rb") as handle:
        french = read_po(handle, locale="fr")
    translated = {m.id for m in french
                  if m.id and all(m.string if isinstance(m.string, tuple) else [m.string])
                  and not m.fuzzy}
    assert wanted and not wanted - translated, sorted(map(str, wanted - translated))
