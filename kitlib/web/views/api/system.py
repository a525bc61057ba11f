"""Health and the API description."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from tortoise import connections

from kitlib.web.openapi import openapi_document


async def healthz(request: Request) -> Response:
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception as exc:  # a health check reports, it does not raise
        return JSONResponse({"status": "error", "database": str(exc)[:200]}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document())
