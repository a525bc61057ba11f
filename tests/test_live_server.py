"""Through a real server on a loopback port: big files, streaming, ranges, disconnects."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader, PdfWriter

from tests.conftest import LiveServer, staff_token

pytestmark = pytest.mark.slow

DOCS = Path(__file__).parent / "fixtures" / "docs"
SIZE = 300 * 1024 * 1024  # several hundred MB, streamed both ways
CHUNK = 4 * 1024 * 1024


def generated(size: int, digest: hashlib._Hash) -> Iterator[bytes]:
    """A PDF-headed stream of pseudo-random bytes, hashed as it is produced."""
    head = b"%PDF-1.4\n"
    digest.update(head)
    yield head
    sent = len(head)
    block = os.urandom(CHUNK)
    while sent < size:
        piece = block[: min(CHUNK, size - sent)]
        piece = hashlib.sha256(piece[:64] + sent.to_bytes(8, "big")).digest() + piece[32:]
        digest.update(piece)
        sent += len(piece)
        yield piece


def multipart(size: int, digest: hashlib._Hash, boundary: str) -> Iterator[bytes]:
    yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n"
           f"Enregistrement\r\n--{boundary}\r\nContent-Disposition: form-data; "
           f"name=\"visibility\"\r\n\r\npublic\r\n--{boundary}\r\nContent-Disposition: "
           f"form-data; name=\"file\"; filename=\"Webinaire été 2020.pdf\"\r\n"
           f"Content-Type: application/pdf\r\n\r\n").encode()
    yield from generated(size, digest)
    yield f"\r\n--{boundary}--\r\n".encode()


def test_several_hundred_mb_round_trip_keeps_every_byte(live_server: LiveServer):
    token = staff_token(live_server)
    sent = hashlib.sha256()
    boundary = "kitlib-live-boundary"
    with httpx.Client(base_url=live_server.url, timeout=120) as client:
        response = client.post("/api/resources", content=multipart(SIZE, sent, boundary),
                               headers={"Authorization": f"Bearer {token}",
                                        "Content-Type":
                                            f"multipart/form-data; boundary={boundary}"})
        assert response.status_code == 201, response.text
        [file] = response.json()["files"]
        assert file["sha256"] == sent.hexdigest() and file["size"] == SIZE
        received = hashlib.sha256()
        size = 0
        with client.stream("GET", file["url"]) as download:
            assert download.status_code == 200
            assert "filename*=UTF-8''Webinaire%20%C3%A9t%C3%A9%202020.pdf" in \
                download.headers["content-disposition"]
            for chunk in download.iter_raw():
                received.update(chunk)
                size += len(chunk)
        assert size == SIZE and received.hexdigest() == sent.hexdigest()
        tail = client.get(file["url"], headers={"Range": f"bytes={SIZE - 10}-"})
        assert tail.status_code == 206 and len(tail.content) == 10


def _uploads(server: LiveServer) -> list[Path]:
    return [p for p in server.settings.uploads_dir.rglob("*") if p.is_file()]


def test_disconnect_mid_upload_leaves_no_file_and_no_row(live_server: LiveServer):
    token = staff_token(live_server)
    host, port = live_server.url.removeprefix("http://").split(":")
    body_head = (b"--b\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nT\r\n--b\r\n"
                 b"Content-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n"
                 b"%PDF-1.4\n" + b"x" * (8 * 1024 * 1024))
    request = (f"POST /api/resources HTTP/1.1\r\nHost: {host}\r\n"
               f"Authorization: Bearer {token}\r\n"
               f"Content-Type: multipart/form-data; boundary=b\r\n"
               f"Content-Length: {len(body_head) + 50 * 1024 * 1024}\r\n\r\n").encode()
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(request + body_head)
        deadline = time.monotonic() + 10
        while not list((live_server.settings.uploads_dir / "tmp").glob("*.part")):
            assert time.monotonic() < deadline, "the server never started writing"
            time.sleep(0.05)
    deadline = time.monotonic() + 10
    while _uploads(live_server):
        assert time.monotonic() < deadline, f"left behind: {_uploads(live_server)}"
        time.sleep(0.05)
    with httpx.Client(base_url=live_server.url) as client:
        listing = client.get("/api/resources", headers={"Authorization": f"Bearer {token}"})
        assert listing.json()["total"] == 0


def test_a_recording_streams_with_ranges_like_a_video_player(live_server: LiveServer):
    token = staff_token(live_server)
    video = Path(__file__).resolve().parent.parent / "kitlib" / "demo" / \
        "webinaire-reprise-2020-05-14.mp4"
    content = video.read_bytes()
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        created = client.post("/api/resources", headers={"Authorization": f"Bearer {token}"},
                              data={"title": "Webinaire", "kind": "recording",
                                    "visibility": "public"},
                              files={"file": ("webinaire.mp4", content, "video/mp4")})
        assert created.status_code == 201
        [file] = created.json()["files"]
        assert file["media_type"] == "video/mp4"
        # What a <video> element does: probe with an open range, then seek.
        probe = client.get(file["url"], headers={"Range": "bytes=0-"})
        assert probe.status_code == 206 and probe.content == content
        assert probe.headers["content-disposition"].startswith("inline")
        seek = client.get(file["url"], headers={"Range": f"bytes={len(content) // 2}-"})
        assert seek.status_code == 206 and seek.content == content[len(content) // 2:]


def hundred_page_pdf() -> bytes:
    """The LibreOffice-made fixture's pages repeated to 100 pages of real text."""
    source = PdfReader(DOCS / "en_gowning_guide.pdf")
    writer = PdfWriter()
    for i in range(100):
        writer.add_page(source.pages[i % len(source.pages)])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("live_server", [1, 2], indirect=True)
def test_an_uploaded_100_page_pdf_becomes_searchable_through_the_background_worker(
    live_server: LiveServer,
):
    """GIVEN `kitlib serve` with one or two processes WHEN staff upload a 100-page PDF
    THEN the background worker (one of them, holding the lock) extracts and indexes it,
    and a search for a word inside finds it; no worker trips over another's index lock.
    The 5-second goal is measured by bench/ingest.py, not here."""
    auth = {"Authorization": f"Bearer {staff_token(live_server)}"}
    with httpx.Client(base_url=live_server.url, headers=auth, timeout=30) as client:
        created = client.post(
            "/api/resources", data={"title": "Gowning, the long version", "visibility": "public"},
            files={"file": ("guide.pdf", hundred_page_pdf(), "application/pdf")})
        assert created.status_code == 201, created.text
        rid = created.json()["id"]
        deadline = time.monotonic() + 60
        while True:
            found = client.get("/api/search", params={"q": "jewellery"})
            if found.status_code == 200 and rid in [h["id"] for h in found.json()["hits"]]:
                break
            assert time.monotonic() < deadline, found.text
            time.sleep(0.1)
        assert client.get(f"/api/resources/{rid}").json()["extraction_status"] == "done"
    log = (live_server.settings.data_dir / "server.log").read_text()
    assert "LockError" not in log and "Traceback" not in log, log

