"""The exception tree; each class carries the HTTP status it answers with.

    KitlibError (500)
    ├── BadRequest (400)
    │   └── InvalidField (400)         a named field has a bad value
    ├── Unauthorized (401)              no credentials, or wrong ones
    ├── Forbidden (403)                 known user, not allowed
    ├── NotFound (404)                  missing, or hidden from this user (same answer)
    ├── MethodNotAllowed (405)
    ├── Conflict (409)
    ├── RequestTimeout (408)            the body stopped arriving
    ├── PayloadTooLarge (413)
    ├── UnsupportedMediaType (415)
    ├── RangeNotSatisfiable (416)
    └── IndexRebuilding (503)           the search index is being rebuilt; retry shortly

One handler renders them: JSON ``{"error": {"status", "code", "message"}}`` for the API and
for clients that ask for JSON, an HTML page from ``{status}.html`` otherwise.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from kitlib.i18n import gettext_for

log = logging.getLogger("kitlib")


class KitlibError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str = "", *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code)
        self.headers = headers or {}


class BadRequest(KitlibError):
    """The request is malformed."""

    status = 400
    code = "bad_request"


class InvalidField(BadRequest):
    """A field has a value kitlib cannot accept."""

    code = "invalid_field"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class Unauthorized(KitlibError):
    """Sign in, or send a valid API token."""

    status = 401
    code = "unauthorized"

    def __init__(self, message: str = "") -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer realm="kitlib"'})


class Forbidden(KitlibError):
    """You are not allowed to do this."""

    status = 403
    code = "forbidden"


class NotFound(KitlibError):
    """Not found."""

    status = 404
    code = "not_found"


class MethodNotAllowed(KitlibError):
    """This method is not allowed here."""

    status = 405
    code = "method_not_allowed"


class Conflict(KitlibError):
    """The request conflicts with what is stored."""

    status = 409
    code = "conflict"


class RequestTimeout(KitlibError):
    """The request body stopped arriving."""

    status = 408
    code = "request_timeout"


class PayloadTooLarge(KitlibError):
    """The upload is too large."""

    status = 413
    code = "payload_too_large"


class InsufficientStorage(KitlibError):
    """The disk (or the quota) of the uploads folder is full."""

    status = 507
    code = "insufficient_storage"


class UnsupportedMediaType(KitlibError):
    """This content type is not accepted here."""

    status = 415
    code = "unsupported_media_type"


class RangeNotSatisfiable(KitlibError):
    """The requested range is outside the file."""

    status = 416
    code = "range_not_satisfiable"


class IndexRebuilding(KitlibError):
    """The search index is being rebuilt from the database; try again in a few seconds."""

    status = 503
    code = "index_rebuilding"

    def __init__(self, retry_after_s: int = 5) -> None:
        super().__init__("The search index is being rebuilt from the library; search again in "
                         "a few seconds.", headers={"Retry-After": str(retry_after_s)})


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
