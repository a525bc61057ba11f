"""/openapi.json follows the code: every stored vocabulary and every field a real answer carries
is in the document, so adding a value or a field cannot leave the description behind."""

from __future__ import annotations

from enum import Enum
from typing import Any

import pytest

from kitlib.models import ExtractionStatus, Kind, Language, Visibility
from kitlib.services.kits import CHAPTER_SOURCES
from kitlib.services.search import SORTS
from kitlib.services.stats import GROUPS
from tests.test_auth import sign_in

pytestmark = pytest.mark.anyio


def _parameter(document: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    [found] = [p for p in document["paths"][path]["get"]["parameters"] if p["name"] == name]
    return found["schema"]


@pytest.mark.parametrize(("vocabulary", "schema", "field"), [
    (Kind, "Resource", "kind"), (Kind, "ResourcePatch", "kind"),
    (Kind, "ResourceUpload", "kind"), (Visibility, "Resource", "visibility"),
    (Visibility, "ResourcePatch", "visibility"), (Language, "Resource", "language"),
    (ExtractionStatus, "Resource", "extraction_status")])
async def test_every_stored_value_is_in_the_schema(lib, vocabulary: type[Enum], schema: str,
                                                   field: str):
    document = (await lib.client.get("/openapi.json")).json()
    described = document["components"]["schemas"][schema]["properties"][field]["enum"]
    assert described == [member.value for member in vocabulary]


async def test_query_vocabularies_are_the_ones_the_services_accept(lib):
    document = (await lib.client.get("/openapi.json")).json()
    assert _parameter(document, "/api/search", "sort")["enum"] == list(SORTS)
    assert _parameter(document, "/api/stats", "group")["enum"] == list(GROUPS)
    assert _parameter(document, "/api/search", "kind")["enum"] == [k.value for k in Kind]
    webinar = document["components"]["schemas"]["Webinar"]["properties"]
    assert webinar["chapters_source"]["enum"] == [*CHAPTER_SOURCES, None]


async def test_the_described_session_cookie_is_the_one_sign_in_sets(lib):
    document = (await lib.client.get("/openapi.json")).json()
    cookie = document["components"]["securitySchemes"]["session"]["name"]
    signed_in = await sign_in(lib.client, "member@example.org")
    assert signed_in.status_code == 303
    assert cookie in signed_in.cookies


async def test_a_staff_resource_answer_has_exactly_the_described_fields(lib):
    """GIVEN a resource uploaded by staff WHEN staff read it THEN each key of the answer is a
    property of the Resource schema and each required property is there."""
    created = await lib.client.post(
        "/api/resources", headers=lib.staff, data={"title": "Guide", "visibility": "members"},
        files={"file": ("guide.pdf", b"%PDF-1.4\n" + b"x" * 64, "application/pdf")})
    assert created.status_code == 201, created.text
    answer = (await lib.client.get(f"/api/resources/{created.json()['id']}",
                                   headers=lib.staff)).json()
    document = (await lib.client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    resource, file = schemas["Resource"], schemas["File"]
    assert set(answer) <= set(resource["properties"]), set(answer) - set(resource["properties"])
    assert set(resource["required"]) <= set(answer)
    [stored] = answer["files"]
    assert set(stored) <= set(file["properties"]) and set(file["required"]) <= set(stored)


async def test_a_webinar_answer_has_exactly_the_described_fields(lib):
    made = await lib.client.post("/api/webinars", headers=lib.staff, json={
        "title": "Reprise", "starts_at": "2020-05-14T10:00:00+02:00",
        "speakers": [{"name": "A. Martin", "organisation": "Cluster"}]})
    assert made.status_code == 201, made.text
    document = (await lib.client.get("/openapi.json")).json()
    webinar = document["components"]["schemas"]["Webinar"]
    answer = made.json()
    assert set(answer) <= set(webinar["properties"]), set(answer) - set(webinar["properties"])
    assert set(webinar["required"]) <= set(answer)
