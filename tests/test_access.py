"""The access matrix: who sees which item, and who may write. Hidden looks like missing."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.anyio

VISIBILITIES = ("public", "members", "attendees", "staff")
# role -> the visibilities that role may open
SEES = {"anonymous": {"public"}, "member": {"public", "members"},
        "staff": {"public", "members", "attendees", "staff"}}


async def catalogue(lib) -> dict[str, dict]:
    items = {}
    for visibility in VISIBILITIES:
        response = await lib.client.post(
            "/api/resources", headers=lib.staff,
            data={"title": f"Item {visibility}", "visibility": visibility},
            files={"file": (f"{visibility}.pdf", b"%PDF-1.4\n" + visibility.encode() * 50,
                            "application/pdf")})
        assert response.status_code == 201
        items[visibility] = response.json()
    return items


def headers_for(lib, role: str) -> dict[str, str]:
    return {"anonymous": {}, "member": lib.member, "staff": lib.staff}[role]


@pytest.mark.parametrize("role", list(SEES))
async def test_read_matrix(lib, role):
    """GIVEN one item per visibility WHEN each role reads THEN 200 or the same 404."""
    items = await catalogue(lib)
    headers = headers_for(lib, role)
    missing = await lib.client.get("/api/resources/99999", headers=headers)
    for visibility, item in items.items():
        allowed = visibility in SEES[role]
        meta = await lib.client.get(f"/api/resources/{item['id']}", headers=headers)
        download = await lib.client.get(item["files"][0]["url"], headers=headers)
        assert meta.status_code == (200 if allowed else 404), (role, visibility)
        assert download.status_code == (200 if allowed else 404), (role, visibility)
        if not allowed:
            assert meta.json() == missing.json()  # no existence leak
    listing = (await lib.client.get("/api/resources", headers=headers)).json()
    assert {i["visibility"] for i in listing["items"]} == SEES[role]
    assert listing["total"] == len(SEES[role])
    home = (await lib.client.get("/", headers=headers)).text
    for visibility in VISIBILITIES:
        assert (f"Item {visibility}" in home) == (visibility in SEES[role])


WRITES = [
    ("POST", "/api/resources", None),
    ("PATCH", "/api/resources/{id}", {"title": "x"}),
    ("DELETE", "/api/resources/{id}", None),
    ("PUT", "/api/resources/{id}/file", None),
    ("POST", "/api/kits", {"slug": "k", "title": "K"}),
    ("PATCH", "/api/kits/covid", {"title": "x"}),
    ("DELETE", "/api/kits/covid", None),
    ("POST", "/api/webinars", {"title": "W", "starts_at": "2020-05-14"}),
    ("PATCH", "/api/webinars/{webinar}", {"title": "x"}),
    ("DELETE", "/api/webinars/{webinar}", None),
]


@pytest.mark.parametrize("method, path, body", WRITES)
async def test_writes_need_staff(lib, method, path, body):
    items = await catalogue(lib)
    kit = await lib.client.post("/api/kits", headers=lib.staff,
                                json={"slug": "covid", "title": "COVID-19 KIT"})
    webinar = await lib.client.post("/api/webinars", headers=lib.staff,
                                    json={"title": "W", "starts_at": "2020-05-14T10:00:00+02:00"})
    assert kit.status_code == webinar.status_code == 201
    url = path.format(id=items["public"]["id"], webinar=webinar.json()["id"])
    kwargs = {"json": body} if body is not None else {}
    cases = [({}, 401), ({"Authorization": "Bearer kl_forged"}, 401), (lib.member, 403)]
    for headers, status in cases:
        response = await lib.client.request(method, url, headers=headers, **kwargs)
        assert response.status_code == status, (method, url, headers, response.text)
        assert response.json()["error"]["message"]
    # Nothing changed.
    assert (await lib.client.get(f"/api/resources/{items['public']['id']}")).json()["title"] \
        == "Item public"
    assert (await lib.client.get("/api/kits/covid")).json()["title"] == "COVID-19 KIT"


async def test_kit_shows_only_what_the_caller_may_open(lib):
    items = await catalogue(lib)
    ids = [items[v]["id"] for v in VISIBILITIES]
    created = await lib.client.post("/api/kits", headers=lib.staff,
                                    json={"slug": "mixed", "title": "Mixed", "items": ids})
    assert created.status_code == 201
    for role, seen in SEES.items():
        kit = (await lib.client.get("/api/kits/mixed", headers=headers_for(lib, role))).json()
        assert {i["resource"]["visibility"] for i in kit["items"]} == seen
        assert kit["item_count"] == len(seen)
        listed = (await lib.client.get("/api/kits", headers=headers_for(lib, role))).json()
        assert listed["items"][0]["item_count"] == len(seen)


async def test_webinar_hides_parts_the_caller_may_not_open(lib):
    items = await catalogue(lib)
    created = await lib.client.post("/api/webinars", headers=lib.staff, json={
        "title": "Bonnes pratiques", "starts_at": "2020-05-14T10:00:00+02:00",
        "recording": items["attendees"]["id"], "slides": items["public"]["id"],
        "transcript": items["members"]["id"]})
    assert created.status_code == 201
    url = created.headers["location"]
    anonymous = (await lib.client.get(url)).json()
    assert anonymous["recording"] is None and anonymous["transcript"] is None
    assert anonymous["slides"]["id"] == items["public"]["id"]
    member = (await lib.client.get(url, headers=lib.member)).json()
    assert member["recording"] is None and member["transcript"]["id"] == items["members"]["id"]
    staff = (await lib.client.get(url, headers=lib.staff)).json()
    assert staff["recording"]["id"] == items["attendees"]["id"]
