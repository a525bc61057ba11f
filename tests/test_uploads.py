"""Uploads: streamed to disk once, deduplicated, typed from their bytes, refused cleanly."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from kitlib.models import Resource, ResourceFile, StoredFile

PDF = b"%PDF-1.4\n% kitlib test document\n" + b"0123456789" * 1000
META = {"title": "Guide de reprise", "language": "fr", "tags": "covid-19, Reprise , covid-19",
        "kind": "document", "visibility": "public"}

pytestmark = pytest.mark.anyio


def blobs(root: Path) -> list[Path]:
    uploads = root / "uploads"
    return [p for p in uploads.rglob("*") if p.is_file()]


async def upload(lib, content: bytes = PDF, filename: str = "guide.pdf", **fields):
    data = {**META, **fields}
    return await lib.client.post("/api/resources", headers=lib.staff, data=data,
                                 files={"file": (filename, content, "application/octet-stream")})


async def test_upload_answers_201_with_the_resource_and_its_file(lib):
    response = await upload(lib)
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/api/resources/{body['id']}"
    assert body["title"] == "Guide de reprise"
    assert body["tags"] == ["covid-19", "reprise"]
    assert (body["language"], body["kind"], body["visibility"]) == ("fr", "document", "public")
    [file] = body["files"]
    assert file["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert file["size"] == len(PDF)
    assert file["media_type"] == "application/pdf"
    assert file["filename"] == "guide.pdf"
    assert file["url"] == f"/files/{file['id']}/guide.pdf"
    stored = lib.settings.uploads_dir / file["sha256"][:2] / file["sha256"][2:4] / file["sha256"]
    assert stored.read_bytes() == PDF
    assert not list((lib.settings.uploads_dir / "tmp").iterdir())


async def test_media_type_comes_from_the_bytes_not_the_name_or_header(lib):
    response = await upload(lib, content=b"WEBVTT\n\n00:00.000 --> 00:01.000\nBonjour\n",
                            filename="slides.pdf")
    assert response.status_code == 201
    assert response.json()["files"][0]["media_type"] == "text/vtt"


async def test_identical_content_is_stored_once(lib):
    first = (await upload(lib, filename="a.pdf")).json()
    second = (await upload(lib, filename="b.pdf", title="Copie")).json()
    assert first["id"] != second["id"]
    assert first["files"][0]["sha256"] == second["files"][0]["sha256"]
    assert first["files"][0]["id"] != second["files"][0]["id"]
    assert await StoredFile.all().count() == 1
    assert len(blobs(lib.settings.data_dir)) == 1
    # Deleting one resource keeps the bytes the other still shows.
    first_url, second_url = f"/api/resources/{first['id']}", f"/api/resources/{second['id']}"
    assert (await lib.client.delete(first_url, headers=lib.staff)).status_code == 204
    assert len(blobs(lib.settings.data_dir)) == 1
    assert (await lib.client.delete(second_url, headers=lib.staff)).status_code == 204
    assert blobs(lib.settings.data_dir) == []
    assert await StoredFile.all().count() == 0


async def test_too_large_upload_is_413_and_leaves_nothing(lib, settings):
    big = b"%PDF-1.4\n" + b"x" * (settings.max_upload_size + 10)

    async def body():
        yield big  # streamed without a Content-Length the server could refuse up front

    boundary = "kitlibboundary"
    payload = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nBig\r\n"
               f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
               f"filename=\"big.pdf\"\r\n\r\n").encode() + big + f"\r\n--{boundary}--\r\n".encode()

    async def chunks():
        for i in range(0, len(payload), 1024 * 1024):
            yield payload[i:i + 1024 * 1024]

    response = await lib.client.post(
        "/api/resources", content=chunks(),
        headers={**lib.staff, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 413
    assert "larger than" in response.json()["error"]["message"]
    assert blobs(lib.settings.data_dir) == []
    assert await Resource.all().count() == 0


async def test_declared_length_over_the_limit_is_refused_before_reading(lib, settings):
    response = await lib.client.post(
        "/api/resources", content=b"--x--\r\n",
        headers={**lib.staff, "Content-Type": "multipart/form-data; boundary=x",
                 "Content-Length": str(settings.max_upload_size * 2)})
    assert response.status_code == 413


@pytest.mark.parametrize("filename, message", [
    ("../../etc/passwd", "path"),
    ("..", "path"),
    ("dir/evil.pdf", "path"),
    ("..\\\\..\\\\evil.pdf", "path"),
    ("nul\x00byte.pdf", "control"),
    ("line\r\nbreak.pdf", "malformed"),  # a raw CR/LF breaks the part header itself
    ("x" * 300 + ".pdf", "longer than 255"),
])
async def test_bad_filenames_are_refused_and_nothing_is_written(lib, filename, message):
    boundary = "b0undary"
    payload = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nT\r\n"
               f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
               f"filename=\"{filename}\"\r\n\r\n").encode() + PDF + \
        f"\r\n--{boundary}--\r\n".encode()
    response = await lib.client.post(
        "/api/resources", content=payload,
        headers={**lib.staff, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 400, response.text
    assert message in response.json()["error"]["message"]
    assert blobs(lib.settings.data_dir) == []
    assert await Resource.all().count() == 0


@pytest.mark.parametrize("fields, field", [
    ({"title": ""}, "title"),
    ({"title": "Two\nlines"}, "title"),
    ({"language": "de"}, "language"),
    ({"kind": "movie"}, "kind"),
    ({"visibility": "secret"}, "visibility"),
    ({"published_at": "yesterday"}, "published_at"),
    ({"colour": "blue"}, "colour"),
])
async def test_bad_metadata_is_a_400_naming_the_field(lib, fields, field):
    response = await upload(lib, **fields)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_field"
    assert error["message"].startswith(field)
    assert blobs(lib.settings.data_dir) == []
    assert await Resource.all().count() == 0


async def test_missing_file_and_missing_title(lib):
    no_file = await lib.client.post("/api/resources", headers=lib.staff,
                                    files={"title": (None, "No file")})
    assert no_file.status_code == 400
    assert no_file.json()["error"]["message"].startswith("file")
    no_title = await lib.client.post("/api/resources", headers=lib.staff,
                                     files={"file": ("a.pdf", PDF, "application/pdf")})
    assert no_title.status_code == 400
    assert no_title.json()["error"]["message"].startswith("title")


@pytest.mark.parametrize("content_type, body, status", [
    ("multipart/form-data; boundary=xyz", b"this is not multipart at all", 400),
    ("multipart/form-data; boundary=xyz", b"--xyz\r\nContent-Disposition: form-data; "
     b"name=\"title\"\r\n\r\nT\r\n--xyz\r\nContent-Disposition: form-data; name=\"file\"; "
     b"filename=\"a.pdf\"\r\n\r\n%PDF-1.4 truncated", 400),
    ("multipart/form-data", b"--xyz--", 400),
    ("application/json", b"{}", 415),
    ("multipart/form-data; boundary=xyz",
     b"--xyz\r\nContent-Type: text/plain\r\n\r\nx\r\n--xyz--\r\n", 400),
])
async def test_malformed_bodies_get_a_clear_4xx(lib, content_type, body, status):
    response = await lib.client.post("/api/resources", content=body,
                                     headers={**lib.staff, "Content-Type": content_type})
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"]
    assert blobs(lib.settings.data_dir) == []
    assert await Resource.all().count() == 0


async def test_content_length_that_lies_is_refused(lib):
    boundary = "lie"
    payload = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nT\r\n"
               f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
               f"filename=\"a.pdf\"\r\n\r\n").encode() + PDF + f"\r\n--{boundary}--\r\n".encode()
    response = await lib.client.post(
        "/api/resources", content=payload,
        headers={**lib.staff, "Content-Type": f"multipart/form-data; boundary={boundary}",
                 "Content-Length": str(len(payload) + 500)})
    assert response.status_code == 400
    assert "Content-Length" in response.json()["error"]["message"]
    assert blobs(lib.settings.data_dir) == []
    assert await Resource.all().count() == 0


async def test_refused_types_are_415(lib):
    elf = b"\x7fELF\x02\x01\x01" + b"\x00" * 2000
    response = await upload(lib, content=elf, filename="tool.pdf")
    assert response.status_code == 415
    assert "not accepted" in response.json()["error"]["message"]
    assert blobs(lib.settings.data_dir) == []


async def test_client_disconnect_mid_upload_leaves_no_file_and_no_row(lib):
    """GIVEN a staff upload WHEN the client vanishes half-way THEN nothing remains."""
    app = lib.client._transport.app  # type: ignore[attr-defined]
    boundary = "gone"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nT\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"a.pdf\"\r\n\r\n").encode() + PDF * 50
    messages = [{"type": "http.request", "body": head, "more_body": True},
                {"type": "http.disconnect"}]
    sent = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    token = lib.staff["Authorization"].encode()
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/api/resources", "raw_path": b"/api/resources",
             "query_string": b"", "root_path": "", "server": ("kitlib.test", 80),
             "client": ("127.0.0.1", 5000),
             "headers": [(b"content-type", f"multipart/form-data; boundary={boundary}".encode()),
                         (b"authorization", token)]}
    await app(scope, receive, send)
    assert blobs(lib.settings.data_dir) == []
    assert await Resource.all().count() == 0
    assert await StoredFile.all().count() == 0


async def test_put_file_replaces_the_recording_and_frees_the_old_bytes(lib):
    created = (await upload(lib, kind="recording")).json()
    new = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 4096
    response = await lib.client.put(
        f"/api/resources/{created['id']}/file", content=new,
        headers={**lib.staff, "Content-Disposition":
                 "attachment; filename*=UTF-8''Webinaire%20%C3%A9t%C3%A9%202020.mp4"})
    assert response.status_code == 200, response.text
    [file] = response.json()["files"]
    assert file["filename"] == "Webinaire été 2020.mp4"
    assert file["media_type"] == "video/mp4"
    assert file["sha256"] == hashlib.sha256(new).hexdigest()
    assert len(blobs(lib.settings.data_dir)) == 1  # the PDF's bytes are gone
    assert await ResourceFile.all().count() == 1


async def test_put_file_needs_a_filename_and_an_honest_length(lib):
    created = (await upload(lib)).json()
    url = f"/api/resources/{created['id']}/file"
    nameless = await lib.client.put(url, content=PDF, headers=lib.staff)
    assert nameless.status_code == 400
    traversal = await lib.client.put(url, content=PDF, headers={
        **lib.staff, "Content-Disposition": 'attachment; filename="../../x.pdf"'})
    assert traversal.status_code == 400
    lying = await lib.client.put(url, content=PDF, headers={
        **lib.staff, "Content-Disposition": 'attachment; filename="x.pdf"',
        "Content-Length": str(len(PDF) + 10)})
    assert lying.status_code == 400
    assert len(blobs(lib.settings.data_dir)) == 1  # only the original


async def test_patch_and_delete_resource(lib):
    created = (await upload(lib)).json()
    url = f"/api/resources/{created['id']}"
    patched = await lib.client.patch(url, headers=lib.staff,
                                     content=json.dumps({"title": "Nouveau titre",
                                                         "tags": ["A", "b"]}),
                                     )
    assert patched.status_code == 415  # JSON must say it is JSON
    patched = await lib.client.patch(url, headers=lib.staff,
                                     json={"title": "Nouveau titre", "tags": ["A", "b"]})
    assert patched.status_code == 200
    assert patched.json()["title"] == "Nouveau titre"
    assert patched.json()["tags"] == ["a", "b"]
    assert (await lib.client.patch(url, headers=lib.staff, json={"kind": "x"})).status_code == 400
    assert (await lib.client.patch(url, headers=lib.staff, json=[1])).status_code == 400
    bad_json = await lib.client.patch(url, headers={**lib.staff,
                                                    "Content-Type": "application/json"},
                                      content=b"{not json")
    assert bad_json.status_code == 400
    assert (await lib.client.delete(url, headers=lib.staff)).status_code == 204
    assert (await lib.client.get(url, headers=lib.staff)).status_code == 404


async def test_link_resources_need_a_url_not_a_file(lib):
    response = await lib.client.post("/api/resources", headers=lib.staff, files={
        "title": (None, "FAQ employeurs"), "kind": (None, "link"),
        "url": (None, "https://example.org/faq"), "visibility": (None, "public")})
    assert response.status_code == 201, response.text
    assert response.json()["url"] == "https://example.org/faq"
    bad = await lib.client.post("/api/resources", headers=lib.staff, files={
        "title": (None, "x"), "kind": (None, "link"), "url": (None, "javascript:alert(1)")})
    assert bad.status_code == 400


async def test_listing_pages_and_bounds(lib):
    for i in range(3):
        await upload(lib, content=PDF + bytes([i]), title=f"Doc {i}")
    page = (await lib.client.get("/api/resources?per_page=2&page=2")).json()
    assert page["total"] == 3 and page["page"] == 2 and len(page["items"]) == 1
    assert page["items"][0]["title"] == "Doc 0"
    for bad in ("per_page=0", "per_page=101", "page=abc", "kind=movie"):
        assert (await lib.client.get(f"/api/resources?{bad}")).status_code == 400


async def test_upload_with_session_cookie_requires_csrf(lib):
    from tests.test_auth import sign_in

    await sign_in(lib.client, "staff@example.org")
    files = {"file": ("a.pdf", PDF, "application/pdf")}
    refused = await lib.client.post("/api/resources", data=META, files=files)
    assert refused.status_code == 403
    token = lib.client.cookies["kitlib_csrf"]
    accepted = await lib.client.post("/api/resources", data=META, files=files,
                                     headers={"X-CSRF-Token": token})
    assert accepted.status_code == 201
    assert len(blobs(lib.settings.data_dir)) == 1


async def test_start_up_sweeps_what_interrupted_uploads_left(make_app, settings):
    """GIVEN .part and .faststart files in uploads/tmp, one a day old, one just written
    WHEN the app starts THEN the old ones are gone and the fresh one (an upload that may
    still be running in another process) is kept."""
    import os
    import time

    tmp = settings.uploads_dir / "tmp"
    tmp.mkdir(parents=True)
    old_part, old_remux, fresh = tmp / "a.part", tmp / "b.faststart", tmp / "c.part"
    for path in (old_part, old_remux, fresh):
        path.write_bytes(b"x" * 10)
    day_ago = time.time() - 24 * 3600
    for path in (old_part, old_remux):
        os.utime(path, (day_ago, day_ago))
    app = make_app()
    async with app.router.lifespan_context(app):
        assert not old_part.exists() and not old_remux.exists()
        assert fresh.exists()


async def test_bytes_collected_while_uploaded_again_are_restored_by_the_new_upload(lib):
    # The race, step by step: B has streamed the same bytes as A's file (so B's storage step
    # kept the stored blob and a spare copy); A's resource is deleted and its blob collected;
    # then B's rows commit. B's file must still be there.
    from kitlib.services import resources as svc
    from kitlib.services import uploads

    storage = lib.client._transport.app.state.storage  # type: ignore[attr-defined]
    first = (await upload(lib, filename="a.pdf")).json()

    async def chunks():
        yield PDF

    async with uploads.session(storage) as up:
        blob = await up.save(chunks(), 1 << 20)
        assert not blob.created and blob.spare is not None and blob.spare.exists()
        assert (await lib.client.delete(f"/api/resources/{first['id']}",
                                        headers=lib.staff)).status_code == 204
        assert not storage.path_for(blob.key).exists()  # collected
        resource = await svc.create_resource({**META, "title": "B"},
                                             [svc.Upload(blob, "b.pdf")], None)
    body = (await lib.client.get(f"/api/resources/{resource.id}", headers=lib.staff)).json()
    download = await lib.client.get(body["files"][0]["url"], headers=lib.staff)
    assert download.status_code == 200 and download.content == PDF
    assert not list((lib.settings.uploads_dir / "tmp").iterdir())


async def test_a_blob_with_a_new_row_is_not_collected(lib):
    storage = lib.client._transport.app.state.storage  # type: ignore[attr-defined]
    created = (await upload(lib)).json()
    key = storage.key_for(created["files"][0]["sha256"])

    async def referenced() -> bool:
        return True  # a row for these bytes committed between the row delete and this check

    await storage.remove_unless(key, referenced)
    assert storage.path_for(key).exists()


async def test_deduplicated_uploads_leave_no_spare_copy(lib):
    await upload(lib, filename="a.pdf")
    await upload(lib, filename="b.pdf", title="Copie")
    resource = (await upload(lib, filename="c.pdf", title="Remplacée")).json()
    put = await lib.client.put(f"/api/resources/{resource['id']}/file", content=PDF,
                               headers={**lib.staff,
                                        "Content-Disposition": 'attachment; filename="d.pdf"'})
    assert put.status_code == 200, put.text
    assert not list((lib.settings.uploads_dir / "tmp").iterdir())
    assert len(blobs(lib.settings.data_dir)) == 1
