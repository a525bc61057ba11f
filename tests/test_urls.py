"""Links: kitlib/urls.py builds the paths the named routes serve, no other module writes a
URL path of its own, and KITLIB_BASE_URL starts the absolute links written for elsewhere."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from urllib.parse import quote

import defusedxml.ElementTree as ET
import pytest
from starlette.routing import Route

from kitlib import urls
from kitlib.jobs.worker import drain
from kitlib.web.routes import routes

ROOT = Path(__file__).resolve().parent.parent
# The test client comes to http://kitlib.test/: the links must not.
BASE = "https://kitlib.test/library"
ATOM = "{http://www.w3.org/2005/Atom}"
# A URL path written by hand: an f-string starting with "/" or a "{host}/api/..." join, or a
# literal path glued to something with "+".
_PAGES = "api|files|attend|feeds|staff|login|logout|search|kits|webinars|resources"
HAND_MADE = re.compile("|".join([
    r"""\bf["']/\w""",
    rf"""\bf["'][^"'\n]*\}}/(?:{_PAGES})\b""",
    rf"""["']/(?:{_PAGES})\b[^"'\s]*["']\s*\+""",
]))
# The one place allowed to write paths (the route table has them as patterns, not f-strings).
ALLOWED = {ROOT / "kitlib" / "urls.py"}


def route(name: str) -> Route:
    return next(r for r in routes if isinstance(r, Route) and r.name == name)


def test_every_route_has_a_name_of_its_own():
    names = [r.name for r in routes]
    assert all(names) and len(names) == len(set(names))


@pytest.mark.parametrize(("built", "name", "params"), [
    (urls.file(7, "Été 2020 #1.pdf"), "file", {"file_id": 7, "filename": quote("Été 2020 #1.pdf")}),
    (urls.resource(3), "api_resource", {"resource_id": 3}),
    (urls.kit("covid-19"), "api_kit", {"slug": "covid-19"}),
    (urls.webinar(4), "api_webinar", {"webinar_id": 4}),
    (urls.attend("att.abc"), "attend", {"token": "att.abc"}),
    (urls.bundle(), "api_bundles", {}),
    (urls.feed(), "resources_feed", {}),
])
def test_each_built_path_is_the_path_of_its_named_route(built, name, params):
    assert built.split("?")[0] == route(name).url_path_for(name, **params)


def test_query_strings_are_encoded():
    assert urls.bundle({"kit": "a b", "q": "é&x"}) == "/api/bundles?kit=a+b&q=%C3%A9%26x"
    assert urls.bundle([("tag", "x"), ("tag", "y")]) == "/api/bundles?tag=x&tag=y"
    assert urls.feed("feed_abc-1") == "/feeds/resources.atom?token=feed_abc-1"


def test_no_module_writes_a_url_path_by_hand():
    found = []
    for path in sorted((ROOT / "kitlib").rglob("*.py")):
        if path in ALLOWED:
            continue
        relative = path.relative_to(ROOT).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if HAND_MADE.search(line):
                found.append(f"{relative}:{number}: {line.strip()}")
    assert not found, "build these with kitlib.urls or url_for:\n" + "\n".join(found)


@pytest.fixture
def settings(settings):
    return settings.with_overrides(base_url=BASE)


async def upload(lib, title: str) -> dict:
    response = await lib.client.post(
        "/api/resources", headers=lib.staff, data={"title": title, "visibility": "public"},
        files={"file": ("note é.pdf", b"%PDF-1.4\n" + title.encode() * 20, "application/pdf")})
    assert response.status_code == 201, response.text
    return response.json()


pytestmark = pytest.mark.anyio


async def test_with_a_base_url_the_feed_links_start_with_it(lib):
    """GIVEN KITLIB_BASE_URL and a public resource WHEN the feed is read through another
    address THEN its id, self, home and entry links name the public address."""
    made = await upload(lib, "Guide de reprise")
    await drain(lib.settings)
    response = await lib.client.get("/feeds/resources.atom", params={"q": "reprise"})
    feed = ET.fromstring(response.content)
    assert feed.find(f"{ATOM}id").text == f"{BASE}/feeds/resources.atom?q=reprise"
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == feed.find(f"{ATOM}id").text
    assert feed.find(f"{ATOM}link[@rel='alternate']").get("href") == f"{BASE}/"
    entry = feed.find(f"{ATOM}entry")
    assert entry.find(f"{ATOM}id").text == f"{BASE}/api/resources/{made['id']}"
    assert entry.find(f"{ATOM}link[@rel='enclosure']").get("href") == \
        f"{BASE}{made['files'][0]['url']}"
    assert "http://kitlib.test" not in response.text  # the address it came to


async def test_with_a_base_url_the_bundle_manifest_links_start_with_it(lib):
    made = await upload(lib, "Protocole")
    response = await lib.client.get("/api/bundles")
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        text = archive.read("manifest.csv").decode("utf-8-sig")
    assert [f["source_url"] for f in manifest["files"]] == [f"{BASE}{made['files'][0]['url']}"]
    assert f"{BASE}/files/{made['files'][0]['id']}/note%20%C3%A9.pdf" in text


async def test_with_a_base_url_attendee_links_start_with_it(lib):
    webinar = await lib.client.post("/api/webinars", headers=lib.staff, json={
        "title": "Reprise", "starts_at": "2020-05-14T10:00:00+02:00"})
    response = await lib.client.post(
        f"/api/webinars/{webinar.json()['id']}/attendees",
        headers={**lib.staff, "content-type": "text/csv"},
        content=b"name,email\nAnne,anne@example.org\n")
    assert response.status_code == 200, response.text
    assert response.json()["attendees"][0]["link"].startswith(f"{BASE}/attend/ka_")


async def test_with_a_base_url_a_request_for_another_host_is_refused(lib):
    """GIVEN KITLIB_BASE_URL WHEN a request names another host (a forged Host header, a
    rebinding domain) THEN it is a 400, while the public host and loopback probes pass."""
    forged = await lib.client.get("/", headers={"Host": "evil.example"})
    assert forged.status_code == 400 and "host" in forged.text.lower()
    assert forged.headers["x-content-type-options"] == "nosniff"
    assert (await lib.client.get("/healthz", headers={"Host": "localhost:8000"})) \
        .status_code == 200
    assert (await lib.client.get("/")).status_code == 200
