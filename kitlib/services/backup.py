"""Backups: a consistent snapshot of the database and the files, and its restore.

A backup folder holds the database (SQLite's online backup of the live file, or ``pg_dump``
run inside an exported snapshot), every stored file the snapshot refers to under
``files/<storage key>`` with its sha256 checked while it is copied, the library's secret key
(attendee links and feed tokens stay valid after a restore), and ``manifest.json``, written
last: a folder without one is an unfinished backup.

The server keeps serving meanwhile. Blobs never change once written, so copying them after
the snapshot is safe; the one race is a blob deleted (its last resource gone) between the
snapshot and its copy. Then the snapshot is taken again: the new one no longer refers to it.
The search index is not saved; a restore rebuilds it from the database.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from anyio import to_thread

from kitlib import __version__
from kitlib.db import connection_url
from kitlib.settings import Settings
from kitlib.storage import Storage

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "kitlib.sqlite3"
PG_FILE = "database.pgdump"
SECRET_FILE = "secret_key"
ATTEMPTS = 5
_FILES_SQL = "SELECT sha256, size, storage_key FROM stored_file ORDER BY id"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


@dataclass(frozen=True)
class Report:
    path: Path
    database: str
    files: int
    bytes: int
    snapshots: int = 1


def _pg_dsn(settings: Settings) -> str:
    return connection_url(settings.database_url).replace("postgres://", "postgresql://", 1)


def _sqlite_path(settings: Settings) -> Path:
    return Path(connection_url(settings.database_url)[len("sqlite://"):])


def _copy_verified(source: Path, target: Path, sha256: str) -> int:
    """Copy a blob, fsynced, checking its bytes against the sha256 the database holds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    part = target.with_name(target.name + ".part")
    with source.open("rb") as src, part.open("wb") as dst:
        while chunk := src.read(1024 * 1024):
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    if digest.hexdigest() != sha256:
        part.unlink()
        raise BackupError(f"{source} does not match its sha256 {sha256}: the file is damaged")
    part.replace(target)
    return size


def _sqlite_snapshot(settings: Settings, target: Path) -> list[dict[str, Any]]:
    source = sqlite3.connect(_sqlite_path(settings))
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # SQLite's online backup: a consistent copy while others write
        copy.row_factory = sqlite3.Row
        return [dict(row) for row in copy.execute(_FILES_SQL)]
    finally:
        copy.close()
        source.close()


async def _pg_snapshot(settings: Settings, target: Path) -> list[dict[str, Any]]:
    """pg_dump and the file list, read in one exported snapshot so they agree."""
    connection = await asyncpg.connect(_pg_dsn(settings))
    try:
        async with connection.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await connection.fetchval("SELECT pg_export_snapshot()")
            rows = [dict(r) for r in await connection.fetch(_FILES_SQL)]
            done = await _tool(
                "pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                f"--snapshot={snapshot}", f"--file={target}", _pg_dsn(settings))
            _, err = await done.communicate()
            if done.returncode != 0:
                raise BackupError(f"pg_dump failed: {err.decode(errors='replace').strip()}")
        return rows
    finally:
        await connection.close()


async def _tool(*args: str) -> asyncio.subprocess.Process:
    try:
        return await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.DEVNULL,
                                                    stderr=asyncio.subprocess.PIPE)
    except FileNotFoundError:
        raise BackupError(f"{args[0]} is not installed (Debian package postgresql-client; "
                          "scripts/system-deps installs it)") from None


