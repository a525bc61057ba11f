"""Download statistics for staff: per resource, kit, webinar, organisation and day; CSV export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.anyio


async def upload(lib, title: str, body: bytes) -> dict:
    response = await lib.client.post(
        "/api/resources", headers=lib.staff, data={"title": title, "visibility": "public"},
        files={"file": ("doc.pdf", b"%PDF-1.4\n" + body, "application/pdf")})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
async def usage(lib):
    """GIVEN a kit of two documents and a webinar recording WHEN a member downloads the guide
    twice, an anonymous visitor the report once, and staff seek in the recording (a range)."""
    guide = await upload(lib, "Guide de reprise", b"g" * 1000)
    report = await upload(lib, '=HYPERLINK("http://evil.example","Rapport")', b"r" * 500)
    recording = await upload(lib, "Enregistrement", b"v" * 4000)
    kit = await lib.client.post("/api/kits", headers=lib.staff, json={
        "slug": "covid", "title": "COVID-19 KIT", "items": [guide["id"], report["id"]]})
    webinar = await lib.client.post("/api/webinars", headers=lib.staff, json={
        "title": "Best practices", "starts_at": "2020-05-14T10:00:00+02:00",
        "recording": recording["id"]})
    assert kit.status_code == webinar.status_code == 201
    for _ in range(2):
        assert (await lib.client.get(guide["files"][0]["url"], headers=lib.member)).status_code \
            == 200
    assert (await lib.client.get(report["files"][0]["url"])).status_code == 200
    seek = await lib.client.get(recording["files"][0]["url"], headers={
        **lib.staff, "Range": "bytes=100-109"})
    assert seek.status_code == 206
    await lib.app.state.downloads.flush(final=True)
    return {"guide": guide, "report": report, "recording": recording,
            "webinar": webinar.json()["id"]}


async def stats(lib, **params):
    response = await lib.client.get("/api/stats", params=params, headers=lib.staff)
    assert response.status_code == 200, response.text
    return response.json()


async def test_counts_per_resource_kit_webinar_organisation_and_day(lib, usage):
    size = {k: usage[k]["files"][0]["size"] for k in ("guide", "report", "recording")}
    by_resource = await stats(lib)
    assert [(r["key"], r["downloads"], r["bytes"]) for r in by_resource["rows"]] == [
        (usage["guide"]["id"], 2, 2 * size["guide"]),
        (usage["report"]["id"], 1, size["report"]),
        (usage["recording"]["id"], 0, 10),  # a seek is bytes served, not a download
    ]
    assert by_resource["total"] == {"downloads": 3,
                                    "bytes": 2 * size["guide"] + size["report"] + 10}
    kits = (await stats(lib, group="kit"))["rows"]
    assert kits == [{"key": "covid", "label": "COVID-19 KIT", "downloads": 3,
                     "bytes": 2 * size["guide"] + size["report"]}]
    webinars = (await stats(lib, group="webinar"))["rows"]
    assert [(r["key"], r["label"], r["downloads"], r["bytes"]) for r in webinars] == [
        (usage["webinar"], "Best practices", 0, 10)]
    orgs = {r["key"]: (r["downloads"], r["bytes"])
            for r in (await stats(lib, group="organisation"))["rows"]}
    assert orgs == {"Cluster Lab": (2, 2 * size["guide"]), "(anonymous)": (1, size["report"]),
                    "Staff": (0, 10)}
    today = datetime.now(UTC).date()
    days = (await stats(lib, group="day"))["rows"]
    assert [(r["key"], r["downloads"]) for r in days] == [(today.isoformat(), 3)]


async def test_a_date_range_bounds_the_counts(lib, usage):
    today = datetime.now(UTC).date()
    inside = await stats(lib, **{"from": today.isoformat(), "to": today.isoformat()})
    assert inside["total"]["downloads"] == 3
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert (await stats(lib, **{"from": tomorrow}))["rows"] == []
    yesterday = (today - timedelta(days=1)).isoformat()
    assert (await stats(lib, to=yesterday))["total"] == {"downloads": 0, "bytes": 0}


async def test_csv_export_is_spreadsheet_safe(lib, usage):
    response = await lib.client.get("/api/stats", params={"format": "csv"}, headers=lib.staff)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="kitlib-downloads-by-resource.csv"' in response.headers[
        "content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["resource", "label", "downloads", "bytes"]
    labels = [r[1] for r in rows[1:]]
    # A title that is a formula reaches the spreadsheet as text.
    assert "'=HYPERLINK(\"http://evil.example\",\"Rapport\")" in labels
    assert not any(label.startswith("=") for label in labels)


@pytest.mark.parametrize(("params", "field"), [
    ({"group": "banana"}, "group"), ({"from": "2020-13-01"}, "from"), ({"to": "soon"}, "to"),
    ({"from": "2021-01-02", "to": "2021-01-01"}, "from"), ({"format": "xml"}, "format")])
async def test_bad_parameters_get_a_400_naming_them(lib, params, field):
    response = await lib.client.get("/api/stats", params=params, headers=lib.staff)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(f"{field}:")


async def test_only_staff_see_statistics(lib):
    assert (await lib.client.get("/api/stats")).status_code == 401
    assert (await lib.client.get("/api/stats", headers=lib.member)).status_code == 403
    csv_export = await lib.client.get("/api/stats", params={"format": "csv"}, headers=lib.member)
    assert csv_export.status_code == 403
