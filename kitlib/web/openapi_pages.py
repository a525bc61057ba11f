"""The HTML pages in /openapi.json: described so the document still names every route.

A page below is described by hand where it has more to say (parameters, refusals); any other
page route is described from its view: the first line of the view's docstring, its path
parameters, and an HTML answer. Adding a page therefore needs no change here.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from starlette.convertors import IntegerConvertor
from starlette.routing import BaseRoute, Route

PAGES_PACKAGE = "kitlib.web.views.pages"

_HTML = {"200": {"description": "HTML page"}}
_ID = {"in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
_FORM = {"303": {"description": "Done; see Location"},
         "403": {"description": "The CSRF token is missing or expired"}}
_MISSING = {"404": {"description": "Missing or hidden"}}
# Ids are checked before any lookup: one that is not a number of at most 12 digits is a 400.
_BAD_ID = {"400": {"description": "The id is not a positive integer (at most 2**31 - 1)"}}
# Staff pages send someone signed out to the sign-in page, and refuse anyone else who is not
# staff.
_STAFF_ONLY = {"303": {"description": "Sign in first"},
               "403": {"description": "Staff only"}}


def _page(summary: str, *params: dict[str, Any], extra: dict[str, Any] | None = None
          ) -> dict[str, Any]:
    return {"get": {"summary": summary, "parameters": list(params),
                    "responses": {**_HTML, **(extra or {})}}}


PAGE_PATHS: dict[str, Any] = {
    "/language": {"post": {"summary": "Choose the pages' language (form: language, next); "
                                      "remembered in the kitlib_lang cookie",
                           "responses": _FORM}},
    "/search": _page("Search page: the /api/search filters, with facets and highlights",
                     extra={"400": {"description": "A bad filter"}}),
    "/resources/{resource_id}": _page("A resource: preview, downloads, related resources",
                                      {"name": "resource_id", **_ID},
                                      extra={**_BAD_ID, **_MISSING}),
    "/kits/{slug}": _page("A kit: its items in order, and the whole-kit download",
                          {"name": "slug", "in": "path", "required": True,
                           "schema": {"type": "string"}}, extra=_MISSING),
    "/webinars/{webinar_id}": _page("A webinar: player, chapters, transcript, slides",
                                    {"name": "webinar_id", **_ID},
                                    {"name": "t", "in": "query",
                                     "schema": {"type": "number", "minimum": 0}},
                                    extra={**_BAD_ID, **_MISSING}),
    "/webinars/{webinar_id}/captions.vtt": {"get": {
        "summary": "The transcript as WebVTT captions", "parameters": [{"name": "webinar_id",
                                                                         **_ID}],
        "responses": {"200": {"description": "text/vtt"}, **_BAD_ID,
                      "404": {"description": "No transcript this caller may read"}}}},
    "/staff": _page("Staff dashboard: download charts and extraction status", extra=_STAFF_ONLY),
    "/staff/upload": {
        **_page("Staff upload page", extra=_STAFF_ONLY),
        # Refused as POST /api/resources refuses, with the same statuses.
        "post": {"summary": "Upload without JavaScript: as POST /api/resources, answered with a "
                            "redirect to the new resource's edit page",
                 "responses": {**_FORM, "400": {"description": "A bad field or body"},
                               "401": {"description": "Not signed in"},
                               "403": {"description": "Not staff, or the CSRF token is "
                                                      "missing or expired"},
                               "408": {"description": "The body stopped arriving"},
                               "413": {"description": "Too large"},
                               "415": {"description": "Type not accepted"}}}},
    "/staff/resources/{resource_id}": {
        **_page("Edit a resource's metadata; its extraction status",
                {"name": "resource_id", **_ID}, extra={**_STAFF_ONLY, **_BAD_ID, **_MISSING}),
        "post": {"summary": "Save a resource's metadata (form)",
                 "parameters": [{"name": "resource_id", **_ID}],
                 "responses": {**_FORM, "400": {"description": "A bad field"}}}},
}


def described_pages(routes: Sequence[BaseRoute]) -> dict[str, Any]:
    """PAGE_PATHS, plus every other page route of ``routes`` described from its view."""
    out: dict[str, Any] = {path: dict(ops) for path, ops in PAGE_PATHS.items()}
    for route in routes:
        if not isinstance(route, Route) or not route.endpoint.__module__.startswith(PAGES_PACKAGE):
            continue
        path = route.path_format
        for method in sorted((route.methods or set()) - {"HEAD"}):
            if method.lower() in out.get(path, {}):
                continue
            doc = inspect.getdoc(route.endpoint) or ""
            params = [{"name": name, "in": "path", "required": True,
                       "schema": _ID["schema"] if isinstance(convertor, IntegerConvertor)
                       else {"type": "string"}}
                      for name, convertor in route.param_convertors.items()]
            out.setdefault(path, {})[method.lower()] = {
                "summary": doc.split("\n")[0], "parameters": params,
                "responses": _HTML if method == "GET" else _FORM}
    return out
