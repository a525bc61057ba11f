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

from typing import ClassVar


class KitlibError(Exception):
    """Something went wrong inside kitlib."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init_subclass__(cls, *, status: int | None = None, code: str | None = None) -> None:
        # Each class states its status and code on its class line:
        # `class X(Base, status=..., code=...)`.
        super().__init_subclass__()
        if status is not None:
            cls.status = status
        if code is not None:
            cls.code = code

    def __init__(self, message: str = "", *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code)
        self.headers = headers or {}


class BadRequest(KitlibError, status=400, code="bad_request"):
    """The request is malformed."""


class InvalidField(BadRequest, code="invalid_field"):
    """A field has a value kitlib cannot accept."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class Unauthorized(KitlibError, status=401, code="unauthorized"):
    """Sign in, or send a valid API token."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer realm="kitlib"'})


class Forbidden(KitlibError, status=403, code="forbidden"):
    """You are not allowed to do this."""


class NotFound(KitlibError, status=404, code="not_found"):
    """Not found."""


class MethodNotAllowed(KitlibError, status=405, code="method_not_allowed"):
    """This method is not allowed here."""


class Conflict(KitlibError, status=409, code="conflict"):
    """The request conflicts with what is stored."""


class RequestTimeout(KitlibError, status=408, code="request_timeout"):
    """The request body stopped arriving."""


class PayloadTooLarge(KitlibError, status=413, code="payload_too_large"):
    """The upload is too large."""


class InsufficientStorage(KitlibError, status=507, code="insufficient_storage"):
    """The disk (or the quota) of the uploads folder is full."""


class UnsupportedMediaType(KitlibError, status=415, code="unsupported_media_type"):
    """This content type is not accepted here."""


class RangeNotSatisfiable(KitlibError, status=416, code="range_not_satisfiable"):
    """The requested range is outside the file."""


class IndexRebuilding(KitlibError, status=503, code="index_rebuilding"):
    """The search index is being rebuilt from the database; try again in a few seconds."""

    def __init__(self, retry_after_s: int = 5) -> None:
        super().__init__("The search index is being rebuilt from the library; search again in "
                         "a few seconds.", headers={"Retry-After": str(retry_after_s)})


