"""The ``kitlib`` command: serve, migrate, users, tokens, imports and the demo library."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from kitlib.settings import Settings, SettingsError, load_settings

T = TypeVar("T")


def _settings(ctx: click.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


def _run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


@asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[None]:
    from kitlib.db import close_db, open_db

    context = await open_db(settings)
    try:
        yield
    finally:
        await close_db(context)


def _storage(settings: Settings) -> Any:
    from kitlib.storage import Storage

    storage = Storage(settings.uploads_dir)
    storage.ensure()
    return storage


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


@main.command()
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

    settings = _settings(ctx)
    _run(run_migrations(settings))
    if demo_if_empty:
        _run(_demo(settings, only_if_empty=True))
    host = host or settings.host
    port = port or settings.port
    click.echo(f"kitlib serving on http://{host}:{port}")
    server.run(settings, host=host, port=port, workers=workers or settings.workers)


@main.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Apply every pending database migration."""
    from kitlib.db import migrate as run_migrations

    _run(run_migrations(_settings(ctx)))
    click.echo("database is up to date")


@main.group()
def user() -> None:
    """Manage user accounts."""


@user.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(["staff", "member"]), default="member", show_default=True)
@click.option("--name", default="", help="Display name.")
@click.option("--organisation", default="", help="Member organisation.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def user_add(ctx: click.Context, email: str, role: str, name: str, organisation: str,
             password_stdin: bool) -> None:
    """Create a user (or update the role and password of an existing one)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise click.UsageError("the password needs at least 8 characters")

    async def run() -> str:
        from kitlib.access.credentials import hash_password
        from kitlib.models import Role, User
        from kitlib.services.resources import audit
        from kitlib.services.validation import one_line

        address = one_line("email", email, max_length=254).lower()
        if "@" not in address:
            raise click.UsageError(f"{email!r} is not an email address")
        async with _database(_settings(ctx)):
            existing = await User.get_or_none(email=address)
            values: dict[str, Any] = {"role": Role(role),
                                      "password_hash": hash_password(password)}
            if name:
                values["name"] = name
            if organisation:
                values["organisation"] = organisation
            if existing is None:
                created = await User.create(email=address, **values)
                await audit(None, "user.create", "user", created.id, email=address, role=role)
                return f"created {role} {address}"
            await existing.update_from_dict(values).save()
            await audit(None, "user.update", "user", existing.id, email=address, role=role)
            return f"updated {role} {address}"

    click.echo(_run(run()))


@main.group()
def token() -> None:
    """Manage API tokens."""


@token.command("create")
@click.argument("email")
@click.option("--name", default="", help="A label to recognise the token by.")
@click.pass_context
def token_create(ctx: click.Context, email: str, name: str) -> None:
    """Create an API token for EMAIL and print it once (it is stored hashed)."""

    async def run() -> str:
        from kitlib.access.credentials import create_token
        from kitlib.models import User

        async with _database(_settings(ctx)):
            owner = await User.get_or_none(email=email.strip().lower())
            if owner is None:
                raise click.UsageError(f"no user with the email {email!r}")
            from kitlib.services.resources import audit

            secret = await create_token(owner, name)
            # Who ran the command is the shell's business; the log says whose token it is.
            await audit(None, "token.create", "user", owner.id, name=name, prefix=secret[:10])
            return secret

    click.echo(_run(run()))


@main.command("import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.pass_context
def import_(ctx: click.Context, folder: Path) -> None:
    """Import every file in FOLDER, with metadata from manifest.csv/.yaml/.json if present."""
    settings = _settings(ctx)

    async def run() -> Any:
        from kitlib.services.importer import import_folder

        total = sum(1 for p in folder.rglob("*") if p.is_file())
        async with _database(settings):
            with click.progressbar(length=total, label="importing", file=sys.stderr) as bar:
                return await import_folder(folder, _storage(settings), settings.max_upload_size,
                                           None, progress=lambda _p: bar.update(1))

    report = _run(run())
    for label, reason in report.refused:
        click.echo(f"refused {label}: {reason}")
    click.echo(f"{len(report.added)} added, {len(report.duplicates)} skipped as duplicates, "
               f"{len(report.refused)} refused")
    if report.refused:
        sys.exit(1)


async def _demo(settings: Settings, *, only_if_empty: bool) -> str:
    from kitlib.models import Resource
    from kitlib.services.importer import load_demo

    async with _database(settings):
        if only_if_empty and await Resource.all().exists():
            return "the library already has content: demo not loaded"
        report = await load_demo(_storage(settings), settings.max_upload_size)
    return (f"demo library: {len(report.added)} added, {len(report.duplicates)} already there, "
            f"{len(report.refused)} refused")


@main.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Load the sample library: a COVID-19 kit in French and English and a webinar."""
    click.echo(_run(_demo(_settings(ctx), only_if_empty=False)))


