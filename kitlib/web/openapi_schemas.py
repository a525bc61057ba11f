"""The component schemas of kitlib's OpenAPI document.

Every closed vocabulary (kinds, visibilities, languages, extraction states, chapter sources,
webinar parts) is read from the code that defines it, so adding a value changes the document.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from kitlib.models import WEBINAR_PARTS, ExtractionStatus, Kind, Language, Visibility
from kitlib.services.kits import CHAPTER_SOURCES

STR: dict[str, Any] = {"type": "string"}


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def enum_of(values: Any) -> dict[str, Any]:
    """A string schema whose values are an Enum's or a tuple's, in their order."""
    return {"type": "string", "enum": [v.value if isinstance(v, Enum) else v for v in values]}


STR = {"type": "string"}
# A resource's fixed vocabularies, read from the enums the database stores.
ENUMS: dict[str, dict[str, Any]] = {
    "language": enum_of(Language),
    "kind": enum_of(Kind),
    "visibility": enum_of(Visibility),
}

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["status", "code", "message"],
        "properties": {"status": {"type": "integer"}, "code": STR, "message": STR}}}},
    "File": {"type": "object",
             "required": ["id", "sha256", "size", "media_type", "filename", "url"],
             "properties": {"id": {"type": "integer"}, "sha256": STR,
                            "size": {"type": "integer"}, "media_type": STR, "filename": STR,
                            "url": STR, "duration": {"type": ["number", "null"],
                                                       "description": "Seconds (audio, video)"}}},
    "Resource": {"type": "object",
                 "required": ["id", "title", "summary", "language", "tags", "kind", "visibility",
                              "files"],
                 "properties": {"id": {"type": "integer"}, "title": STR, "summary": STR,
                                **ENUMS, "tags": {"type": "array", "items": STR},
                                "url": STR,
                                "published_at": {"type": ["string", "null"], "format": "date-time"},
                                "created_at": {"type": "string", "format": "date-time"},
                                "updated_at": {"type": "string", "format": "date-time"},
                                "files": {"type": "array", "items": ref("File")},
                                "extraction_status": {
                                    **enum_of(ExtractionStatus),
                                    "description": "Staff only: text extraction for search"},
                                "extraction_error": {"type": "string",
                                                     "description": "Staff only: why it failed"}}},
    "SearchHit": {"type": "object",
                  "required": ["id", "title", "kind", "language", "snippet", "url", "score",
                               "transcript_hits"],
                  "properties": {"id": {"type": "integer"}, "title": STR, "title_html": STR,
                                 "kind": STR, "language": STR, "snippet": STR, "url": STR,
                                 "score": {"type": "number"},
                                 "transcript_hits": {"type": "array", "items": {
                                     "type": "object", "properties": {
                                         "start": {"type": "number"}, "text": STR, "html": STR,
                                         "url": {"type": ["string", "null"]}}}}}},
    "SearchResults": {"type": "object",
                      "required": ["total", "page", "hits", "facets", "suggestion"],
                      "properties": {"total": {"type": "integer"}, "page": {"type": "integer"},
                                     "per_page": {"type": "integer"},
                                     "hits": {"type": "array", "items": ref("SearchHit")},
                                     "facets": {"type": "object", "additionalProperties": {
                                         "type": "object",
                                         "additionalProperties": {"type": "integer"}}},
                                     "suggestion": {"type": ["string", "null"]}}},
    "Stats": {"type": "object", "required": ["group", "from", "to", "rows", "total"],
              "properties": {
                  "group": STR, "from": {"type": ["string", "null"]},
                  "to": {"type": ["string", "null"]},
                  "rows": {"type": "array", "items": {
                      "type": "object", "required": ["key", "label", "downloads", "bytes"],
                      "properties": {"key": {"type": ["string", "integer", "null"]},
                                     "label": STR, "downloads": {"type": "integer"},
                                     "bytes": {"type": "integer"}}}},
                  "total": {"type": "object", "properties": {
                      "downloads": {"type": "integer"}, "bytes": {"type": "integer"}}}}},
    "ResourcePatch": {"type": "object", "additionalProperties": False,
                      "properties": {"title": STR, "summary": STR, **ENUMS,
                                     "tags": {"oneOf": [STR, {"type": "array", "items": STR}]},
                                     "url": STR, "published_at": {"type": ["string", "null"]}}},
    "ResourceUpload": {"type": "object", "required": ["title"],
                       "properties": {"file": {"type": "string", "format": "binary"},
                                      "title": STR, "summary": STR, **ENUMS,
                                      "tags": {"type": "string",
                                               "description": "comma-separated"},
                                      "url": STR, "published_at": STR}},
    "KitItem": {"type": "object", "properties": {"position": {"type": "integer"},
                                                 "note": STR, "resource": ref("Resource")}},
    "Kit": {"type": "object", "required": ["id", "slug", "title", "description", "item_count"],
            "properties": {"id": {"type": "integer"}, "slug": STR, "title": STR,
                           "description": STR, "item_count": {"type": "integer"}, "url": STR,
                           "updated_at": STR,
                           "items": {"type": "array", "items": ref("KitItem")},
                           "bundle": {"oneOf": [{"type": "null"}, {
                               "type": "object", "required": ["url", "size"],
                               "description": "The whole kit as one ZIP, for this caller",
                               "properties": {"url": STR, "size": {"type": "integer"}}}]}}},
    "KitInput": {"type": "object", "additionalProperties": False,
                 "properties": {"slug": STR, "title": STR, "description": STR,
                                "items": {"type": "array", "items": {"oneOf": [
                                    {"type": "integer"},
                                    {"type": "object", "properties": {
                                        "resource": {"type": "integer"}, "note": STR}}]}}}},
    "Speaker": {"type": "object", "required": ["name"],
                "properties": {"name": STR, "organisation": STR}},
    "Webinar": {"type": "object", "required": ["id", "title", "starts_at", "speakers"],
                "properties": {"id": {"type": "integer"}, "title": STR, "description": STR,
                               "starts_at": {"type": "string", "format": "date-time"},
                               "speakers": {"type": "array", "items": ref("Speaker")},
                               "url": STR, "kit": {"type": ["string", "null"]},
                               "chapters": {"type": "array", "items": {
                                   "type": "object", "properties": {
                                       "start": {"type": "number"}, "title": STR,
                                       "url": {"type": ["string", "null"]}}}},
                               "chapters_source": {"type": ["string", "null"],
                                                   "enum": [*CHAPTER_SOURCES, None]},
                               **{p: {"oneOf": [ref("Resource"), {"type": "null"}]}
                                  for p in WEBINAR_PARTS}}},
    "Attendee": {"type": "object", "properties": {
        "id": {"type": "integer"}, "webinar": {"type": "integer"}, "name": STR, "email": STR,
        "organisation": STR, "expires_at": STR, "revoked_at": {"type": ["string", "null"]},
        "download_limit": {"type": ["integer", "null"]}, "downloads_used": {"type": "integer"},
        "first_used_at": {"type": ["string", "null"]},
        "last_used_at": {"type": ["string", "null"]}, "link": STR}},
    "WebinarInput": {"type": "object", "additionalProperties": False,
                     "properties": {"title": STR, "description": STR, "starts_at": STR,
                                    "speakers": {"type": "array", "items": ref("Speaker")},
                                    "kit": {"type": ["string", "null"]},
                                    "chapters": {"type": "array", "maxItems": 200, "items": {
                                        "type": "object", "additionalProperties": False,
                                        "required": ["start", "title"], "properties": {
                                            "start": {"oneOf": [
                                                {"type": "number", "minimum": 0},
                                                {"type": "string",
                                                 "description": "HH:MM:SS(.mmm) or MM:SS"}]},
                                            "title": STR}}},
                                    **{p: {"type": ["integer", "null"]}
                                       for p in WEBINAR_PARTS}}},
}
