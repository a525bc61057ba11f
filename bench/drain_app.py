"""A bare ASGI app that reads a request body and throws it away (bench.upload's ceiling).

Served by the same uvicorn, httptools and uvloop as ``kitlib serve``: the time it takes to
receive a body is what any ASGI application pays before doing anything with the bytes.
"""

from __future__ import annotations

from typing import Any


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    received = 0
    while True:
        message = await receive()
        received += len(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = str(received).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
