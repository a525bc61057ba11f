"""Kits, webinars, health, and the OpenAPI document held to the real route table."""

from __future__ import annotations

import pytest
from starlette.routing import Mount, Route

from kitlib.jobs.worker import drain
from kitlib.web.routes import routes

pytestmark = pytest.mark.anyio


async def resource(lib, title: str) -> int:
    response = await lib.client.post(
        "/api/resources", headers=lib.staff, data={"title": title, "visibility": "public"},
        files={"file": (f"{title}.pdf", b"%PDF-1.4\n" + title.encode() * 20, "application/pdf")})
    assert response.status_code == 201
    return int(response.json()["id"])


async def test_kit_lifecycle_keeps_the_curated_order(lib):
    a, b, c = [await resource(lib, t) for t in ("alpha", "beta", "gamma")]
    created = await lib.client.post("/api/kits", headers=lib.staff, json={
        "slug": "covid-19-kit", "title": "COVID-19 KIT", "description": "Documents pratiques",
        "items": [c, {"resource": a, "note": "À lire d'abord"}, b]})
    assert created.status_code == 201, created.text
    kit = created.json()
    assert [i["resource"]["id"] for i in kit["items"]] == [c, a, b]
    assert kit["items"][1]["note"] == "À lire d'abord"
    again = await lib.client.post("/api/kits", headers=lib.staff,
                                  json={"slug": "covid-19-kit", "title": "Again"})
    assert again.status_code == 409
    reordered = await lib.client.patch("/api/kits/covid-19-kit", headers=lib.staff,
                                       json={"items": [a, b], "title": "Kit COVID-19"})
    assert reordered.status_code == 200
    assert [i["resource"]["id"] for i in reordered.json()["items"]] == [a, b]
    assert reordered.json()["title"] == "Kit COVID-19"
    # Deleting a resource drops it from the kit, not the kit.
    await lib.client.delete(f"/api/resources/{a}", headers=lib.staff)
    assert [i["resource"]["id"] for i in
            (await lib.client.get("/api/kits/covid-19-kit")).json()["items"]] == [b]
    assert (await lib.client.delete("/api/kits/covid-19-kit", headers=lib.staff)).status_code == 204
    assert (await lib.client.get("/api/kits/covid-19-kit")).status_code == 404
    assert (await lib.client.get(f"/api/resources/{b}")).status_code == 200


