"""The generated docs: docs/settings.md and docs/cli.md say what the code says now."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kitlib.cli.docs import generated, help_texts
from kitlib.settings import SETTINGS
from tests.conftest import server_env

DOCS = Path(__file__).resolve().parent.parent / "docs"
# The console script pip installed beside this interpreter: its name is the help's "Usage: kitlib".
KITLIB = str(Path(sys.executable).with_name("kitlib"))


@pytest.mark.parametrize("name", sorted(generated()))
def test_the_committed_docs_are_what_the_generator_writes(name):
    committed = (DOCS / name).read_text(encoding="utf-8")
    assert committed == generated()[name], f"docs/{name} is out of date: run make docs"


def test_the_cli_docs_hold_each_commands_help_as_it_prints(settings):
    """GIVEN every command WHEN `kitlib ... --help` runs THEN docs/cli.md shows its output."""
    cli_doc = (DOCS / "cli.md").read_text(encoding="utf-8")
    for path, _text in help_texts():
        args = path.split()[1:]
        env = {k: v for k, v in server_env(settings).items() if k not in {"COLUMNS", "LINES"}}
        printed = subprocess.run([KITLIB, *args, "--help"], env=env,
                                 capture_output=True, text=True, check=True, timeout=60)
        assert f"## `{path}`\n\n```text\n{printed.stdout}```" in cli_doc, path


def test_every_setting_has_a_row_with_its_default_and_help():
    settings_doc = (DOCS / "settings.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        row = next(line for line in settings_doc.splitlines()
                   if line.startswith(f"| `KITLIB_{setting.name}` |"))
        assert setting.help.replace("|", "\\|") in row
