"""Keeping the derived data right: ``reindex`` and ``check [--repair]``."""

from __future__ import annotations

import sys

import click

from kitlib.cli.context import database, run, settings_of


@click.command()
@click.pass_context
def reindex(ctx: click.Context) -> None:
    """Rebuild the search index from the database, in batches, then swap it in atomically."""

    async def rebuild() -> int:
        from kitlib.services import indexing as indexer
        async with database(settings_of(ctx)):
            return await indexer.rebuild(settings_of(ctx))

    click.echo(f"search index rebuilt: {run(rebuild())} resources")


@click.command()
@click.option("--repair", is_flag=True, help="Fix every difference found.")
@click.option("--grace", default=900, type=click.IntRange(min=0), show_default=True,
              help="Seconds an unreferenced file may be an upload in flight; 0 when no server "
                   "runs.")
@click.pass_context
def check(ctx: click.Context, repair: bool, grace: int) -> None:
    """Compare the stored files and the search index with the database."""

    async def compare() -> bool:
        from kitlib.services import indexing as indexer
        from kitlib.services import integrity

        settings = settings_of(ctx)
        async with database(settings):
            files = await integrity.check_storage(settings, grace=grace)
            for line in files.lines():
                click.echo(line)
            report = await indexer.check(settings)
            if report.unreadable:
                click.echo(f"index unreadable: {report.unreadable}")
            for label, ids in (("missing from the index", report.missing),
                               ("stale in the index", report.stale),
                               ("in the index but not in the database", report.extra)):
                for rid in ids:
                    click.echo(f"resource {rid}: {label}")
            if files.clean:
                click.echo("stored files match the database")
            if report.clean:
                click.echo("search index matches the database")
            if files.clean and report.clean:
                return True
            if not repair:
                click.echo("run `kitlib check --repair` to fix these differences")
                return False
            if not files.clean:
                click.echo(f"repaired files: {await integrity.repair_storage(settings, files)}")
            if not report.clean:
                click.echo(f"repaired: {await indexer.repair(settings, report)}")
            after = await integrity.check_storage(settings, grace=grace)
            return after.clean and (await indexer.check(settings)).clean

    if not run(compare()):
        sys.exit(1)
