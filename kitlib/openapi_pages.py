"""The HTML pages in /openapi.json: described so the document still names every route."""

from __future__ import annotations

from typing import Any

_HTML = {"200": {"description": "HTML page"}}
_ID = {"in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
_FORM = {"303": {"description": "Done; see Location"},
         "403": {"description": "The CSRF token is missing or expired"}}


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
                                      extra={"404": {"description": "Missing or hidden"}}),
    "/kits/{slug}": _page("A kit: its items in order, and the whole-kit download",
                          {"name": "slug", "in": "path", "required": True,
                           "schema": {"type": "string"}}),
    "/webinars/{webinar_id}": _page("A webinar: player, chapters, transcript, slides",
                                    {"name": "webinar_id", **_ID},
                                    {"name": "t", "in": "query",
                                     "schema": {"type": "number", "minimum": 0}}),
    "/webinars/{webinar_id}/captions.vtt": {"get": {
        "summary": "The transcript as WebVTT captions", "parameters": [{"name": "webinar_id",
                                                                         **_ID}],
        "responses": {"200": {"description": "text/vtt"},
                      "404": {"description": "No transcript this caller may read"}}}},
    "/staff": _page("Staff dashboard: download charts and extraction status",
                    extra={"303": {"description": "Sign in first"}}),
    "/staff/upload": {
        **_page("Staff upload page", extra={"303": {"description": "Sign in first"}}),
        "post": {"summary": "Upload without JavaScript: as POST /api/resources, answered with a "
                            "redirect to the new resource's edit page",
                 "responses": {**_FORM, "413": {"description": "Too large"},
                               "415": {"description": "Type not accepted"}}}},
    "/staff/resources/{resource_id}": {
        **_page("Edit a resource's metadata; its extraction status",
                {"name": "resource_id", **_ID}),
        "post": {"summary": "Save a resource's metadata (form)",
                 "parameters": [{"name": "resource_id", **_ID}],
                 "responses": {**_FORM, "400": {"description": "A bad field"}}}},
}
