"""The HTTP server: uvicorn (httptools, uvloop) with one or several worker processes."""

from __future__ import annotations

from typing import Any

import uvicorn
from starlette.applications import Starlette

from kitlib.settings import Settings, load_settings
from kitlib.web.app import create_app


def app_from_environment() -> Starlette:
    """The app of one worker process (``kitlib serve --workers N``).

    Each process reads the settings again; the parent applied migrations before starting it.
    """
    return create_app(load_settings(), apply_migrations=False)


def run(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Serve until interrupted."""
    options: dict[str, Any] = dict(
        host=host, port=port, log_level=settings.log_level, http="httptools", loop="uvloop",
        server_header=False, timeout_graceful_shutdown=5,
        # Without a proxy to trust, X-Forwarded-For is anyone's to forge.
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None)
    if workers == 1:
        uvicorn.run(create_app(settings, apply_migrations=False), **options)
    else:
        # Worker processes import this module (and so its buffer setting) and build their
        # own app from the same environment.
        uvicorn.run("kitlib.web.server:app_from_environment", factory=True, workers=workers,
                    **options)
