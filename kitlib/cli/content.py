"""Filling the library: ``import`` a folder and the ``demo`` library."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from kitlib.cli.context import database, run, settings_of, storage_for
from kitlib.settings import Settings


@click.command("import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.pass_context
def import_(ctx: click.Context, folder: Path) -> None:
    """Import every file in FOLDER, with metadata from manifest.csv/.yaml/.json if present."""
    settings = settings_of(ctx)

    async def load() -> Any:
        from kitlib.services.importer import import_folder

        total = sum(1 for p in folder.rglob("*") if p.is_file())
        async with database(settings):
            with click.progressbar(length=total, label="importing", file=sys.stderr) as bar:
                return await import_folder(folder, storage_for(settings),
                                           settings.max_upload_size, None,
                                           progress=lambda _p: bar.update(1))

    report = run(load())
    for label, reason in report.refused:
        click.echo(f"refused {label}: {reason}")
    click.echo(f"{len(report.added)} added, {len(report.duplicates)} skipped as duplicates, "
               f"{len(report.refused)} refused")
    if report.refused:
        sys.exit(1)


async def load_demo(settings: Settings, *, only_if_empty: bool) -> str:
    """Load the demo library (``serve --demo-if-empty`` only into an empty one); a summary."""
    from kitlib.models import Resource
    from kitlib.services.importer import load_demo as load

    async with database(settings):
        if only_if_empty and await Resource.all().exists():
            return "the library already has content: demo not loaded"
        report = await load(storage_for(settings), settings.max_upload_size)
    return (f"demo library: {len(report.added)} added, {len(report.duplicates)} already there, "
            f"{len(report.refused)} refused")


@click.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Load the sample library: a COVID-19 kit in French and English and a webinar."""
    click.echo(run(load_demo(settings_of(ctx), only_if_empty=False)))
