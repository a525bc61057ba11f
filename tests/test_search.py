"""Full-text search through the API: real files uploaded, the queue drained, then searched."""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import pytest

from kitlib.jobs.worker import drain

pytestmark = pytest.mark.anyio

DOCS = Path(__file__).parent / "fixtures" / "docs"


async def upload(lib, name: str, title: str, **fields: str) -> int:
    data = {"title": title, **fields}
    response = await lib.client.post(
        "/api/resources", headers=lib.staff, data=data,
        files={"file": (name, (DOCS / name).read_bytes(), "application/octet-stream")})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def search(lib, headers=None, **params):
    response = await lib.client.get("/api/search", params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
async def library(lib):
    """GIVEN a French DOCX (public), an English PDF (members), a VTT (public), a staff note."""
    ids = {
        "docx": await upload(lib, "fr_protocole_nettoyage.docx", "Protocole de nettoyage",
                             language="fr", visibility="public", tags="hygiène,covid",
                             published_at="2020-05-04"),
        "pdf": await upload(lib, "en_gowning_guide.pdf", "Gowning guide", language="en",
                            visibility="members", tags="covid", published_at="2021-03-01"),
        "vtt": await upload(lib, "webinaire.vtt", "Transcription du webinaire qualité de l'air",
                            kind="transcript", visibility="public", published_at="2020-06-01"),
        "staff": await upload(lib, "guide_webinaires.md", "Plan secret de réorganisation",
                              visibility="staff", published_at="2022-01-01"),
    }
    assert await drain(lib.settings) > 0
    return ids


async def test_accents_are_folded_and_the_docx_text_is_found(lib, library):
    body = await search(lib, q="desinfection")
    ids = [h["id"] for h in body["hits"]]
    assert library["docx"] in ids or library["vtt"] in ids
    hit = body["hits"][0]
    assert hit["url"] == f"/api/resources/{hit['id']}"
    assert {"id", "title", "kind", "language", "snippet", "score", "transcript_hits"} <= set(hit)


async def test_transcript_hits_carry_the_cue_start_in_seconds(lib, library):
    body = await search(lib, q="claviers")
    hit = next(h for h in body["hits"] if h["id"] == library["vtt"])
    starts = [t["start"] for t in hit["transcript_hits"]]
    assert 754.5 in starts  # 00:12:34.500
    assert hit["transcript_hits"][0]["url"].endswith("#t=754.5")


async def test_access_is_respected_in_hits_totals_facets_and_suggestions(lib, library):
    anonymous = await search(lib, q="")
    member = await search(lib, lib.member, q="")
    staff = await search(lib, lib.staff, q="")
    assert (anonymous["total"], member["total"], staff["total"]) == (2, 3, 4)
    assert library["pdf"] not in [h["id"] for h in anonymous["hits"]]
    assert sum(anonymous["facets"]["kind"].values()) == 2
    assert anonymous["facets"]["language"] == {"fr": 2}
    assert member["facets"]["language"] == {"fr": 2, "en": 1}
    secret = (await lib.client.get("/api/suggest", params={"q": "plan sec"})).json()
    assert "secret" not in str(secret).lower()
    staff_secret = (await lib.client.get("/api/suggest", params={"q": "plan sec"},
                                         headers=lib.staff)).json()
    assert any(s.get("id") == library["staff"] for s in staff_secret["suggestions"])


async def test_a_resource_hidden_after_indexing_never_leaks_while_the_index_lags(lib, library):
    """GIVEN a public item WHEN staff hide it and the worker has not run THEN nobody sees it."""
    response = await lib.client.patch(f"/api/resources/{library['docx']}", headers=lib.staff,
                                      json={"visibility": "staff", "title": "Renamed secret"})
    assert response.status_code == 200
    body = await search(lib, q="nettoyage")
    assert library["docx"] not in [h["id"] for h in body["hits"]]
    assert body["total"] == len(body["hits"])
    suggestions = (await lib.client.get("/api/suggest", params={"q": "proto"})).json()
    assert "Protocole" not in str(suggestions)
    await drain(lib.settings)
    assert library["docx"] in [h["id"] for h in (await search(lib, lib.staff, q="secret"))["hits"]]


async def test_filters_sort_and_paging(lib, library):
    assert [h["id"] for h in (await search(lib, lib.staff, language="en"))["hits"]] == \
        [library["pdf"]]
    assert {h["id"] for h in (await search(lib, lib.staff, tag="covid"))["hits"]} == \
        {library["docx"], library["pdf"]}
    dated = await search(lib, lib.staff, **{"from": "2020-05-01", "to": "2020-12-31"})
    assert {h["id"] for h in dated["hits"]} == {library["docx"], library["vtt"]}
    newest = await search(lib, lib.staff, sort="newest")
    assert [h["id"] for h in newest["hits"]][0] == library["staff"]
    page2 = await search(lib, lib.staff, sort="newest", per_page=3, page=2)
    assert page2["total"] == 4 and len(page2["hits"]) == 1


async def test_sorting_by_downloads_follows_completed_downloads(lib, library):
    """GIVEN public resources never downloaded WHEN the last one by downloads is downloaded in
    full twice THEN, once the batched statistics reach the queue and the worker runs, it
    leads sort=downloads."""
    before = [h["id"] for h in (await search(lib, sort="downloads"))["hits"]]
    target = before[-1]
    assert len(before) == 2 and before[0] != target
    files = (await lib.client.get(f"/api/resources/{target}")).json()["files"]
    for _ in range(2):
        assert (await lib.client.get(files[0]["url"])).status_code == 200
    ranged = await lib.client.get(files[0]["url"], headers={"Range": "bytes=0-9"})
    assert ranged.status_code == 206  # a range is not a whole download and is not counted
    await lib.app.state.downloads.flush(final=True)
    assert await drain(lib.settings) >= 1
    after = [h["id"] for h in (await search(lib, sort="downloads"))["hits"]]
    assert after[0] == target


@pytest.mark.parametrize(("params", "field"), [
    ({"kind": "banana"}, "kind"), ({"language": "de"}, "language"), ({"from": "yesterday"}, "from"),
    ({"sort": "random"}, "sort"), ({"per_page": "500"}, "per_page"), ({"kit": "nope"}, "kit"),
    ({"webinar": "x"}, "webinar")])
async def test_a_bad_filter_answers_400_naming_the_field(lib, params, field):
    response = await lib.client.get("/api/search", params=params)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(field)


@pytest.mark.parametrize("query", ['"unclosed', "title:", "((a OR", "AND OR NOT", "*", "a:b:c\\"])
async def test_a_malformed_query_gets_a_plain_reading(lib, library, query):
    await search(lib, q=query)


async def test_a_corrupt_index_answers_503_then_results_after_the_rebuild(lib, library):
    build = (lib.settings.index_dir / "current").resolve()
    for toc in build.glob("*.toc"):
        toc.write_bytes(b"garbage")
    # A fresh searcher: the app's own may still hold the old segments open.
    lib.client._transport.app.state.search.searcher = None
    response = await lib.client.get("/api/search", params={"q": "guide"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "index_rebuilding"
    assert response.headers["retry-after"]
    deadline = time.monotonic() + 20
    while (response := await lib.client.get("/api/search", params={"q": "protocole"},
                                            headers=lib.staff)).status_code == 503:
        assert time.monotonic() < deadline
        await anyio.sleep(0.05)
    assert library["docx"] in [h["id"] for h in response.json()["hits"]]


async def test_extraction_failure_is_shown_to_staff_only(lib):
    rid = await upload(lib, "broken_corrupt.docx", "Broken file", visibility="public")
    await drain(lib.settings)
    staff = (await lib.client.get(f"/api/resources/{rid}", headers=lib.staff)).json()
    assert staff["extraction_status"] == "failed"
    assert staff["extraction_error"]
    public = (await lib.client.get(f"/api/resources/{rid}")).json()
    assert "extraction_status" not in public
    # The metadata is still searchable.
    assert rid in [h["id"] for h in (await search(lib, q="broken"))["hits"]]


async def test_a_deleted_resource_leaves_the_index(lib, library):
    response = await lib.client.delete(f"/api/resources/{library['pdf']}", headers=lib.staff)
    assert response.status_code == 204
    assert library["pdf"] not in [h["id"] for h in (await search(lib, lib.staff, q=""))["hits"]]
    await drain(lib.settings)
    assert (await search(lib, lib.staff, q=""))["total"] == 3


async def test_kit_membership_is_a_facet_and_a_filter(lib, library):
    response = await lib.client.post("/api/kits", headers=lib.staff, json={
        "slug": "covid", "title": "Covid", "items": [library["docx"], library["pdf"]]})
    assert response.status_code == 201
    await drain(lib.settings)
    body = await search(lib, lib.member, kit="covid")
    assert {h["id"] for h in body["hits"]} == {library["docx"], library["pdf"]}
    assert (await search(lib, q=""))["facets"]["kit"] == {"covid": 1}
