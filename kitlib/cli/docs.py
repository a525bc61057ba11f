"""docs/settings.md from ``SETTINGS`` and docs/cli.md from the commands' ``--help``.

``make docs`` runs ``python -m kitlib.cli.docs``; tests/test_docs.py fails when a committed
file differs from what this module writes now, so the docs never drift from the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kitlib.settings import DERIVED, PREFIX, SETTINGS, Setting

DOCS = Path(__file__).resolve().parents[2] / "docs"
# The width `--help` wraps to on an 80-column terminal or when its output is not one (click
# leaves two columns free), so the docs do not depend on the terminal make docs runs in.
HELP_WIDTH = 78

SETTINGS_HEADER = """\
# Settings

kitlib reads its settings once, at start-up, from `KITLIB_*` environment variables or from a
`.env` file in the working directory (environment variables win). With nothing set, kitlib
uses SQLite and the repository-root folders `uploads/` and `index/`, and serves on
http://127.0.0.1:8000. A bad value stops start-up with one line naming the variable, e.g.
`kitlib: KITLIB_PORT='eighty' is not valid: invalid literal for int() with base 10: 'eighty'`.
An unknown `KITLIB_*` variable is refused the same way, so a typo never goes unnoticed.

This file is generated from `kitlib/settings.py` by `make docs`.
"""

SETTINGS_FOOTER = """\
The test suite also reads `KITLIB_TEST_DATABASE` (`sqlite` or `postgres`) and
`KITLIB_TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`).
"""

CLI_HEADER = """\
# The `kitlib` command

Every command reads the settings of [settings.md](settings.md) first and stops with a
one-line message if one is wrong. Below is what `kitlib --help` and `kitlib COMMAND --help`
print; this file is generated from them by `make docs`.
"""

CLI_FOOTER = """\
Regenerating the demo files: `scripts/make_demo_assets.py` (needs ffmpeg, LibreOffice,
espeak-ng; see its docstring).
"""

_UNITS = (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024))


def shown_default(setting: Setting) -> str:
    """The default as docs/settings.md states it."""
    if setting.shown:
        return setting.shown
    value = setting.default
    if value is DERIVED:
        raise ValueError(f"{setting.name}: a derived default needs its shown text")
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if value == "":
        return "empty"
    if isinstance(value, int) and setting.cast.__name__ == "_size":
        for unit, size in _UNITS:
            if value % size == 0:
                return f"`{value // size}{unit}`"
    return f"`{value}`"


def settings_markdown() -> str:
    """docs/settings.md: the fixed introduction, then one row per setting."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for setting in SETTINGS:
        cells = (f"`{PREFIX}{setting.name}`", shown_default(setting), setting.help)
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join([SETTINGS_HEADER, *rows, "", SETTINGS_FOOTER])


def _help_texts(command: click.Command, parent: click.Context | None,
                name: str) -> list[tuple[str, str]]:
    ctx = click.Context(command, info_name=name, parent=parent, terminal_width=HELP_WIDTH)
    texts = [(ctx.command_path, command.get_help(ctx))]
    if isinstance(command, click.Group):
        for sub in command.list_commands(ctx):
            child = command.get_command(ctx, sub)
            if child is not None:
                texts.extend(_help_texts(child, ctx, sub))
    return texts


def help_texts() -> list[tuple[str, str]]:
    """(command path, ``--help`` text) for ``kitlib`` and every command below it."""
    from kitlib.cli import main

    return _help_texts(main, None, "kitlib")


def cli_markdown() -> str:
    """docs/cli.md: the fixed introduction, then every command's ``--help``."""
    parts = [CLI_HEADER]
    for path, text in help_texts():
        parts.append(f"## `{path}`\n\n```text\n{text}\n```\n")
    parts.append(CLI_FOOTER)
    return "\n".join(parts)


def generated() -> dict[str, str]:
    """File name under docs/ → the text it should hold."""
    return {"settings.md": settings_markdown(), "cli.md": cli_markdown()}


def main(argv: list[str]) -> None:
    docs = Path(argv[0]) if argv else DOCS
    for name, text in generated().items():
        (docs / name).write_text(text, encoding="utf-8")
        print(f"wrote {docs / name}")


if __name__ == "__main__":
    main(sys.argv[1:])