async def backup(settings: Settings, dest: Path) -> Report:
    """Write a backup of the library into ``dest`` (a new or empty folder)."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} is not an empty folder")
    dest.mkdir(parents=True, exist_ok=True)
    storage = Storage(settings.uploads_dir)
    kind = "sqlite" if settings.is_sqlite else "postgres"
    database = dest / (SQLITE_FILE if settings.is_sqlite else PG_FILE)
    copied: dict[str, int] = {}
    for attempt in range(1, ATTEMPTS + 1):
        database.unlink(missing_ok=True)
        if settings.is_sqlite:
            rows = await to_thread.run_sync(_sqlite_snapshot, settings, database)
        else:
            rows = await _pg_snapshot(settings, database)
        missing = []
        for row in rows:
            key = row["storage_key"]
            if key in copied:
                continue
            source = storage.path_for(key)
            try:
                copied[key] = await to_thread.run_sync(
                    _copy_verified, source, dest / "files" / key, row["sha256"])
            except FileNotFoundError:
                missing.append(key)
        if not missing:
            break
        if attempt == ATTEMPTS:
            raise BackupError(f"{len(missing)} stored files are missing from {storage.root} "
                              f"(first: {missing[0]}); run `kitlib check --repair`")
    wanted = {row["storage_key"] for row in rows}
    for key in set(copied) - wanted:  # copied for an earlier snapshot, since deleted
        (dest / "files" / key).unlink()
        del copied[key]
    secret = settings.data_dir / ".secret_key"
    if secret.is_file():
        shutil.copyfile(secret, dest / SECRET_FILE)
        (dest / SECRET_FILE).chmod(0o600)
    manifest = {
        "format": FORMAT, "kitlib": __version__, "created_at": datetime.now(UTC).isoformat(),
        "database": {"kind": kind, "file": database.name,
                     "sha256": await to_thread.run_sync(_sha256, database)},
        "files": [{"key": row["storage_key"], "sha256": row["sha256"], "size": row["size"]}
                  for row in rows],
    }
    part = dest / (MANIFEST + ".part")
    part.write_text(json.dumps(manifest, indent=1))
    part.replace(dest / MANIFEST)
    return Report(dest, kind, len(rows), sum(copied.values()), attempt)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(source: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((source / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{source} holds no {MANIFEST}: not a backup, or an unfinished "
                          "one") from None
    except ValueError as exc:
        raise BackupError(f"{source / MANIFEST} is damaged: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source} is a backup in format {manifest.get('format')!r}; this "
                          f"kitlib reads format {FORMAT}")
    return manifest


async def _database_is_empty(settings: Settings) -> bool:
    if settings.is_sqlite:
        path = _sqlite_path(settings)
        if not path.exists():
            return True
        with sqlite3.connect(path) as connection:
            tables = connection.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                "('resource', 'stored_file')").fetchone()[0]
        return int(tables) == 0
    connection = await asyncpg.connect(_pg_dsn(settings))
    try:
        count = await connection.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        return int(count) == 0
    finally:
        await connection.close()


async def restore(settings: Settings, source: Path) -> Report:
    """Restore a backup into an empty library (no database tables, no stored files)."""
    manifest = read_manifest(source)
    kind = "sqlite" if settings.is_sqlite else "postgres"
    if manifest["database"]["kind"] != kind:
        raise BackupError(f"this backup holds a {manifest['database']['kind']} database and "
                          f"KITLIB_DATABASE_URL names a {kind} one")
    database = source / manifest["database"]["file"]
    if await to_thread.run_sync(_sha256, database) != manifest["database"]["sha256"]:
        raise BackupError(f"{database} does not match the manifest: the backup is damaged")
    storage = Storage(settings.uploads_dir)
    if storage.root.exists() and storage.all_keys():
        raise BackupError(f"{storage.root} already holds files: restore into an empty library")
    if not await _database_is_empty(settings):
        raise BackupError("the database already holds a library: restore into an empty one")
    storage.ensure()
    # Files go to a staging folder first and into place only once the database is in:
    # a damaged backup or a failed database restore leaves the library as empty as it was.
    staging = storage.root / "tmp" / "restore"
    shutil.rmtree(staging, ignore_errors=True)
    total = 0
    try:
        for entry in manifest["files"]:
            try:
                total += await to_thread.run_sync(
                    _copy_verified, source / "files" / entry["key"], staging / entry["key"],
                    entry["sha256"])
            except FileNotFoundError:
                raise BackupError(f"files/{entry['key']} is listed in the manifest but missing "
                                  "from the backup") from None
        await _restore_database(settings, database)
        for entry in manifest["files"]:
            target = storage.path_for(entry["key"])
            target.parent.mkdir(parents=True, exist_ok=True)
            (staging / entry["key"]).replace(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    secret = source / SECRET_FILE
    if secret.is_file():
        target_secret = settings.data_dir / ".secret_key"
        target_secret.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(secret, target_secret)
        target_secret.chmod(0o600)
    return Report(source, kind, len(manifest["files"]), total)


async def _restore_database(settings: Settings, database: Path) -> None:
    if settings.is_sqlite:
        target = _sqlite_path(settings)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            await to_thread.run_sync(_sqlite_restore, database, target)
        except sqlite3.Error as exc:
            target.unlink(missing_ok=True)
            raise BackupError(f"the database could not be restored: {exc}") from None
        return
    done = await _tool(
        "pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
        f"--dbname={_pg_dsn(settings)}", str(database))
    _, err = await done.communicate()
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {err.decode(errors='replace').strip()}")


def _sqlite_restore(source: Path, target: Path) -> None:
    origin = sqlite3.connect(source)
    copy = sqlite3.connect(target)
    try:
        origin.backup(copy)
    finally:
        copy.close()
        origin.close()
