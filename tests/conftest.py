"""Fixtures: settings on tmp_path, a fresh database per test (SQLite or PostgreSQL), an app
from create_app, httpx over ASGITransport, and a real server on a loopback port.

``KITLIB_TEST_DATABASE=postgres`` runs the suite on the PostgreSQL server named by
``KITLIB_TEST_DATABASE_URL`` (default postgres://postgres@127.0.0.1:5432/test). A missing
server is an error, never a skip: CI must not pass by testing nothing.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from bench.live import LiveServer, start_server, stop_server
from bench.live import free_port as free_port  # the tests import these from here too
from bench.live import running_server as running_server
from bench.live import server_env as server_env
from bench.live import staff_token as staff_token
from kitlib.access.credentials import create_token, hash_password
from kitlib.db import migrate
from kitlib.models import Role, User
from kitlib.settings import Settings
from kitlib.web.app import create_app

BACKEND = os.environ.get("KITLIB_TEST_DATABASE", "sqlite")
PG_URL = os.environ.get("KITLIB_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
PASSWORD = "correct horse battery staple"
_counter = itertools.count()


# Fixtures that open a database: a test that uses none of them behaves the same on both.
DATABASE_FIXTURES = frozenset({"template_db", "empty_database_url"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, leave out what does not depend on the database.

    Tests that open no database (extraction, media, rendering, settings) and the browser tests
    (which drive behaviour the API tests cover on both databases) run once, on SQLite.
    """
    if BACKEND != "postgres":
        return
    once = [item for item in items
            if item.get_closest_marker("browser")
            or not DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))]
    if once:
        config.hook.pytest_deselected(items=once)
        kept = set(map(id, once))
        items[:] = [item for item in items if id(item) not in kept]


def pytest_report_header() -> str:
    return f"kitlib database backend: {BACKEND}"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def run_async(coroutine: Any) -> Any:
    """asyncio.run in a thread of its own: the browser tests' Playwright keeps an event loop
    running in the main thread, where asyncio.run refuses to start."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _pg_url(database: str) -> str:
    base, _, _ = PG_URL.rpartition("/")
    return f"{base}/{database}"


async def _pg_admin(*statements: str) -> None:
    connection = await asyncpg.connect(PG_URL.replace("postgres://", "postgresql://", 1))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database to copy for each test: migrating once keeps the suite fast."""
    if BACKEND == "sqlite":
        root = tmp_path_factory.mktemp("template")
        settings = Settings.for_root(root)
        run_async(migrate(settings))
        yield str(root / "kitlib.sqlite3")
        return
    if BACKEND != "postgres":
        raise pytest.UsageError(f"KITLIB_TEST_DATABASE={BACKEND!r}: use sqlite or postgres")
    name = f"kitlib_tpl_{os.getpid()}"
    try:
        run_async(_pg_admin(f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"))
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.exit(f"PostgreSQL at {PG_URL} is not reachable ({exc}); start it with "
                    "scripts/ensure-postgres", returncode=3)
    run_async(migrate(Settings.for_root(tmp_path_factory.mktemp("pg"),
                                          database_url=_pg_url(name))))
    yield name
    run_async(_pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@contextlib.contextmanager
def fresh_database(template_db: str, folder: Path) -> Iterator[str]:
    """A copy of the migrated template database, removed afterwards; yields its URL."""
    if BACKEND == "sqlite":
        target = folder / "kitlib.sqlite3"
        shutil.copyfile(template_db, target)
        yield f"sqlite://{target}"
        return
    name = f"kitlib_t_{os.getpid()}_{next(_counter)}"
    run_async(_pg_admin(f"CREATE DATABASE {name} TEMPLATE {template_db}"))
    yield _pg_url(name)
    run_async(_pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def database_url(template_db: str, tmp_path: Path) -> Iterator[str]:
    with fresh_database(template_db, tmp_path) as url:
        yield url


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # No background workers: tests drain the job queue themselves (kitlib.jobs.worker.drain).
    return Settings.for_root(tmp_path, database_url=database_url,
                             max_upload_size=50 * 1024 * 1024, index_worker=False,
                             media_worker=False,
                             log_level="warning")


@dataclass
class Kit:
    """What most tests need: the client, the settings and a token per role."""

    client: httpx.AsyncClient
    settings: Settings
    staff: dict[str, str]
    member: dict[str, str]
    staff_user: User
    member_user: User
    app: Any


async def _user(email: str, role: Role) -> tuple[User, dict[str, str]]:
    user = await User.create(email=email, role=role, password_hash=hash_password(PASSWORD),
                             organisation="Cluster Lab" if role == Role.MEMBER else "Staff")
    return user, {"Authorization": f"Bearer {await create_token(user)}"}


@pytest.fixture
async def lib(settings: Settings) -> AsyncIterator[Kit]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        staff_user, staff = await _user("staff@example.org", Role.STAFF)
        member_user, member = await _user("member@example.org", Role.MEMBER)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://kitlib.test") as client:
            yield Kit(client, settings, staff, member, staff_user, member_user, app)


@pytest.fixture
def make_app(settings: Settings) -> Callable[..., Any]:
    def factory(**overrides: Any) -> Any:
        return create_app(settings.with_overrides(**overrides))
    return factory


@pytest.fixture
def live_server(settings: Settings, request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """``kitlib serve`` on a free port, with its background workers; tests marked
    ``@pytest.mark.parametrize("live_server", [N], indirect=True)`` get N processes."""
    workers = int(getattr(request, "param", 1))
    server = start_server(settings.with_overrides(max_upload_size=2 * 1024**3,
                                                  index_worker=True, media_worker=True), workers)
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all (what a restore starts from)."""
    if BACKEND == "sqlite":
        yield f"sqlite://{tmp_path / 'empty' / 'kitlib.sqlite3'}"
        return
    name = f"kitlib_e_{os.getpid()}_{next(_counter)}"
    run_async(_pg_admin(f"CREATE DATABASE {name}"))
    yield _pg_url(name)
    run_async(_pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
