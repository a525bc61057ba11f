"""The full access matrix: every route × every kind of caller, with the status each must get,
and what search, facets, suggestions, feeds, listings, pages and bundles reveal to each.

A route added to kitlib/web/routes.py without a row here fails ``test_every_route_has_a_row``.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from kitlib.jobs.worker import drain
from kitlib.models import Attendee
from kitlib.web.routes import routes

pytestmark = pytest.mark.anyio

ROLES = ("anonymous", "member", "attendee_a", "attendee_b", "expired", "revoked", "staff")


@dataclass
class Library:
    """A small library in which every role sees something different."""

    lib: Any
    items: dict[str, dict] = field(default_factory=dict)  # P, M, S, RA, RB, T (throwaways)
    webinars: dict[str, int] = field(default_factory=dict)
    attendees: dict[str, dict] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    feed_token: str = ""
    counter: int = 0

    def next(self) -> int:
        self.counter += 1
        return self.counter


async def _upload(lib, title: str, visibility: str, name: str, kind: str = "document") -> dict:
    response = await lib.client.post(
        "/api/resources", headers=lib.staff,
        data={"title": title, "visibility": visibility, "kind": kind},
        files={"file": (name, b"%PDF-1.4\n" + title.encode() * 20 + b"\n%%EOF\n",
                        "application/pdf")})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
async def world(lib) -> Library:
    w = Library(lib)
    w.items["P"] = await _upload(lib, "Pandémie guide public", "public", "public.pdf")
    w.items["M"] = await _upload(lib, "Pandémie rapport adhérents", "members", "membres.pdf")
    w.items["S"] = await _upload(lib, "Pandémie note interne", "staff", "interne.pdf")
    w.items["RA"] = await _upload(lib, "Pandémie enregistrement A", "attendees", "a.pdf",
                                  "recording")
    w.items["RB"] = await _upload(lib, "Pandémie enregistrement B", "attendees", "b.pdf",
                                  "recording")
    kit = await lib.client.post("/api/kits", headers=lib.staff, json={
        "slug": "kit", "title": "COVID-19 KIT",
        "items": [w.items[k]["id"] for k in ("P", "M", "S", "RA", "RB")]})
    assert kit.status_code == 201
    for code in ("A", "B"):
        made = await lib.client.post("/api/webinars", headers=lib.staff, json={
            "title": f"Webinar {code}", "starts_at": "2020-05-14T10:00:00+02:00",
            "recording": w.items[f"R{code}"]["id"]})
        w.webinars[code] = made.json()["id"]
    for role, code in (("attendee_a", "A"), ("attendee_b", "B"), ("expired", "A"),
                       ("revoked", "A")):
        imported = await lib.client.post(
            f"/api/webinars/{w.webinars[code]}/attendees",
            content=f"{role},{role}@example.org,Lab\n".encode(),
            headers={**lib.staff, "Content-Type": "text/csv"})
        person = next(a for a in imported.json()["attendees"]
                      if a["email"] == f"{role}@example.org")
        w.attendees[role] = person
    await Attendee.filter(id=w.attendees["expired"]["id"]).update(
        expires_at=datetime.now(UTC) - timedelta(hours=1))
    await Attendee.filter(id=w.attendees["revoked"]["id"]).update(revoked_at=datetime.now(UTC))
    w.headers = {"anonymous": {}, "member": lib.member, "staff": lib.staff}
    for role, person in w.attendees.items():
        token = httpx.URL(person["link"]).path.rsplit("/", 1)[1]
        w.headers[role] = {"Authorization": f"Bearer {token}"}
    w.feed_token = (await lib.client.post("/api/feed-token", headers=lib.member)).json()["token"]
    await drain(lib.settings)
    return w


async def _throwaway(w: Library) -> dict:
    return await _upload(w.lib, f"Jetable {w.next()}", "public", "jetable.pdf")


def _file(w: Library, key: str) -> str:
    return str(w.items[key]["files"][0]["url"])


# Each case: (method, route path, a builder of the request, expected status per role).
Build = Callable[[Library], Any]
W401 = {"anonymous": 401, "member": 403, "attendee_a": 401, "attendee_b": 401,
        "expired": 403, "revoked": 403, "staff": None}  # None: the row's own success code


# Staff pages send a visitor who has not signed in to the sign-in page.
PAGE = {**W401, "anonymous": 303, "attendee_a": 303, "attendee_b": 303}


def staff_only(success: int) -> dict[str, int]:
    return {**W401, "staff": success}


def everyone(status: int, **others: int) -> dict[str, int]:
    # A link that no longer works is refused wherever the caller is identified.
    return {**{r: status for r in ROLES}, "expired": 403, "revoked": 403, **others}


async def _kit(w: Library) -> str:
    slug = f"k{w.next()}"
    await w.lib.client.post("/api/kits", headers=w.lib.staff,
                            json={"slug": slug, "title": slug})
    return slug


async def _webinar(w: Library) -> int:
    made = await w.lib.client.post("/api/webinars", headers=w.lib.staff, json={
        "title": "Jetable", "starts_at": "2021-01-01T10:00:00+00:00"})
    return int(made.json()["id"])


def _upload_request(w: Library) -> dict[str, Any]:
    return {"data": {"title": f"Nouveau {w.next()}", "visibility": "public"},
            "files": {"file": ("n.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")}}


async def _put(w: Library) -> tuple[str, dict[str, Any]]:
    item = await _throwaway(w)
    return f"/api/resources/{item['id']}/file", {
        "content": b"%PDF-1.4\n% new\n%%EOF\n",
        "headers": {"Content-Disposition": 'attachment; filename="new.pdf"'}}


CASES: list[tuple[str, str, Build, dict[str, int | None]]] = [
    ("GET", "/", lambda w: "/", everyone(200)),
    ("GET", "/login", lambda w: "/login", everyone(200)),
    ("POST", "/login", lambda w: ("/login", {"data": {"email": "x", "password": "y"}}),
     {r: 403 for r in ROLES}),  # no CSRF token: refused before anything else
    ("POST", "/logout", lambda w: ("/logout", {"data": {}}), {r: 403 for r in ROLES}),
    ("POST", "/language", lambda w: ("/language", {"data": {"language": "fr"}}),
     {r: 403 for r in ROLES}),
    ("GET", "/healthz", lambda w: "/healthz", {r: 200 for r in ROLES}),
    ("GET", "/openapi.json", lambda w: "/openapi.json", {r: 200 for r in ROLES}),
    ("GET", "/files/{file_id}/{filename}", lambda w: _file(w, "P"), everyone(200)),
    ("GET", "/files/{file_id}/{filename}", lambda w: _file(w, "M"),
     everyone(404, member=200, staff=200)),
    ("GET", "/files/{file_id}/{filename}", lambda w: _file(w, "S"), everyone(404, staff=200)),
    ("GET", "/files/{file_id}/{filename}", lambda w: _file(w, "RA"),
     everyone(404, attendee_a=200, staff=200)),
    ("GET", "/files/{file_id}/{filename}", lambda w: _file(w, "RB"),
     everyone(404, attendee_b=200, staff=200)),
    ("GET", "/attend/{token}", lambda w: httpx.URL(w.attendees["attendee_a"]["link"]).path,
     everyone(200)),
    ("GET", "/attend/{token}", lambda w: httpx.URL(w.attendees["expired"]["link"]).path,
     {r: 403 for r in ROLES}),
    ("GET", "/feeds/resources.atom", lambda w: "/feeds/resources.atom", {r: 200 for r in ROLES}),
    ("GET", "/api/resources", lambda w: "/api/resources", everyone(200)),
    ("POST", "/api/resources", lambda w: ("/api/resources", _upload_request(w)),
     staff_only(201)),
    ("GET", "/api/resources/{resource_id}", lambda w: f"/api/resources/{w.items['M']['id']}",
     everyone(404, member=200, staff=200)),
    ("GET", "/api/resources/{resource_id}", lambda w: f"/api/resources/{w.items['RA']['id']}",
     everyone(404, attendee_a=200, staff=200)),
    ("PATCH", "/api/resources/{resource_id}",
     lambda w: (f"/api/resources/{w.items['P']['id']}", {"json": {"summary": "x"}}),
     staff_only(200)),
    ("DELETE", "/api/resources/{resource_id}",
     lambda w: _throwaway(w), staff_only(204)),
    ("PUT", "/api/resources/{resource_id}/file", _put, staff_only(200)),
    ("GET", "/api/search", lambda w: "/api/search?q=pandemie", everyone(200)),
    ("GET", "/api/suggest", lambda w: "/api/suggest?q=pand", everyone(200)),
    ("GET", "/api/bundles", lambda w: "/api/bundles?kit=kit", everyone(200)),
    ("GET", "/api/stats", lambda w: "/api/stats", staff_only(200)),
    ("POST", "/api/feed-token", lambda w: ("/api/feed-token", {}),
     {**W401, "member": 201, "staff": 201}),
    ("DELETE", "/api/feed-token", lambda w: "/api/feed-token",
     {**W401, "member": 204, "staff": 204}),
    ("GET", "/api/kits", lambda w: "/api/kits", everyone(200)),
    ("POST", "/api/kits", lambda w: ("/api/kits", {"json": {"slug": f"n{w.next()}",
                                                            "title": "N"}}), staff_only(201)),
    ("GET", "/api/kits/{slug}", lambda w: "/api/kits/kit", everyone(200)),
    ("PATCH", "/api/kits/{slug}", lambda w: ("/api/kits/kit", {"json": {"title": "KIT"}}),
     staff_only(200)),
    ("DELETE", "/api/kits/{slug}", _kit, staff_only(204)),
    ("GET", "/api/webinars", lambda w: "/api/webinars", everyone(200)),
    ("POST", "/api/webinars", lambda w: ("/api/webinars", {"json": {
        "title": "N", "starts_at": "2021-01-01T10:00:00+00:00"}}), staff_only(201)),
    ("GET", "/api/webinars/{webinar_id}", lambda w: f"/api/webinars/{w.webinars['A']}",
     everyone(200)),
    ("PATCH", "/api/webinars/{webinar_id}",
     lambda w: (f"/api/webinars/{w.webinars['A']}", {"json": {"description": "d"}}),
     staff_only(200)),
    ("DELETE", "/api/webinars/{webinar_id}", _webinar, staff_only(204)),
    ("GET", "/api/webinars/{webinar_id}/attendees",
     lambda w: f"/api/webinars/{w.webinars['A']}/attendees", staff_only(200)),
    ("POST", "/api/webinars/{webinar_id}/attendees",
     lambda w: (f"/api/webinars/{w.webinars['A']}/attendees", {
         "content": b"N,n@example.org,O\n", "headers": {"Content-Type": "text/csv"}}),
     staff_only(200)),
    ("PATCH", "/api/webinars/{webinar_id}/attendees/{attendee_id}",
     lambda w: (f"/api/webinars/{w.webinars['A']}/attendees/"
                f"{w.attendees['attendee_a']['id']}", {"json": {"download_limit": 1000}}),
     staff_only(200)),
    ("GET", "/api/webinars/{webinar_id}/usage",
     lambda w: f"/api/webinars/{w.webinars['A']}/usage", staff_only(200)),
    ("GET", "/search", lambda w: "/search?q=pandemie", everyone(200)),
    ("GET", "/resources/{resource_id}", lambda w: f"/resources/{w.items['M']['id']}",
     everyone(404, member=200, staff=200)),
    ("GET", "/resources/{resource_id}", lambda w: f"/resources/{w.items['RB']['id']}",
     everyone(404, attendee_b=200, staff=200)),
    ("GET", "/kits/{slug}", lambda w: "/kits/kit", everyone(200)),
    ("GET", "/webinars/{webinar_id}", lambda w: f"/webinars/{w.webinars['A']}", everyone(200)),
    ("GET", "/webinars/{webinar_id}/captions.vtt",
     lambda w: f"/webinars/{w.webinars['A']}/captions.vtt", everyone(404)),
    ("GET", "/staff", lambda w: "/staff", {**PAGE, "staff": 200}),
    ("GET", "/staff/upload", lambda w: "/staff/upload", {**PAGE, "staff": 200}),
    # A form post: staff with a token get past access, then the body must be multipart.
    ("POST", "/staff/upload", lambda w: ("/staff/upload", {"data": {}}),
     {**W401, "staff": 415}),
    ("GET", "/staff/resources/{resource_id}",
     lambda w: f"/staff/resources/{w.items['P']['id']}", {**PAGE, "staff": 200}),
    # Without its CSRF token the form is refused before anyone is asked who they are.
    ("POST", "/staff/resources/{resource_id}",
     lambda w: (f"/staff/resources/{w.items['P']['id']}", {"data": {}}),
     {**W401, "anonymous": 403, "attendee_a": 403, "attendee_b": 403, "staff": 403}),
]


def _route_table() -> set[tuple[str, str]]:
    table = set()
    for route in routes:
        if isinstance(route, Route):
            for method in route.methods or ():
                if method != "HEAD":
                    table.add((method, route.path.replace("{filename:path}", "{filename}")))
    return table


def test_every_route_has_a_row():
    covered = {(method, path) for method, path, _, _ in CASES}
    assert covered == _route_table()


async def _send(w: Library, method: str, build: Build, role: str) -> httpx.Response:
    made = build(w)
    if hasattr(made, "__await__"):
        made = await made
    if isinstance(made, dict):  # a throwaway resource: its own URL
        made = f"/api/resources/{made['id']}"
    elif isinstance(made, int):
        made = f"/api/webinars/{made}"
    elif isinstance(made, str) and method == "DELETE" and not made.startswith("/"):
        made = f"/api/kits/{made}"
    url, options = (made, {}) if isinstance(made, str) else made
    headers = {**w.headers[role], **options.pop("headers", {})}
    w.lib.client.cookies.clear()
    return await w.lib.client.request(method, url, headers=headers, **options)


async def test_the_access_matrix(world: Library):
    failures = []
    checked = 0
    for method, path, build, expected in CASES:
        for role in ROLES:
            response = await _send(world, method, build, role)
            want = expected[role]
            checked += 1
            if response.status_code != want:
                failures.append(f"{method} {path} as {role}: {response.status_code}, "
                                f"expected {want}: {response.text[:120]}")
    assert not failures, "\n".join(failures)
    assert checked == len(CASES) * len(ROLES)


VISIBLE = {"anonymous": {"P"}, "member": {"P", "M"}, "attendee_a": {"P", "RA"},
           "attendee_b": {"P", "RB"}, "staff": {"P", "M", "S", "RA", "RB"}}


@pytest.mark.parametrize("role", list(VISIBLE))
async def test_what_each_role_is_shown(world: Library, role: str):
    """Search hits, totals, facet counts, suggestions, listings, kits, bundles, feeds and
    pages show each caller exactly what they may open: no more, and nothing by count."""
    w, client = world, world.lib.client
    headers = w.headers[role]
    ids = {w.items[k]["id"]: k for k in ("P", "M", "S", "RA", "RB")}
    titles = {k: w.items[k]["title"] for k in ids.values()}
    expect = VISIBLE[role]

    found = (await client.get("/api/search", params={"q": "pandémie"}, headers=headers)).json()
    assert {ids[h["id"]] for h in found["hits"]} == expect
    assert found["total"] == len(expect)
    assert sum(found["facets"]["kind"].values()) == len(expect)
    assert found["facets"]["kit"] == {"kit": len(expect)}
    suggested = (await client.get("/api/suggest", params={"q": "Pand"}, headers=headers)).json()
    assert {ids[s["id"]] for s in suggested["suggestions"] if s["kind"] == "title"} == expect
    listed = (await client.get("/api/resources", headers=headers)).json()
    assert {ids[r["id"]] for r in listed["items"]} == expect
    kit = (await client.get("/api/kits/kit", headers=headers)).json()
    assert {ids[i["resource"]["id"] if isinstance(i.get("resource"), dict) else i["id"]]
            for i in kit["items"]} == expect
    bundle = await client.get("/api/bundles", params={"kit": "kit"}, headers=headers)
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
        names = {n for n in archive.namelist() if not n.startswith("manifest.")}
    assert names == {w.items[k]["files"][0]["filename"] for k in expect}
    assert int(bundle.headers["content-length"]) == kit["bundle"]["size"]
    webinar = (await client.get(f"/api/webinars/{w.webinars['A']}", headers=headers)).json()
    assert (webinar["recording"] is not None) == ("RA" in expect)
    for page in ("/search?q=pandémie", "/kits/kit", "/"):
        html = (await client.get(page, headers=headers)).text
        for rid, key in ids.items():
            # Titles may be highlighted word by word; the link to the item is whole.
            assert (f'href="/resources/{rid}"' in html) == (key in expect), (page, key)
    # Feeds ignore who fetches them: the public library, or a personal feed token's owner.
    public_feed = (await client.get("/feeds/resources.atom", headers=headers)).text
    assert {k for k, t in titles.items() if t in public_feed} == {"P"}
    personal = (await client.get("/feeds/resources.atom", params={"token": w.feed_token},
                                 headers=headers)).text
    assert {k for k, t in titles.items() if t in personal} == {"P", "M"}
