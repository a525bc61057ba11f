"""The OpenAPI 3.1 description of kitlib's HTTP surface; a test holds it to the route table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, get_args

from starlette.routing import BaseRoute

from kitlib import __version__
from kitlib.search import CompletionKind
from kitlib.services.search import SORTS
from kitlib.services.stats import GROUPS
from kitlib.web.auth import SESSION_COOKIE
from kitlib.web.common import REPORT_FORMATS
from kitlib.web.openapi_pages import described_pages
from kitlib.web.openapi_schemas import ENUMS, SCHEMAS, STR, enum_of, ref

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    words = {400: "Invalid input", 401: "No or bad credentials", 403: "Not allowed",
             404: "Not found, or not visible to the caller", 409: "Conflict",
             408: "The body stopped arriving", 413: "Too large", 415: "Wrong content type",
             416: "Range not satisfiable", 507: "The uploads folder's disk is full",
             503: "The index is being rebuilt (see Retry-After)"}
    return {str(code): _json(_ERROR, words[code]) for code in codes}


def _either(*codes: int) -> dict[str, Any]:
    """Errors of a route outside /api/: JSON for clients that ask for it, else an HTML page
    (errors.wants_json decides)."""
    out = _errors(*codes)
    for response in out.values():
        response["content"]["text/html"] = {"schema": STR}
    return out


def _id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


_SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
_PAGING = [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
           {"name": "per_page", "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": 100}}]
_STAFF: list[dict[str, list[str]]] = [{"bearer": []}, {"session": []}]


def _page_of(item: str) -> dict[str, Any]:
    return {"type": "object", "required": ["total", "page", "per_page", "items"],
            "properties": {"total": {"type": "integer"}, "page": {"type": "integer"},
                           "per_page": {"type": "integer"},
                           "items": {"type": "array", "items": ref(item)}}}


def _crud(name: str, item: str, param: dict[str, Any], body: str) -> dict[str, Any]:
    return {
        "get": {"summary": f"Read one {name}", "parameters": [param],
                "responses": {"200": _json(ref(item), name.capitalize()),
                              **_errors(400, 401, 404)}},
        "patch": {"summary": f"Change a {name} (staff)", "parameters": [param], "security": _STAFF,
                  "requestBody": {"required": True,
                                  "content": {"application/json": {"schema": ref(body)}}},
                  "responses": {"200": _json(ref(item), "Changed"),
                                **_errors(400, 401, 403, 404, 409, 415)}},
        "delete": {"summary": f"Delete a {name} (staff)", "parameters": [param],
                   "security": _STAFF,
                   "responses": {"204": {"description": "Deleted"}, **_errors(400, 401, 403, 404)}},
    }


def _search_filters() -> list[dict[str, Any]]:
    """The filters /api/search and the Atom feed share."""
    return [{"name": "q", "in": "query", "schema": STR},
            {"name": "kind", "in": "query", "schema": ENUMS["kind"]},
            {"name": "tag", "in": "query", "explode": True,
             "schema": {"type": "array", "items": STR}},
            {"name": "language", "in": "query", "schema": ENUMS["language"]},
            {"name": "kit", "in": "query", "schema": STR},
            {"name": "webinar", "in": "query", "schema": {"type": "integer"}}]


def _attendee_paths() -> dict[str, Any]:
    """Registration lists, personal links and their use (staff), and the link's own page."""
    listing = _json({"type": "object", "properties": {
        "items": {"type": "array", "items": ref("Attendee")}}}, "The webinar's attendees")
    report = _json({"type": "object", "properties": {
        "created": {"type": "integer"}, "updated": {"type": "integer"},
        "rejected": {"type": "array", "items": {"type": "object", "properties": {
            "line": {"type": "integer"}, "reason": STR, "text": STR}}},
        "attendees": {"type": "array", "items": ref("Attendee")}}}, "Import report")
    options = [{"name": "valid_days", "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": 3650}},
               {"name": "download_limit", "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": 100000}}]
    return {
        "/attend/{token}": {"get": {
            "summary": "An attendee's personal link: the webinar's recording, slides and "
                       "transcript (HTML; keeps the link in a cookie)",
            "parameters": [{"name": "token", "in": "path", "required": True, "schema": STR}],
            "responses": {"200": {"description": "HTML"}, **_either(403)}}},
        "/api/webinars/{webinar_id}/attendees": {
            "get": {"summary": "The webinar's attendees with their personal links (staff)",
                    "security": _STAFF, "parameters": [_id("webinar_id")],
                    "responses": {"200": listing, **_errors(400, 401, 403, 404)}},
            "post": {"summary": "Import a registration list (CSV: name, email, organisation; "
                                "comma or semicolon, UTF-8, UTF-16 or Windows-1252) (staff)",
                     "security": _STAFF, "parameters": [_id("webinar_id"), *options],
                     "requestBody": {"required": True, "content": {
                         "text/csv": {"schema": STR},
                         "multipart/form-data": {"schema": {"type": "object", "properties": {
                             "file": {"type": "string", "format": "binary"}}}}}},
                     "responses": {"200": report, **_errors(400, 401, 403, 404, 408, 413, 415)}}},
        "/api/webinars/{webinar_id}/attendees/{attendee_id}": {"patch": {
            "summary": "Revoke or restore a link, change its limit or validity, or issue a new "
                       "one (staff)",
            "security": _STAFF, "parameters": [_id("webinar_id"), _id("attendee_id")],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "additionalProperties": False, "properties": {
                    "revoked": {"type": "boolean"},
                    "download_limit": {"type": ["integer", "null"], "minimum": 1},
                    "valid_days": {"type": "integer", "minimum": 1, "maximum": 3650},
                    "new_link": {"type": "boolean"}}}}}},
            "responses": {"200": _json(ref("Attendee"), "Updated"),
                          **_errors(400, 401, 403, 404, 415)}}},
        "/api/webinars/{webinar_id}/usage": {"get": {
            "summary": "Who used their link and what they fetched (staff; JSON or CSV)",
            "security": _STAFF,
            "parameters": [_id("webinar_id"),
                           {"name": "format", "in": "query", "schema": enum_of(REPORT_FORMATS)}],
            "responses": {"200": {"description": "Usage per attendee", "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": STR}}}, **_errors(400, 401, 403, 404)}}},
    }


