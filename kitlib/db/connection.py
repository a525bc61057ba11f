"""Tortoise configuration and the open/close used by the app lifespan, the CLI and tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as run_migrations

from kitlib.settings import Settings

APP_LABEL = "kitlib"


def connection_url(url: str) -> str:
    # Tortoise names the asyncpg backend "postgres"; accept the spellings people paste.
    for alias in ("postgresql://", "asyncpg://"):
        if url.startswith(alias):
            return "postgres://" + url[len(alias):]
    return url


def tortoise_config(settings: Settings) -> dict[str, Any]:
    """The Tortoise config dict for these settings."""
    url = connection_url(settings.database_url)
    if url.startswith("sqlite://"):
        path = url[len("sqlite://"):]
        if path and path != ":memory:":
            Path(path).resolve().parent.mkdir(parents=True, exist_ok=True)
        connection: str | dict[str, Any] = {
            "engine": "kitlib.db.sqlite_backend",
            # WAL lets downloads read while an upload commits; the busy timeout makes
            # concurrent writers wait instead of failing with "database is locked".
            "credentials": {"file_path": path, "journal_mode": "WAL", "journal_size_limit": 16384,
                            "busy_timeout": 10000},
        }
    else:
        connection = url
    return {
        "connections": {"default": connection},
        "apps": {
            APP_LABEL: {
                "models": ["kitlib.models"],
                "migrations": "kitlib.db.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def migrate(settings: Settings) -> None:
    """Apply every pending migration, then release the connections it opened."""
    await run_migrations(config=tortoise_config(settings))
    await Tortoise.close_connections()


async def open_db(settings: Settings, *, apply_migrations: bool = True) -> TortoiseContext:
    """Migrate if asked, then open Tortoise for every task of this process."""
    if apply_migrations:
        await migrate(settings)
    # The global fallback lets request tasks, which do not inherit the lifespan task's
    # context variables, reach the connections opened here.
    return await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)


async def close_db(context: TortoiseContext) -> None:
    """Close the connections of a context made by open_db."""
    await context.close_connections()
