"""Backups: ``backup`` while the server serves, ``restore`` into an empty library."""

from __future__ import annotations

import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

import click

from kitlib.cli.context import database, run, settings_of

T = TypeVar("T")


def _run_or_exit(command: str, coro: Awaitable[T]) -> T:
    """Run the step; a refused backup or restore is one line on stderr and exit status 1."""
    from kitlib.services.backup import BackupError

    try:
        return run(coro)
    except BackupError as exc:
        click.echo(f"kitlib {command}: {exc}", err=True)
        sys.exit(1)


@click.command()
@click.argument("dest", type=click.Path(path_type=Path))
@click.pass_context
def backup(ctx: click.Context, dest: Path) -> None:
    """Write a consistent backup (database, files, secret key, manifest) into DEST, a new or
    empty folder, while the server keeps serving."""
    from kitlib.services import backup as svc

    report = _run_or_exit("backup", svc.backup(settings_of(ctx), dest))
    click.echo(f"backup written to {report.path}: {report.database} database, {report.files} "
               f"files ({report.bytes} bytes), every sha256 checked")


@click.command()
@click.argument("source", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.pass_context
def restore(ctx: click.Context, source: Path) -> None:
    """Restore the backup in SOURCE into an empty library, then rebuild the search index."""
    from kitlib.services import backup as svc
    from kitlib.services import indexing as indexer

    settings = settings_of(ctx)

    async def restore_and_index() -> tuple[svc.Report, int]:
        report = await svc.restore(settings, source)
        async with database(settings):  # migrates a backup made by an older kitlib
            return report, await indexer.rebuild(settings)

    report, indexed = _run_or_exit("restore", restore_and_index())
    click.echo(f"restored {report.files} files ({report.bytes} bytes, every sha256 checked) "
               f"and the {report.database} database; search index rebuilt: {indexed} resources")
