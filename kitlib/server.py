"""The HTTP server: uvicorn (httptools, uvloop) with one or several worker processes."""

from __future__ import annotations

from typing import Any

import uvicorn
import uvicorn.protocols.http.httptools_impl as httptools_impl
from starlette.applications import Starlette

from kitlib.app import create_app
from kitlib.settings import Settings, load_settings

# uvicorn stops reading a request body once 64 KiB wait unread by the app, so a 1 GiB upload
# reached kitlib in 16,000 pieces, each a trip through the multipart parser, the hash and the
# event loop, with the loop idle half the time (docs/benchmarks.md, "Transfer profile").
# Letting 1 MiB wait costs at most that much memory per uploading connection.
BODY_BUFFER = 1024 * 1024
httptools_impl.HIGH_WATER_LIMIT = BODY_BUFFER  # type: ignore[attr-defined]


def app_from_environment() -> Starlette:
    """The app of one worker process (``kitlib serve --workers N``).

    Each process reads the settings again; the parent applied migrations before starting it.
    """
    return create_app(load_settings(), apply_migrations=False)


def run(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Serve until interrupted."""
    options: dict[str, Any] = dict(
        host=host, port=port, log_level=settings.log_level, http="httptools", loop="uvloop",
        proxy_headers=False, server_header=False, timeout_graceful_shutdown=5)
    if workers == 1:
        uvicorn.run(create_app(settings, apply_migrations=False), **options)
    else:
        # Worker processes import this module (and so its buffer setting) and build their
        # own app from the same environment.
        uvicorn.run("kitlib.server:app_from_environment", factory=True, workers=workers,
                    **options)