def openapi_document(routes: Sequence[BaseRoute]) -> dict[str, Any]:
    """The document served at /openapi.json for an app with these routes."""
    paths: dict[str, Any] = {
        "/": {"get": {"summary": "Home page", "responses": {"200": {"description": "HTML"}}}},
        "/login": {
            "get": {"summary": "Sign-in page", "responses": {"200": {"description": "HTML"}}},
            "post": {"summary": "Sign in (form, CSRF token required)",
                     "responses": {"303": {"description": "Signed in"},
                                   "401": {"description": "Wrong email or password"},
                                   "429": {"description": "Too many failed sign-ins for this "
                                                          "account or from this address "
                                                          "(see Retry-After)"},
                                   **_either(403)}}},
        "/logout": {"post": {"summary": "Sign out (form, CSRF token required)",
                             "responses": {"303": {"description": "Signed out"}, **_either(403)}}},
        "/healthz": {"get": {"summary": "Health check",
                             "responses": {"200": {"description": "Healthy"},
                                           "503": {"description": "Database unreachable"}}}},
        "/openapi.json": {"get": {"summary": "This document",
                                  "responses": {"200": {"description": "OpenAPI document"}}}},
        "/files/{file_id}/{filename}": {"get": {
            "summary": "Download a file (ranges, conditional requests)",
            "parameters": [_id("file_id"), {"name": "filename", "in": "path", "required": True,
                                            "schema": STR}],
            "responses": {"200": {"description": "The file"},
                          "206": {"description": "Partial content"},
                          "301": {"description": "Moved to the file's canonical name"},
                          "304": {"description": "Not modified"}, **_either(400, 401, 404, 416)}}},
        "/feeds/resources.atom": {"get": {
            "summary": "Atom feed (RFC 4287) of the 50 newest resources matching the filters: "
                       "public ones, or what the owner of a personal feed token may open "
                       "(sessions and API tokens are ignored)",
            "parameters": [*_search_filters(),
                           {"name": "token", "in": "query", "schema": STR}],
            "responses": {"200": {"description": "An Atom feed", "content": {
                "application/atom+xml": {"schema": STR}}},
                **_either(400, 401, 503)}}},
        "/api/resources": {
            "get": {"summary": "List visible resources, newest first",
                    "parameters": [*_PAGING,
                                   {"name": "kind", "in": "query", "schema": ENUMS["kind"]},
                                   {"name": "language", "in": "query",
                                    "schema": ENUMS["language"]}],
                    "responses": {"200": _json(_page_of("Resource"), "A page of resources"),
                                  **_errors(400, 401)}},
            "post": {"summary": "Upload a resource with its file (staff, streamed)",
                     "security": _STAFF,
                     "requestBody": {"required": True, "content": {
                         "multipart/form-data": {"schema": ref("ResourceUpload")}}},
                     "responses": {"201": _json(ref("Resource"), "Created"),
                                   **_errors(400, 401, 403, 408, 413, 415, 507)}}},
        "/api/resources/{resource_id}": _crud("resource", "Resource", _id("resource_id"),
                                              "ResourcePatch"),
        "/api/resources/{resource_id}/file": {"put": {
            "summary": "Replace a resource's file with the raw body (staff, streamed)",
            "parameters": [_id("resource_id"),
                           {"name": "Content-Disposition", "in": "header", "required": True,
                            "schema": STR}],
            "security": _STAFF,
            "requestBody": {"required": True, "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
            "responses": {"200": _json(ref("Resource"), "Replaced"),
                          **_errors(400, 401, 403, 404, 408, 413, 415, 507)}}},
        "/api/search": {"get": {
            "summary": "Full-text search over what the caller may see, with facets",
            "parameters": [*_search_filters(),
                           {"name": "from", "in": "query", "schema": {"type": "string",
                                                                      "format": "date"}},
                           {"name": "to", "in": "query", "schema": {"type": "string",
                                                                    "format": "date"}},
                           {"name": "sort", "in": "query", "schema": {
                               **enum_of(SORTS)}},
                           *_PAGING],
            "responses": {"200": _json(ref("SearchResults"), "A page of hits"),
                          **_errors(400, 401),
                          "503": _json(_ERROR, "The index is being rebuilt (see Retry-After)")}}},
        "/api/bundles": {"get": {
            "summary": "One ZIP of every file matching the search filters that the caller may "
                       "open, with manifest.csv and manifest.json; files stored, not deflated, "
                       "in kit order for one kit, else by date; resumable (Range, If-Range)",
            "parameters": [*_search_filters(),
                           {"name": "from", "in": "query", "schema": {"type": "string",
                                                                      "format": "date"}},
                           {"name": "to", "in": "query", "schema": {"type": "string",
                                                                    "format": "date"}}],
            "responses": {"200": {"description": "The archive (Content-Length, strong ETag)",
                                  "content": {"application/zip": {
                                      "schema": {"type": "string", "format": "binary"}}}},
                          "206": {"description": "One byte range of the archive"},
                          "304": {"description": "Not modified (If-None-Match)"},
                          **_errors(400, 401, 404, 416),
                          "503": _json(_ERROR, "The index is being rebuilt (see Retry-After)")}}},
        "/api/suggest": {"get": {
            "summary": "Autocomplete: titles and words from what the caller may see",
            "parameters": [{"name": "q", "in": "query", "schema": STR}],
            "responses": {"200": _json({"type": "object", "properties": {"suggestions": {
                "type": "array", "items": {"type": "object", "properties": {
                    "text": STR, "kind": enum_of(get_args(CompletionKind)),
                    "id": {"type": "integer"}, "url": STR}}}}}, "Suggestions"),
                **_errors(401),
                "503": _json(_ERROR, "The index is being rebuilt (see Retry-After)")}}},
        "/api/feed-token": {
            "post": {"summary": "A new personal feed token (the previous one stops working); "
                                "it opens nothing but /feeds/resources.atom?token=…",
                     "security": _STAFF,
                     "responses": {"201": _json({"type": "object", "properties": {
                         "token": STR, "url": STR}}, "Shown once"), **_errors(401, 403)}},
            "delete": {"summary": "Revoke the caller's personal feed token",
                       "security": _STAFF,
                       "responses": {"204": {"description": "Revoked"}, **_errors(401, 403)}}},
        "/api/stats": {"get": {
            "summary": "Download statistics (staff): per resource, kit, webinar, organisation "
                       "or day",
            "security": _STAFF,
            "parameters": [
                {"name": "group", "in": "query", "schema": enum_of(GROUPS)},
                {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
                {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
                {"name": "format", "in": "query", "schema": enum_of(REPORT_FORMATS)}],
            "responses": {
                "200": {"description": "Rows, most downloaded first (by day: in date order)",
                        "content": {"application/json": {"schema": ref("Stats")},
                                    "text/csv": {"schema": STR}}},
                **_errors(400, 401, 403)}}},
        "/api/kits": {
            "get": {"summary": "List kits",
                    "responses": {"200": _json({"type": "object", "properties": {
                        "items": {"type": "array", "items": ref("Kit")}}}, "Kits"),
                        **_errors(401)}},
            "post": {"summary": "Create a kit (staff)", "security": _STAFF,
                     "requestBody": {"required": True, "content": {
                         "application/json": {"schema": ref("KitInput")}}},
                     "responses": {"201": _json(ref("Kit"), "Created"),
                                   **_errors(400, 401, 403, 409, 415)}}},
        "/api/kits/{slug}": _crud("kit", "Kit", _SLUG, "KitInput"),
        "/api/webinars": {
            "get": {"summary": "List webinars, latest first", "parameters": _PAGING,
                    "responses": {"200": _json(_page_of("Webinar"), "A page of webinars"),
                                  **_errors(400, 401)}},
            "post": {"summary": "Create a webinar (staff)", "security": _STAFF,
                     "requestBody": {"required": True, "content": {
                         "application/json": {"schema": ref("WebinarInput")}}},
                     "responses": {"201": _json(ref("Webinar"), "Created"),
                                   **_errors(400, 401, 403, 415)}}},
        "/api/webinars/{webinar_id}": _crud("webinar", "Webinar", _id("webinar_id"),
                                            "WebinarInput"),
        **_attendee_paths(),
    }
    for path, ops in described_pages(routes).items():
        for method, op in ops.items():
            paths.setdefault(path, {}).setdefault(method, op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "kitlib", "version": __version__,
                 "description": "Webinar and resource-kit library. Reads are filtered by the "
                                "caller's access; writes need staff."},
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE}}},
    }
