"""The kitlib command: settings at start-up, users, tokens, imports, the demo, its docs."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from kitlib.cli import command_names, main
from kitlib.settings import SETTINGS, Settings
from kitlib.web.app import create_app
from tests.conftest import server_env

DOCS = Path(__file__).resolve().parent.parent / "docs"
PDF = b"%PDF-1.4\n% cli test\n" + b"x" * 500


def run(settings: Settings, *args: str, stdin: str | None = None):
    runner = CliRunner()
    return runner.invoke(main, list(args), input=stdin, env=server_env(settings),
                         catch_exceptions=False)


def test_every_command_and_setting_is_documented():
    cli_doc = (DOCS / "cli.md").read_text(encoding="utf-8")
    for name in command_names():
        assert f"`kitlib {name}" in cli_doc, name
    settings_doc = (DOCS / "settings.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert f"`KITLIB_{setting.name}`" in settings_doc, setting.name


def test_help_lists_every_command():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in ("serve", "migrate", "user", "token", "import", "demo"):
        assert re.search(rf"^\s+{name}\s", result.output, re.M), name


@pytest.mark.parametrize("variable, value", [
    ("KITLIB_PORT", "eighty"), ("KITLIB_PORT", "70000"),
    ("KITLIB_DATABASE_URL", "mysql://x"), ("KITLIB_MAX_UPLOAD_SIZE", "-5"),
    ("KITLIB_LOG_LEVEL", "loud"), ("KITLIB_SECRET_KEY", "short"), ("KITLIB_COLOUR", "red"),
    ("KITLIB_ACCEL_REDIRECT", "/_kitlib/blobs"), ("KITLIB_ACCEL_REDIRECT", "_kitlib/"),
    ("KITLIB_ACCEL_REDIRECT", "/a/../b/"), ("KITLIB_ACCEL_REDIRECT", "/blobs/?x=1/"),
])
def test_a_bad_setting_stops_start_up_with_one_line_naming_it(settings, variable, value):
    env = {**server_env(settings), variable: value}
    result = CliRunner().invoke(main, ["migrate"], env=env)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0], result.output


def test_user_and_token_commands(settings):
    created = run(settings, "user", "add", "Staff@Example.org", "--role", "staff",
                  "--password-stdin", stdin="a-long-password\n")
    assert created.exit_code == 0, created.output
    assert "created staff staff@example.org" in created.output
    short = run(settings, "user", "add", "x@example.org", "--password-stdin", stdin="short\n")
    assert short.exit_code != 0 and "8 characters" in short.output
    token = run(settings, "token", "create", "staff@example.org").output.strip()
    assert token.startswith("kl_")
    unknown = run(settings, "token", "create", "nobody@example.org")
    assert unknown.exit_code != 0 and "no user" in unknown.output


def get(settings: Settings, path: str, token: str | None = None) -> httpx.Response:
    return asyncio.run(_get(settings, path, token))


async def _get(settings: Settings, path: str, token: str | None = None) -> httpx.Response:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            return await client.get(path, headers=headers)


def test_import_folder_reports_added_duplicates_and_refusals(settings, tmp_path):
    folder = tmp_path / "incoming"
    (folder / "sub").mkdir(parents=True)
    (folder / "guide.pdf").write_bytes(PDF)
    (folder / "sub" / "copy.pdf").write_bytes(PDF)
    (folder / "tool.bin").write_bytes(b"\x7fELF\x02\x01\x01" + b"\x00" * 100)
    (folder / ".hidden").write_text("skip me")
    (folder / "manifest.csv").write_text(
        "file,title,language,tags,visibility\n"
        "guide.pdf,Guide de reprise,fr,\"covid-19,reprise\",public\n", encoding="utf-8")
    result = run(settings, "import", str(folder))
    assert result.exit_code == 1  # something was refused
    assert "1 added, 1 skipped as duplicates, 1 refused" in result.output
    assert "tool.bin" in result.output and "not accepted" in result.output
    listing = get(settings, "/api/resources").json()
    assert [(i["title"], i["tags"]) for i in listing["items"]] == [
        ("Guide de reprise", ["covid-19", "reprise"])]


def test_demo_loads_a_bilingual_kit_and_a_webinar(settings):
    result = run(settings, "demo")
    assert result.exit_code == 0, result.output
    assert "0 refused" in result.output
    again = run(settings, "serve", "--help")
    assert again.exit_code == 0
    run(settings, "user", "add", "s@example.org", "--role", "staff", "--password-stdin",
        stdin="a-long-password\n")
    token = run(settings, "token", "create", "s@example.org").output.strip()
    everything = get(settings, "/api/resources?per_page=100", token).json()
    assert everything["total"] == 13
    assert {i["language"] for i in everything["items"]} == {"fr", "en"}
    kinds = {i["kind"] for i in everything["items"]}
    assert {"document", "recording", "slides", "transcript", "link"} <= kinds
    public = get(settings, "/api/resources?per_page=100").json()
    assert 0 < public["total"] < everything["total"]
    kit = get(settings, "/api/kits/covid-19-kit").json()
    assert kit["title"] == "COVID-19 KIT" and kit["item_count"] > 3
    webinars = get(settings, "/api/webinars", token).json()
    [webinar] = webinars["items"]
    assert webinar["recording"]["files"][0]["media_type"] == "video/mp4"
    assert webinar["transcript"]["files"][0]["media_type"] == "text/vtt"
