"""Small helpers every view uses: the caller, the body, the shared objects on app.state, and
the library's public address."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from kitlib.access.rules import Principal, require_staff
from kitlib.errors import BadRequest, InvalidField, PayloadTooLarge, UnsupportedMediaType
from kitlib.services.validation import is_id
from kitlib.settings import Settings
from kitlib.storage import Storage
from kitlib.urls import Links
from kitlib.web.auth import check_csrf, resolve_principal

MAX_JSON_BYTES = 1024 * 1024


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def storage_of(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


def site_of(request: Request) -> Links:
    """Absolute links from ``KITLIB_BASE_URL``, else from the address this request came to."""
    return Links(settings_of(request).base_url or str(request.base_url).rstrip("/"))


def public_url(request: Request) -> str:
    """This request's own URL, as the library's public address names it."""
    if not settings_of(request).base_url:
        return str(request.url)
    path = request.url.path.removeprefix(request.scope.get("root_path", ""))
    return site_of(request).to(path + (f"?{request.url.query}" if request.url.query else ""))


async def staff(request: Request) -> Principal:
    """The caller, who must be staff; unsafe cookie requests must also pass CSRF."""
    principal = await resolve_principal(request)
    require_staff(principal)
    check_csrf(request, principal)
    return principal


async def json_body(request: Request) -> Any:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise UnsupportedMediaType("Send a JSON body with Content-Type: application/json.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_JSON_BYTES:
            raise PayloadTooLarge(f"JSON bodies are limited to {MAX_JSON_BYTES} bytes.")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}") from None


# The answers a staff report (statistics, webinar usage) comes in: ?format=json or csv.
REPORT_FORMATS = ("json", "csv")


def report_format(request: Request) -> str:
    form = request.query_params.get("format") or REPORT_FORMATS[0]
    if form not in REPORT_FORMATS:
        raise InvalidField("format", f"{form[:40]!r} is not {' or '.join(REPORT_FORMATS)}")
    return form


def path_int(request: Request, name: str) -> int:
    raw = request.path_params[name]
    if isinstance(raw, int):
        return raw
    text = str(raw)
    if not is_id(text):
        raise InvalidField(name, "must be a positive integer")
    return int(text)
