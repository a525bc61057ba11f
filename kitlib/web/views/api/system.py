"""Health and the API description."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kitlib.services.health import check_database
from kitlib.web.openapi import openapi_document


async def healthz(request: Request) -> Response:
    try:
        await check_database()
    except Exception as exc:  # a health check reports, it does not raise
        return JSONResponse({"status": "error", "database": str(exc)[:200]}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document(request.app.routes))
