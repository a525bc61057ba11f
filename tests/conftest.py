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
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from kitlib.access.credentials import create_token, hash_password
from kitlib.db import migrate
from kitlib.models import Role, User
from kitlib.settings import Settings
from kitlib.web.app import create_app

BACKEND = os.environ.get("KITLIB_TEST_DATABASE", "sqlite")
PG_URL = os.environ.get("KITLIB_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
PASSWORD = "correct horse battery staple"
_counter = itertools.count()


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


# -- a real server ---------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    settings: Settings
    env: dict[str, str]
    process: subprocess.Popen[bytes]

    def cli(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run([sys.executable, "-m", "kitlib", *args], env=self.env,
                              input=stdin.encode() if stdin else None, capture_output=True,
                              check=True, timeout=120)
        return done.stdout.decode().strip()


def staff_token(server: LiveServer) -> str:
    """A staff account on a real server, and an API token for it."""
    server.cli("user", "add", "staff@example.org", "--role", "staff", "--password-stdin",
               stdin="a-long-password\n")
    return server.cli("token", "create", "staff@example.org")


def server_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITLIB_")}
    env.update({"KITLIB_DATA_DIR": str(settings.data_dir),
                "KITLIB_DATABASE_URL": settings.database_url,
                "KITLIB_SECRET_KEY": settings.secret_key,
                "KITLIB_MAX_UPLOAD_SIZE": str(settings.max_upload_size),
                "KITLIB_BODY_IDLE_TIMEOUT": str(settings.body_idle_timeout),
                "KITLIB_INDEX_WORKER": "true" if settings.index_worker else "false",
                "KITLIB_MEDIA_WORKER": "true" if settings.media_worker else "false",
                "KITLIB_LOG_LEVEL": settings.log_level})
    if settings.accel_redirect:
        env["KITLIB_ACCEL_REDIRECT"] = settings.accel_redirect
    if settings.forwarded_allow_ips:
        env["KITLIB_FORWARDED_ALLOW_IPS"] = settings.forwarded_allow_ips
    return env


def start_server(settings: Settings, workers: int = 1) -> LiveServer:
    """``kitlib serve`` on a free port for these settings, once it answers /healthz."""
    port = free_port()
    env = server_env(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log = (settings.data_dir / "server.log").open("ab")
    process = subprocess.Popen([sys.executable, "-m", "kitlib", "serve", "--port", str(port),
                                "--workers", str(workers)],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            log.close()
            raise RuntimeError("kitlib serve did not start:\n" +
                               (settings.data_dir / "server.log").read_text())
        time.sleep(0.1)
    return LiveServer(url, settings, env, process)


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture
def live_server(settings: Settings, request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """``kitlib serve`` on a free port, with its background search worker; tests marked
    ``@pytest.mark.parametrize("live_server", [N], indirect=True)`` get N processes."""
    workers = int(getattr(request, "param", 1))
    server = start_server(settings.with_overrides(max_upload_size=2 * 1024**3,
                                                  search_worker=True), workers)
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


@contextlib.contextmanager
def running_server(settings: Settings, workers: int = 1) -> Iterator[LiveServer]:
    """``kitlib serve`` on a free loopback port until the block ends."""
    server = start_server(settings, workers)
    try:
        yield server
    finally:
        stop_server(server)
