"""Error answers: JSON ``{"error": {"status", "code", "message"}}`` for the API and for clients
that ask for JSON, the ``error.html`` page in the reader's language otherwise.

The exception tree itself is ``kitlib.errors``.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from kitlib.errors import KitlibError
from kitlib.web.i18n import gettext_for

log = logging.getLogger("kitlib")


def wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/") or request.url.path == "/openapi.json":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(request: Request, status: int, code: str, message: str,
                   headers: dict[str, str] | None = None) -> Response:
    if wants_json(request) or not hasattr(request.app.state, "templates"):
        body: dict[str, Any] = {"error": {"status": status, "code": code, "message": message}}
        return JSONResponse(body, status_code=status, headers=headers)
    templates = request.app.state.templates
    principal = getattr(request.state, "principal", None)
    message = gettext_for(request, message)  # the page's language, when the catalogue has it
    # The header's forms (language, sign-out) still work from an error page.
    page = templates.get_template("error.html").render(
        request=request, status=status, code=code, message=message,
        user=principal.user if principal is not None else None,
        csrf_token=request.cookies.get("kitlib_csrf", ""))
    return HTMLResponse(page, status_code=status, headers=headers)


async def kitlib_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, KitlibError)
    return error_response(request, exc.status, exc.code, exc.message, exc.headers)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}
    message = exc.detail if exc.detail and exc.status_code != 404 else "Not found."
    if exc.status_code == 405:
        message = "This method is not allowed here."
    return error_response(request, exc.status_code, codes.get(exc.status_code, "error"),
                          str(message), dict(exc.headers or {}))


async def client_gone_handler(request: Request, exc: Exception) -> Response:
    # Nobody is listening any more; the view has already removed what it had written.
    log.info("client went away during %s %s", request.method, request.url.path)
    return Response(status_code=400)


async def server_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, 500, "internal_error",
                          "Something went wrong on our side; it has been logged.")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    KitlibError: kitlib_error_handler,
    HTTPException: http_error_handler,
    ClientDisconnect: client_gone_handler,
    Exception: server_error_handler,
}
