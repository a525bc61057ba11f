"""Request limits the HTTP server does not enforce itself: header size and count, URL length.

uvicorn's httptools parser accepts headers of any size (a 200 kB header reached the app), so
this ASGI middleware answers 431 or 414 before any view runs. A reverse proxy in front
should cap them earlier still (nginx: ``large_client_header_buffers``): the server has
already read what it refuses here.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

MAX_HEADER_BYTES = 32 * 1024
MAX_HEADERS = 100
MAX_URL_BYTES = 8 * 1024


class RequestLimits:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            size = sum(len(name) + len(value) + 4 for name, value in headers)
            url = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
            refusal = None
            if size > MAX_HEADER_BYTES or len(headers) > MAX_HEADERS:
                refusal = (431, "request_header_fields_too_large",
                           f"The request headers are too large (at most {MAX_HEADERS} headers "
                           f"and {MAX_HEADER_BYTES // 1024} KiB in all).")
            elif url > MAX_URL_BYTES:
                refusal = (414, "uri_too_long",
                           f"The URL is longer than {MAX_URL_BYTES // 1024} KiB.")
            if refusal is not None:
                status, code, message = refusal
                body = json.dumps({"error": {"status": status, "code": code,
                                             "message": message}}).encode()
                await send({"type": "http.response.start", "status": status, "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