def command_names(group: click.Group = main, prefix: str = "") -> list[str]:
    """Every command path, for the documentation test."""
    names: list[str] = []
    for name, command in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        names.append(full)
        if isinstance(command, click.Group):
            names.extend(command_names(command, full + " "))
    return names




@main.command()
@click.pass_context
def reindex(ctx: click.Context) -> None:
    """Rebuild the search index from the database, in batches, then swap it in atomically."""

    async def run() -> int:
        from kitlib.services import indexing as indexer
        async with _database(_settings(ctx)):
            return await indexer.rebuild(_settings(ctx))

    click.echo(f"search index rebuilt: {_run(run())} resources")


@main.command()
@click.option("--repair", is_flag=True, help="Fix every difference found.")
@click.option("--grace", default=900, type=click.IntRange(min=0), show_default=True,
              help="Seconds an unreferenced file may be an upload in flight; 0 when no server "
                   "runs.")
@click.pass_context
def check(ctx: click.Context, repair: bool, grace: int) -> None:
    """Compare the stored files and the search index with the database."""

    async def run() -> bool:
        from kitlib.services import indexing as indexer
        from kitlib.services import integrity

        settings = _settings(ctx)
        async with _database(settings):
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

    if not _run(run()):
        sys.exit(1)


@main.command()
@click.argument("dest", type=click.Path(path_type=Path))
@click.pass_context
def backup(ctx: click.Context, dest: Path) -> None:
    """Write a consistent backup (database, files, secret key, manifest) into DEST, a new or
    empty folder, while the server keeps serving."""
    from kitlib.services import backup as svc

    try:
        report = _run(svc.backup(_settings(ctx), dest))
    except svc.BackupError as exc:
        click.echo(f"kitlib backup: {exc}", err=True)
        sys.exit(1)
    click.echo(f"backup written to {report.path}: {report.database} database, {report.files} "
               f"files ({report.bytes} bytes), every sha256 checked")


@main.command()
@click.argument("source", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.pass_context
def restore(ctx: click.Context, source: Path) -> None:
    """Restore the backup in SOURCE into an empty library, then rebuild the search index."""
    from kitlib.services import backup as svc
    from kitlib.services import indexing as indexer

    settings = _settings(ctx)

    async def run() -> tuple[svc.Report, int]:
        report = await svc.restore(settings, source)
        async with _database(settings):  # migrates a backup made by an older kitlib
            return report, await indexer.rebuild(settings)

    try:
        report, indexed = _run(run())
    except svc.BackupError as exc:
        click.echo(f"kitlib restore: {exc}", err=True)
        sys.exit(1)
    click.echo(f"restored {report.files} files ({report.bytes} bytes, every sha256 checked) "
               f"and the {report.database} database; search index rebuilt: {indexed} resources")


@main.command()
@click.option("--once", is_flag=True, help="Drain the queue once and exit.")
@click.pass_context
def worker(ctx: click.Context, once: bool) -> None:
    """Run the search worker: extract text from files and keep the index up to date."""

    async def run() -> int | None:
        from kitlib.jobs import worker as jobs
        settings = _settings(ctx)
        async with _database(settings):
            if once:
                return await jobs.drain_as_leader(settings)
            await jobs.run_worker(settings)
            return 0

    handled = _run(run())
    if handled is None:
        click.echo("another worker is draining the queue; nothing done")
    else:
        click.echo(f"{handled} jobs handled")
