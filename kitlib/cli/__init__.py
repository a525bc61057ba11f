"""The ``kitlib`` command: the click group, with one module per family of commands.

``server`` (serve, migrate, worker), ``accounts`` (user, token), ``content`` (import, demo),
``backups`` (backup, restore), ``maintenance`` (reindex, check); ``context`` is what they
share and ``docs`` writes docs/cli.md and docs/settings.md. The CLI sits at the top with the
web app: it may import everything, and nothing in kitlib imports it.
"""

from __future__ import annotations

import logging
import sys

import click

from kitlib.cli.accounts import token, user
from kitlib.cli.backups import backup, restore
from kitlib.cli.content import demo, import_
from kitlib.cli.maintenance import check, reindex
from kitlib.cli.server import migrate, serve, worker
from kitlib.settings import SettingsError, load_settings

__all__ = ["command_names", "main"]


@click.group()
@click.version_option(package_name="kitlib")
@click.pass_context
def main(ctx: click.Context) -> None:
    """kitlib: a webinar and resource-kit library.

    Settings come from KITLIB_* environment variables or a .env file (see docs/settings.md).
    """
    try:
        ctx.obj = load_settings()
    except SettingsError as exc:
        click.echo(f"kitlib: {exc}", err=True)
        sys.exit(2)
    logging.basicConfig(level=ctx.obj.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


for _command in (serve, migrate, user, token, import_, demo, reindex, check, backup, restore,
                 worker):
    main.add_command(_command)


def command_names(group: click.Group = main, prefix: str = "") -> list[str]:
    """Every command path, for the documentation test."""
    names: list[str] = []
    for name, command in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        names.append(full)
        if isinstance(command, click.Group):
            names.extend(command_names(command, full + " "))
    return names
