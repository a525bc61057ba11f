"""What every command shares: the settings the group read, the database, the storage folder."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import click

from kitlib.settings import Settings

T = TypeVar("T")


def settings_of(ctx: click.Context) -> Settings:
    """The settings ``main`` read once before any command ran."""
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[None]:
    from kitlib.db import close_db, open_db

    context = await open_db(settings)
    try:
        yield
    finally:
        await close_db(context)


def storage_for(settings: Settings) -> Any:
    from kitlib.storage import Storage

    storage = Storage(settings.uploads_dir)
    storage.ensure()
    return storage
