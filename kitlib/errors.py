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
    ├── InsufficientStorage (507)       the disk is full; nothing was kept
    ├── UnsupportedMediaType (415)
    ├── RangeNotSatisfiable (416)
    └── IndexRebuilding (503)           the search index is being rebuilt; retry shortly

This module holds the tree and nothing else, so services raise without importing Starlette;
``kitlib.web.errors`` renders them (JSON for the API, the ``error.html`` page for people).
"""

from __future__ import annotations


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