@pytest.mark.parametrize("body, field", [
    ({"slug": "Bad Slug", "title": "x"}, "slug"),
    ({"slug": "ok", "title": ""}, "title"),
    ({"slug": "ok", "title": "x", "items": [99999]}, "items"),
    ({"slug": "ok", "title": "x", "items": "1,2"}, "items"),
    ({"slug": "ok", "title": "x", "items": [1, 1]}, "items"),
    ({"slug": "ok", "title": "x", "colour": "red"}, "colour"),
])
async def test_bad_kit_input_is_a_400_naming_the_field(lib, body, field):
    await resource(lib, "one")
    response = await lib.client.post("/api/kits", headers=lib.staff, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"].startswith(field)


async def test_webinar_lifecycle(lib):
    recording, slides = await resource(lib, "rec"), await resource(lib, "slides")
    await lib.client.post("/api/kits", headers=lib.staff, json={"slug": "kit", "title": "Kit"})
    created = await lib.client.post("/api/webinars", headers=lib.staff, json={
        "title": "Best practices to go back to business",
        "description": "Session 1", "starts_at": "2020-05-14T10:00:00+02:00",
        "speakers": [{"name": "Claire Dumas", "organisation": "Cluster"}],
        "recording": recording, "slides": slides, "kit": "kit"})
    assert created.status_code == 201, created.text
    webinar = created.json()
    assert webinar["starts_at"].startswith("2020-05-14T08:00:00")
    assert webinar["speakers"][0]["name"] == "Claire Dumas"
    assert webinar["recording"]["id"] == recording and webinar["kit"] == "kit"
    url = created.headers["location"]
    patched = await lib.client.patch(url, headers=lib.staff, json={"slides": None})
    assert patched.status_code == 200 and patched.json()["slides"] is None
    listing = (await lib.client.get("/api/webinars")).json()
    assert listing["total"] == 1 and listing["items"][0]["id"] == webinar["id"]
    assert (await lib.client.delete(url, headers=lib.staff)).status_code == 204
    assert (await lib.client.get(url)).status_code == 404
    assert (await lib.client.get(f"/api/resources/{recording}")).status_code == 200


@pytest.mark.parametrize("body, field", [
    ({"starts_at": "2020-05-14"}, "title"),
    ({"title": "W"}, "starts_at"),
    ({"title": "W", "starts_at": "14/05/2020"}, "starts_at"),
    ({"title": "W", "starts_at": "2020-05-14", "recording": 424242}, "recording"),
    ({"title": "W", "starts_at": "2020-05-14", "recording": "1"}, "recording"),
    ({"title": "W", "starts_at": "2020-05-14", "speakers": ["Claire"]}, "speakers"),
    ({"title": "W", "starts_at": "2020-05-14", "kit": "nope"}, "kit"),
])
async def test_bad_webinar_input_is_a_400_naming_the_field(lib, body, field):
    response = await lib.client.post("/api/webinars", headers=lib.staff, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"].startswith(field)


async def test_path_ids_that_are_not_numbers_are_400(lib):
    assert (await lib.client.get("/api/resources/abc")).status_code == 400
    assert (await lib.client.get("/api/webinars/1e9")).status_code == 400
    assert (await lib.client.get("/api/resources/" + "9" * 40)).status_code == 400


async def test_healthz(lib):
    response = await lib.client.get("/healthz")
    assert response.json() == {"status": "ok", "database": "ok"}


def _route_table() -> set[tuple[str, str]]:
    table = set()
    for route in routes:
        if isinstance(route, Mount) and route.path == "/static":
            continue  # the pages' CSS and JavaScript, not part of the API
        assert isinstance(route, Route)
        path = route.path.replace("{filename:path}", "{filename}")
        for method in route.methods or ():
            if method != "HEAD":
                table.add((path, method.lower()))
    return table


async def test_openapi_describes_exactly_the_real_routes(lib):
    document = (await lib.client.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    described = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert described == _route_table()
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            assert op["summary"] and op["responses"], (path, method)
            for parameter in op.get("parameters", []):
                if parameter["in"] == "path":
                    assert "{" + parameter["name"] + "}" in path


async def test_openapi_schema_references_resolve(lib):
    document = (await lib.client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                assert node["$ref"].removeprefix("#/components/schemas/") in schemas
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)


async def test_webinar_chapters_link_into_the_recording(lib):
    """GIVEN a webinar WHEN staff enter chapters (seconds or clock readings) THEN they come back
    in order with a link that opens the recording at that second; bad chapters get a 400."""
    recording = await resource(lib, "rec")
    created = await lib.client.post("/api/webinars", headers=lib.staff, json={
        "title": "Reprise", "starts_at": "2020-05-14T10:00:00+02:00", "recording": recording,
        "chapters": [{"start": 0, "title": "Accueil"}, {"start": "02:05", "title": "Hygiène"},
                     {"start": "1:00:00.5", "title": "Questions"}]})
    assert created.status_code == 201, created.text
    chapters = created.json()["chapters"]
    assert [(c["start"], c["title"]) for c in chapters] == [
        (0.0, "Accueil"), (125.0, "Hygiène"), (3600.5, "Questions")]
    file_url = created.json()["recording"]["files"][0]["url"]
    assert chapters[1]["url"] == f"{file_url}#t=125"
    url = created.headers["location"]
    for bad, why in [
        ([{"start": 10, "title": "B"}, {"start": 5, "title": "A"}], "increase"),
        ([{"start": -1, "title": "A"}], "zero or more"),
        ([{"start": "soon", "title": "A"}], "not seconds"),
        ([{"start": 1}], "chapters"),
        ([{"start": 1, "title": "A", "extra": 1}], "extra"),
        ("chapter one", "list"),
    ]:
        response = await lib.client.patch(url, headers=lib.staff, json={"chapters": bad})
        assert response.status_code == 400, (bad, response.text)
        message = response.json()["error"]["message"]
        assert why in message, message
    assert [c["title"] for c in (await lib.client.get(url)).json()["chapters"]] == [
        "Accueil", "Hygiène", "Questions"]


async def test_chapters_come_from_the_transcripts_cue_identifiers_unless_staff_enter_some(lib):
    """GIVEN a WebVTT transcript whose cue identifiers name sections ("Accueil", "Questions")
    among generated ones ("1", "cue-7") WHEN it is a webinar's transcript THEN those sections
    are the webinar's chapters, linked into the recording; chapters staff enter replace them."""
    vtt = ("WEBVTT\n\nAccueil\n00:00:00.000 --> 00:00:04.000\n<v Anne>Bonjour à tous.\n\n"
           "1\n00:00:04.000 --> 00:00:08.000\nMerci d'être là.\n\n"
           "Mesures d'hygiène\n00:01:05.500 --> 00:01:09.000\nLe masque est obligatoire.\n\n"
           "cue-7\n00:01:10.000 --> 00:01:12.000\nEt le gel.\n\n"
           "Questions\n00:02:00.000 --> 00:02:03.000\nVos questions ?\n")
    transcript = await lib.client.post(
        "/api/resources", headers=lib.staff,
        data={"title": "Transcription", "visibility": "public", "kind": "transcript"},
        files={"file": ("reprise.vtt", vtt.encode(), "text/vtt")})
    assert transcript.status_code == 201, transcript.text
    await drain(lib.settings)
    recording = await resource(lib, "rec")
    created = await lib.client.post("/api/webinars", headers=lib.staff, json={
        "title": "Reprise", "starts_at": "2020-05-14T10:00:00+02:00", "recording": recording,
        "transcript": transcript.json()["id"]})
    body = created.json()
    assert body["chapters_source"] == "transcript"
    assert [(c["start"], c["title"]) for c in body["chapters"]] == [
        (0.0, "Accueil"), (65.5, "Mesures d'hygiène"), (120.0, "Questions")]
    assert body["chapters"][1]["url"].endswith("#t=65.5")
    entered = await lib.client.patch(created.headers["location"], headers=lib.staff,
                                     json={"chapters": [{"start": 3, "title": "Début"}]})
    assert entered.json()["chapters_source"] == "staff"
    assert [c["title"] for c in entered.json()["chapters"]] == ["Début"]
