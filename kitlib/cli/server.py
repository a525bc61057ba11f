"""Running kitlib: ``serve``, ``migrate`` and ``worker``."""

from __future__ import annotations

import click

from kitlib.cli.content import load_demo
from kitlib.cli.context import database, run, settings_of


@click.command()
@click.option("--host", default=None, help="Address to listen on (default KITLIB_HOST).")
@click.option("--port", default=None, type=int, help="Port to listen on (default KITLIB_PORT).")
@click.option("--workers", default=None, type=click.IntRange(min=1),
              help="Server processes (default KITLIB_WORKERS).")
@click.option("--demo-if-empty", is_flag=True, help="Load the demo library if nothing is stored.")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int | None,
          demo_if_empty: bool) -> None:
    """Apply migrations, then serve the library over HTTP."""
    from kitlib.db import migrate as run_migrations
    from kitlib.web import server

    settings = settings_of(ctx)
    run(run_migrations(settings))
    if demo_if_empty:
        run(load_demo(settings, only_if_empty=True))
    host = host or settings.host
    port = port or settings.port
    click.echo(f"kitlib serving on http://{host}:{port}")
    server.run(settings, host=host, port=port, workers=workers or settings.workers)


@click.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Apply every pending database migration."""
    from kitlib.db import migrate as run_migrations

    run(run_migrations(settings_of(ctx)))
    click.echo("database is up to date")


@click.command()
@click.option("--once", is_flag=True, help="Drain the queue once and exit.")
@click.pass_context
def worker(ctx: click.Context, once: bool) -> None:
    """Run the background worker: text extraction and index writes, MP4 faststart and
    durations (for when `kitlib serve` runs with KITLIB_INDEX_WORKER and KITLIB_MEDIA_WORKER
    off)."""

    async def drain() -> int | None:
        from kitlib.jobs import worker as jobs
        settings = settings_of(ctx)
        async with database(settings):
            if once:
                return await jobs.drain_as_leader(settings)
            await jobs.run_worker(settings)
            return 0

    handled = run(drain())
    if handled is None:
        click.echo("another worker is draining the queue; nothing done")
    else:
        click.echo(f"{handled} jobs handled")
