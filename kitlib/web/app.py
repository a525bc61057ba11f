"""create_app(settings): the ASGI application, built fresh for each set of settings."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kitlib import formats
from kitlib.db import close_db, open_db
from kitlib.i18n import check_catalogues
from kitlib.jobs import worker as jobs
from kitlib.services.download_events import DownloadRecorder
from kitlib.services.feeds import xml_text
from kitlib.services.search import SearchService
from kitlib.settings import Settings
from kitlib.storage import Storage
from kitlib.web import i18n, logredact
from kitlib.web.errors import EXCEPTION_HANDLERS
from kitlib.web.limits import RequestLimits
from kitlib.web.render import url_path
from kitlib.web.routes import routes

log = logging.getLogger("kitlib")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "media-src 'self'; object-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
            "form-action 'self'")


class SecurityHeaders:
    """Pure ASGI, so streamed uploads and downloads pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", PAGE_CSP)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def trusted_hosts(settings: Settings) -> list[str]:
    """The Host names a request may carry once ``KITLIB_BASE_URL`` is set."""
    host = urlsplit(settings.base_url).hostname or ""
    return [host, "localhost", "127.0.0.1"]


def template_dir() -> Path:
    """templates/ at the repository root, or the copy shipped inside the wheel."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package.parent / "templates", package / "templates"):
        if candidate.is_dir():
            return candidate
    raise RuntimeError("kitlib's templates folder is missing from this installation")


def _start_worker(settings: Settings) -> asyncio.Task[None] | None:
    """The background worker of the families switched on (KITLIB_INDEX_WORKER and
    KITLIB_MEDIA_WORKER), or None when both are off."""
    if settings.search_worker is not None:
        log.warning("KITLIB_SEARCH_WORKER is deprecated: set KITLIB_INDEX_WORKER and "
                    "KITLIB_MEDIA_WORKER instead (it now stands for both)")
    families = jobs.families_for(settings)
    return asyncio.create_task(jobs.run_worker(settings, families)) if families else None


def create_app(settings: Settings, *, apply_migrations: bool = True) -> Starlette:
    """Build the application; the lifespan opens the database and the storage folders."""
    storage = Storage(settings.uploads_dir)
    downloads = DownloadRecorder()
    templates = jinja2.Environment(loader=jinja2.FileSystemLoader(template_dir()),
                                   autoescape=True, undefined=jinja2.StrictUndefined)
    templates.filters["xml_text"] = xml_text
    templates.globals["url_path"] = url_path
    templates.filters["preview"] = formats.preview
    i18n.install(templates)
    check_catalogues()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        logredact.install()  # after the server configured its loggers
        storage.ensure()
        if swept := storage.sweep():
            log.warning("removed %d temporary files left by interrupted uploads", swept)
        settings.index_dir.mkdir(parents=True, exist_ok=True)
        context = await open_db(settings, apply_migrations=apply_migrations)
        app.state.search = SearchService(settings)
        worker = _start_worker(settings)
        try:
            yield
        finally:
            if worker is not None:  # stopped first: it may be using the database
                worker.cancel()
                with contextlib.suppress(BaseException):
                    await worker
            await app.state.search.close()
            await downloads.close()
            await close_db(context)

    app = Starlette(routes=routes, exception_handlers=EXCEPTION_HANDLERS, lifespan=lifespan)
    app.state.settings = settings
    app.state.storage = storage
    app.state.downloads = downloads
    app.state.templates = templates
    if settings.base_url:
        # Links name the public address, never the Host header; a request for any other
        # host (a rebinding domain, a forged Host) is a 400. The loopback names stay open
        # for probes on the machine itself.
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=trusted_hosts(settings))
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestLimits)
    return app

