"""ZIP bundles: the filter's files and nothing else, manifests, exact sizes, resumable ranges,
ZIP64, and archives that zipfile and unzip accept."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import subprocess
import sys
import zipfile
import zlib
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import stream_zip as stream_zip_module

from kitlib.access.rules import ANONYMOUS, Principal
from kitlib.jobs.worker import drain
from kitlib.models import DownloadEvent, StoredFile
from kitlib.services import bundle_zip as bz
from kitlib.services import bundles as svc
from kitlib.services import search as search_svc
from kitlib.storage import Storage
from kitlib.urls import Links
from tests.conftest import staff_token

pytestmark = pytest.mark.anyio

MANIFESTS = ["manifest.csv", "manifest.json"]
SEES = {"anonymous": {"public"}, "member": {"public", "members"},
        "staff": {"public", "members", "attendees", "staff"}}


def pdf(text: str, size: int = 2000) -> bytes:
    return b"%PDF-1.4\n" + (text.encode() * (size // max(len(text), 1) + 1))[:size]


async def upload(lib, filename: str, title: str, content: bytes | None = None, **fields) -> dict:
    data = {"title": title, "visibility": "public", **fields}
    response = await lib.client.post(
        "/api/resources", headers=lib.staff, data=data,
        files={"file": (filename, content or pdf(title), "application/pdf")})
    assert response.status_code == 201, response.text
    body: dict = response.json()
    return body


@pytest.fixture
async def library(lib) -> dict[str, dict]:
    """Public documents in French and English (one with an accented name, two named
    guide.pdf), a members-only, an attendees-only and a staff-only file, a link."""
    items = {
        "ete": await upload(lib, "Guide été 2020.pdf", "Guide de l'été", tags="covid,hygiène",
                            language="fr", published_at="2020-06-01"),
        "guide1": await upload(lib, "guide.pdf", "Reprise d'activité", tags="covid",
                               language="fr", published_at="2020-05-01"),
        "guide2": await upload(lib, "guide.pdf", "=HYPERLINK(\"x\")", kind="slides",
                               language="en", published_at="2020-07-01"),
        "members": await upload(lib, "members.pdf", "Members only", visibility="members",
                                tags="covid", published_at="2020-08-01"),
        "attendees": await upload(lib, "attendees.pdf", "Attendees only",
                                  visibility="attendees", published_at="2020-08-02"),
        "staff": await upload(lib, "staff.pdf", "Staff only", visibility="staff",
                              published_at="2020-08-03"),
    }
    link = await lib.client.post("/api/resources", headers=lib.staff, files={
        name: (None, value) for name, value in (("title", "A link"), ("visibility", "public"),
                                                ("kind", "link"), ("url", "https://example.org"))})
    assert link.status_code == 201, link.text
    items["link"] = link.json()
    await drain(lib.settings)
    return items


def headers_for(lib, role: str) -> dict[str, str]:
    return {"anonymous": {}, "member": lib.member, "staff": lib.staff}[role]


def manifest(content: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        data: dict = json.loads(archive.read("manifest.json"))
    return data


def names(content: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return archive.namelist()


def check_archive(path: Path, content: bytes) -> None:
    """Both ``python -m zipfile -t`` and Info-ZIP's ``unzip -t`` accept the archive."""
    path.write_bytes(content)
    tested = subprocess.run([sys.executable, "-m", "zipfile", "-t", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    unzip = shutil.which("unzip")
    assert unzip, "unzip is missing: scripts/system-deps installs it"
    tested = subprocess.run([unzip, "-t", str(path)], capture_output=True, timeout=120)
    assert tested.returncode == 0, tested.stdout + tested.stderr


async def search_ids(lib, headers, **params) -> set[int]:
    response = await lib.client.get("/api/search", headers=headers,
                                    params={**params, "per_page": 100})
    assert response.status_code == 200, response.text
    return {hit["id"] for hit in response.json()["hits"]}


@pytest.mark.parametrize("role", list(SEES))
async def test_a_bundle_holds_every_file_the_caller_may_open_and_nothing_else(
        lib, library, role, tmp_path):
    response = await lib.client.get("/api/bundles", headers=headers_for(lib, role))
    assert response.status_code == 200, response.text
    content = response.content
    assert response.headers["content-length"] == str(len(content))
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["etag"].startswith('"') and len(response.headers["etag"]) == 66
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("attachment; ")
    expected = {key for key, item in library.items()
                if item["visibility"] in SEES[role] and item["files"]}
    files = manifest(content)["files"]
    assert {f["resource_id"] for f in files} == {library[k]["id"] for k in expected}
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for f in files:
            data = archive.read(f["path"])
            assert hashlib.sha256(data).hexdigest() == f["sha256"] and len(data) == f["size"]
            assert archive.getinfo(f["path"]).compress_type == zipfile.ZIP_STORED
    check_archive(tmp_path / "bundle.zip", content)


FILTERS = [{"kind": "slides"}, {"tag": "covid"}, {"tag": "Hygiene"}, {"language": "fr"},
           {"q": "guide"}, {"q": "only"}, {"from": "2020-06-01", "to": "2020-07-31"},
           {"tag": "covid", "language": "fr"}, {"kind": "document", "q": "reprise"}]


@pytest.mark.parametrize("role", list(SEES))
async def test_the_files_are_those_search_finds_for_the_same_filters(lib, library, role):
    headers = headers_for(lib, role)
    for params in FILTERS:
        # Search finds resources, a bundle holds files: the link has none.
        found = await search_ids(lib, headers, **params) - {library["link"]["id"]}
        response = await lib.client.get("/api/bundles", headers=headers, params=params)
        if not found:
            assert response.status_code == 404, params
            continue
        assert response.status_code == 200, response.text
        files = manifest(response.content)["files"]
        assert {f["resource_id"] for f in files} == found, params


async def test_order_is_by_date_and_names_are_accented_and_unique(lib, library):
    content = (await lib.client.get("/api/bundles")).content
    # Published 2020-05-01, 06-01, 07-01: dates decide, not upload order.
    assert names(content) == MANIFESTS + ["guide.pdf", "Guide été 2020.pdf", "guide (2).pdf"]
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        info = archive.getinfo("Guide été 2020.pdf")
        assert info.flag_bits & 0x800  # the UTF-8 flag: accents survive every unzip
    listed = subprocess.run(["unzip", "-Z1", "/dev/stdin"], input=content, capture_output=True)
    if listed.returncode == 0:
        assert "Guide été 2020.pdf" in listed.stdout.decode()


async def test_manifests_describe_every_file(lib, library):
    content = (await lib.client.get("/api/bundles", params={"language": "en"})).content
    item = library["guide2"]
    stored = item["files"][0]
    entry = manifest(content)["files"][0]
    assert entry == {
        "path": "guide.pdf", "title": '=HYPERLINK("x")', "kind": "slides", "language": "en",
        "tags": [], "sha256": stored["sha256"], "size": stored["size"],
        "modified": entry["modified"], "source_url": f"http://kitlib.test{stored['url']}",
        "resource_id": item["id"]}
    datetime.strptime(entry["modified"], "%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        text = archive.read("manifest.csv").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["title"] == "'=HYPERLINK(\"x\")"  # a formula arrives as text
    assert rows[0]["sha256"] == stored["sha256"] and rows[0]["size"] == str(stored["size"])
    assert rows[0]["source_url"] == entry["source_url"]
    tagged = manifest((await lib.client.get("/api/bundles", params={"tag": "hygiène"})).content)
    assert tagged["files"][0]["tags"] == ["covid", "hygiène"]


async def test_a_kit_bundle_follows_the_kit_order_and_the_kit_tells_its_size(lib, library):
    ids = [library[k]["id"] for k in ("guide2", "members", "ete", "guide1")]
    created = await lib.client.post("/api/kits", headers=lib.staff, json={
        "slug": "covid-19-kit", "title": "COVID-19 KIT", "items": ids})
    assert created.status_code == 201, created.text
    for headers, expected in ((lib.member, ["guide.pdf", "members.pdf", "Guide été 2020.pdf",
                                            "guide (2).pdf"]),
                              ({}, ["guide.pdf", "Guide été 2020.pdf", "guide (2).pdf"])):
        response = await lib.client.get("/api/bundles", headers=headers,
                                        params={"kit": "covid-19-kit"})
        assert names(response.content) == MANIFESTS + expected
        assert 'filename="covid-19-kit.zip"' in response.headers["content-disposition"]
        kit = (await lib.client.get("/api/kits/covid-19-kit", headers=headers)).json()
        assert kit["bundle"] == {"url": "/api/bundles?kit=covid-19-kit",
                                 "size": len(response.content)}
    # Words and a kit: the kit's files the words find, still in kit order.
    await drain(lib.settings)  # the index learns the kit
    both = await lib.client.get("/api/bundles", params={"kit": "covid-19-kit", "q": "guide"})
    assert [f["resource_id"] for f in manifest(both.content)["files"]] == [
        i for i in ids if i in await search_ids(lib, {}, q="guide", kit="covid-19-kit")]
    empty = await lib.client.post("/api/kits", headers=lib.staff, json={
        "slug": "staff-kit", "title": "Staff", "items": [library["staff"]["id"]]})
    assert empty.status_code == 201
    assert (await lib.client.get("/api/kits/staff-kit")).json()["bundle"] is None


async def test_resume_with_range_and_if_range_gives_identical_bytes(lib, library):
    full = await lib.client.get("/api/bundles", headers=lib.staff)
    content, etag = full.content, full.headers["etag"]
    total = len(content)
    for cut in (1, 100, total // 2, total - 1):
        rest = await lib.client.get("/api/bundles", headers={
            **lib.staff, "Range": f"bytes={cut}-", "If-Range": etag})
        assert rest.status_code == 206
        assert rest.headers["content-range"] == f"bytes {cut}-{total - 1}/{total}"
        assert rest.headers["content-length"] == str(total - cut)
        assert hashlib.sha256(content[:cut] + rest.content).digest() == \
            hashlib.sha256(content).digest()
    middle = await lib.client.get("/api/bundles", headers={**lib.staff, "Range": "bytes=50-149"})
    assert middle.status_code == 206 and middle.content == content[50:150]
    suffix = await lib.client.get("/api/bundles", headers={**lib.staff, "Range": "bytes=-22"})
    assert suffix.status_code == 206 and suffix.content == content[-22:]
    stale = await lib.client.get("/api/bundles", headers={
        **lib.staff, "Range": "bytes=100-", "If-Range": '"0000"'})
    assert stale.status_code == 200 and stale.content == content
    several = await lib.client.get("/api/bundles", headers={**lib.staff,
                                                           "Range": "bytes=0-1,5-9"})
    assert several.status_code == 200 and several.content == content
    past = await lib.client.get("/api/bundles", headers={**lib.staff,
                                                        "Range": f"bytes={total}-"})
    assert past.status_code == 416
    assert past.headers["content-range"] == f"bytes */{total}"
    assert past.json()["error"]["code"] == "range_not_satisfiable"
    again = await lib.client.get("/api/bundles", headers={**lib.staff, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    head = await lib.client.head("/api/bundles", headers=lib.staff)
    assert head.headers["content-length"] == str(total) and head.content == b""


async def test_the_etag_and_size_follow_what_the_caller_may_open(lib, library):
    anonymous = await lib.client.get("/api/bundles")
    member = await lib.client.get("/api/bundles", headers=lib.member)
    assert anonymous.headers["etag"] != member.headers["etag"]
    again = await lib.client.get("/api/bundles")
    assert again.content == anonymous.content and again.headers["etag"] == \
        anonymous.headers["etag"]
    await lib.client.patch(f"/api/resources/{library['ete']['id']}", headers=lib.staff,
                           json={"title": "Nouveau titre"})
    changed = await lib.client.get("/api/bundles")
    assert changed.headers["etag"] != anonymous.headers["etag"]


@pytest.mark.parametrize("params, status, words", [
    ({"kind": "link"}, 404, "No file matches these filters"),
    ({"q": "zzzqqqxxx"}, 404, "No file matches these filters"),
    ({"kind": "video"}, 400, "kind"),
    ({"kit": "no-such-kit"}, 400, "kit"),
    ({"from": "2020-13-01"}, 400, "from"),
])
async def test_nothing_matching_is_a_404_and_a_bad_filter_a_400(lib, library, params, status,
                                                                 words):
    response = await lib.client.get("/api/bundles", params=params)
    assert response.status_code == status, response.text
    assert words in response.json()["error"]["message"]


async def test_a_complete_bundle_counts_one_download_per_file_and_a_range_its_bytes(
        lib, library):
    await lib.client.get("/api/bundles", headers=lib.member)
    await lib.client.get("/api/bundles", headers={**lib.member, "Range": "bytes=0-99"})
    await lib.app.state.downloads.flush()
    events = await DownloadEvent.all().order_by("id")
    whole, ranged = events[:-1], events[-1]
    expected = {library[k]["id"] for k in ("ete", "guide1", "guide2", "members")}
    assert {e.resource_id for e in whole} == expected  # type: ignore[attr-defined]
    assert all(e.complete and e.user_id == lib.member_user.id for e in whole)  # type: ignore[attr-defined]
    assert len(whole) == len(expected)
    # A range belongs to no one file: it is recorded with the bytes it served, as the
    # bundle's, and is no complete download of anything.
    assert (ranged.resource_id, ranged.bytes, ranged.complete, ranged.bundle) == (  # type: ignore[attr-defined]
        None, 100, False, "kitlib-bundle.zip")
    assert ranged.user_id == lib.member_user.id  # type: ignore[attr-defined]


async def test_files_stored_before_the_crc_column_get_one_on_first_use(lib, library, tmp_path):
    before = (await lib.client.get("/api/bundles", headers=lib.staff)).content
    await StoredFile.all().update(crc32=None)
    after = (await lib.client.get("/api/bundles", headers=lib.staff)).content
    assert after == before
    storage = Storage(lib.settings.uploads_dir)
    for stored in await StoredFile.all():
        data = storage.path_for(stored.storage_key).read_bytes()
        assert stored.crc32 == zlib.crc32(data)


async def test_too_many_files_is_a_clear_400(lib, library):
    service = lib.app.state.search
    params = await search_svc.parse_params(_Query({}))
    with pytest.raises(svc.BadRequest, match="at most 2"):
        await svc.plan(service, Storage(lib.settings.uploads_dir), ANONYMOUS, params,
                       Links("http://x"), limit=2)


class _Query(dict[str, str]):
    def getlist(self, key: str) -> list[str]:
        return [self[key]] if key in self else []


def members_on_disk(tmp_path: Path) -> list[bz.Member]:
    """Accented, duplicate and empty files, and a manifest, as the service plans them."""
    contents = [pdf("a", 70_000), pdf("b", 3), b"", pdf("c", 1_500_000)]
    filenames = ["Été.pdf", "été.PDF", "../../etc/passwd", "E\u0301te\u0301 2.pdf"]
    members = [bz.Member.of_bytes("manifest.json", b"{}", datetime(2020, 5, 14, tzinfo=UTC))]
    for i, (data, name) in enumerate(zip(contents, bz.unique_names(filenames), strict=True)):
        path = tmp_path / f"blob{i}"
        path.write_bytes(data)
        members.append(bz.Member(name, len(data), zlib.crc32(data),
                                 bz.zip_time(datetime(1970 + 20 * i, 1, 1, 12, 0, 1)),
                                 path=path))
    return members


def test_names_are_cleaned_and_made_unique():
    assert bz.unique_names(["Été.pdf", "été.PDF", "../../etc/passwd", "a\x00b\n.txt",
                            "manifest.csv", "E\u0301te\u0301.pdf", ".."],
                           reserved=["manifest.csv", "manifest.json"]) == [
        "Été.pdf", "été (2).PDF", "_.._etc_passwd", "ab.txt", "manifest (2).csv",
        "Été (3).pdf", "file-7"]
    long = bz.clean_name("é" * 300 + ".pdf", "x")
    assert len(long.encode()) <= 255 and long.endswith(".pdf")


@pytest.mark.parametrize("zip64", [False, True])
def test_the_size_known_in_advance_is_the_size_made(tmp_path, zip64):
    members = members_on_disk(tmp_path)
    made = b"".join(bz.stream(members, zip64))
    assert bz.archive_size(members, zip64) == len(made)
    assert (b"PK\x06\x06" in made) == zip64  # the ZIP64 end of central directory
    assert b"".join(bz.stream(members, zip64)) == made  # deterministic
    assert b"".join(bz.stream(members, zip64, 1000, 80_000)) == made[1000:80_000]
    check_archive(tmp_path / "t.zip", made)
    with zipfile.ZipFile(io.BytesIO(made)) as archive:
        assert archive.namelist() == ["manifest.json", "Été.pdf", "été (2).PDF",
                                      "_.._etc_passwd", "Été 2.pdf"]
        assert archive.getinfo("Été.pdf").date_time == (1980, 1, 1, 0, 0, 0)  # clamped
        assert archive.getinfo("été (2).PDF").date_time == (1990, 1, 1, 12, 0, 0)


async def test_a_forced_zip64_bundle_is_valid_and_deterministic(lib, library, tmp_path):
    service, storage = lib.app.state.search, Storage(lib.settings.uploads_dir)
    staff = Principal(role="staff", user=lib.staff_user)
    params = await search_svc.parse_params(_Query({}))
    made = []
    for _ in range(2):
        planned = await svc.with_crcs(await svc.plan(service, storage, staff, params,
                                                     Links("http://x"), force_zip64=True))
        assert planned.zip64
        made.append(b"".join(bz.stream(planned.members, True)))
        assert planned.size == len(made[-1])
    assert made[0] == made[1] and b"PK\x06\x06" in made[0]
    check_archive(tmp_path / "zip64.zip", made[0])
    plain = await svc.plan(service, storage, staff, params, Links("http://x"))
    assert not plain.zip64 and plain.etag != planned.etag


def test_closing_the_stream_early_closes_the_open_file(tmp_path):
    members = members_on_disk(tmp_path)
    chunks = bz.stream(members, False, chunk_size=65536)
    frame = chunks.gi_frame
    assert frame is not None
    while not frame.f_locals.get("opened"):  # past the manifest, into the first file
        next(chunks)
    opened = frame.f_locals["opened"]
    assert not opened[-1].closed
    chunks.close()
    assert all(handle.closed for handle in opened)


def test_a_file_changed_on_disk_stops_the_stream_rather_than_send_a_wrong_crc(tmp_path):
    """GIVEN ISA-L's CRC-32 in stream-zip WHEN a member's bytes differ from its recorded
    CRC THEN stream-zip still refuses them."""
    members = members_on_disk(tmp_path)
    made = b"".join(bz.stream(members, False))
    assert stream_zip_module.zlib.crc32(b"kitlib", 7) == zlib.crc32(b"kitlib", 7)
    assert members[1].path is not None
    members[1].path.write_bytes(b"X" * members[1].size)
    with pytest.raises(stream_zip_module.CRC32IntegrityError):
        b"".join(bz.stream(members, False))
    assert len(made) == bz.archive_size(members, False)


async def test_reordering_a_kit_by_ids_keeps_the_notes(lib, library):
    a, b = library["ete"]["id"], library["guide1"]["id"]
    await lib.client.post("/api/kits", headers=lib.staff, json={
        "slug": "k", "title": "K", "items": [{"resource": a, "note": "Lire d'abord"}, b]})
    reordered = await lib.client.patch("/api/kits/k", headers=lib.staff, json={"items": [b, a]})
    assert [(i["resource"]["id"], i["note"]) for i in reordered.json()["items"]] == [
        (b, ""), (a, "Lire d'abord")]
    cleared = await lib.client.patch("/api/kits/k", headers=lib.staff,
                                     json={"items": [{"resource": a, "note": ""}]})
    assert [(i["resource"]["id"], i["note"]) for i in cleared.json()["items"]] == [(a, "")]


@pytest.mark.slow
def test_curl_resumes_an_interrupted_bundle_through_a_real_server(live_server, tmp_path):
    """GIVEN a bundle cut short on disk WHEN ``curl -C -`` resumes it THEN the file is the
    whole archive, byte for byte; and a client that walks away leaves a healthy server."""
    curl = shutil.which("curl")
    assert curl is not None, "curl is missing: scripts/system-deps installs it"
    auth = {"Authorization": f"Bearer {staff_token(live_server)}"}
    for i in range(3):
        response = httpx.post(f"{live_server.url}/api/resources", headers=auth, timeout=60,
                              data={"title": f"Partie {i}", "visibility": "public"},
                              files={"file": (f"partie-é-{i}.pdf", pdf(f"{i}", 3_000_000))})
        assert response.status_code == 201, response.text
    url = f"{live_server.url}/api/bundles"
    whole = httpx.get(url, timeout=60)
    assert whole.status_code == 200 and len(whole.content) > 9_000_000
    target = tmp_path / "kit.zip"
    target.write_bytes(whole.content[:4_321_987])
    done = subprocess.run([curl, "-sS", "--fail", "-C", "-", "-o", str(target), url],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(whole.content).digest()
    check_archive(tmp_path / "check.zip", target.read_bytes())
    with httpx.stream("GET", url, timeout=60) as walked_away:
        next(walked_away.iter_raw(65536))
    assert httpx.get(f"{live_server.url}/healthz", timeout=10).status_code == 200
    assert httpx.get(url, timeout=60).content == whole.content
