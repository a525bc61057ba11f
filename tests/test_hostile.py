"""Hostile input: the corpus of tests/fixtures/hostile (made by make_hostile.py) through the
API and the search worker, and header and name attacks. Every file ends as a clear refusal
or a stored item whose extraction status says why, within a time cap; nothing answers 500."""

from __future__ import annotations

import csv
import io
import socket
import time
from pathlib import Path

import pytest

from kitlib.jobs.worker import drain
from kitlib.models import ExtractionStatus, Resource
from kitlib.settings import Settings
from tests.conftest import staff_token, start_server, stop_server

pytestmark = pytest.mark.anyio
HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
# Every file's extraction, bombs included, must end well within this (seconds).
CAP = 30


async def upload(lib, name: str, data: bytes, **fields: str):
    return await lib.client.post(
        "/api/resources", headers=lib.staff,
        data={"title": fields.pop("title", name), "visibility": "public", **fields},
        files={"file": (name, data, "application/octet-stream")})


@pytest.mark.parametrize(("name", "status", "media_type", "extraction", "reason"), [
    ("zip_bomb.docx", 201, DOCX, "failed", "looks like a zip bomb"),
    ("zip_bomb.pptx", 201, PPTX, "failed", "looks like a zip bomb"),
    ("billion_laughs.docx", 201, DOCX, "failed", "XML entity or DOCTYPE declarations"),
    ("corrupt.pdf", 201, "application/pdf", "failed", "not a valid PDF"),
    ("encrypted.pdf", 201, "application/pdf", "failed", "encrypted with a password"),
    ("ten_thousand_blank_pages.pdf", 201, "application/pdf", "done", ""),
    ("polyglot_pdf_zip.pdf", 201, "application/pdf", "done", ""),
    ("web_page_named.pdf", 201, "text/html", "done", ""),
    ("broken_cues.vtt", 201, "text/vtt", "done", ""),
    ("program_named.pdf", 415, None, None, "application/x-executable are not accepted"),
    ("empty.pdf", 400, None, None, "is empty (0 bytes)"),
])
async def test_each_hostile_file_is_refused_or_stored_with_a_reason(lib, name, status, media_type,
                                                                     extraction, reason):
    response = await upload(lib, name, (HOSTILE / name).read_bytes())
    assert response.status_code == status, response.text
    if status != 201:
        assert reason in response.json()["error"]["message"]
        assert not list(lib.settings.uploads_dir.glob("??/??/*"))  # nothing kept
        return
    assert response.json()["files"][0]["media_type"] == media_type
    started = time.monotonic()
    await drain(lib.settings)
    assert time.monotonic() - started < CAP
    resource = await Resource.get(id=response.json()["id"])
    assert resource.extraction_status == ExtractionStatus(extraction)
    assert reason in resource.extraction_error
    if extraction == "failed":
        assert resource.extraction_error.startswith(name)


async def test_a_web_page_in_disguise_is_never_served_as_a_page(lib):
    created = (await upload(lib, "web_page_named.pdf",
                            (HOSTILE / "web_page_named.pdf").read_bytes())).json()
    served = await lib.client.get(created["files"][0]["url"])
    assert served.headers["content-type"].startswith("text/html")
    assert served.headers["content-disposition"].startswith("attachment")
    assert served.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert served.headers["x-content-type-options"] == "nosniff"
    polyglot = (await upload(lib, "polyglot.pdf",
                             (HOSTILE / "polyglot_pdf_zip.pdf").read_bytes())).json()
    served = await lib.client.get(polyglot["files"][0]["url"])
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["x-content-type-options"] == "nosniff"


async def test_broken_cues_are_skipped_and_the_good_ones_kept(lib):
    created = (await upload(lib, "broken_cues.vtt", (HOSTILE / "broken_cues.vtt").read_bytes(),
                            kind="transcript")).json()
    await drain(lib.settings)
    resource = await Resource.get(id=created["id"])
    assert [c[:2] for c in resource.cues] == [[1.0, "Bonjour et bienvenue."],
                                              [20.0, "Merci de votre attention."]]


async def test_attendee_list_with_formulas_is_imported_and_exported_as_text(lib):
    webinar = (await lib.client.post("/api/webinars", headers=lib.staff, json={
        "title": "W", "starts_at": "2020-05-14T10:00:00+02:00"})).json()
    imported = await lib.client.post(
        f"/api/webinars/{webinar['id']}/attendees", content=(
            HOSTILE / "attendees_formulas.csv").read_bytes(),
        headers={**lib.staff, "Content-Type": "text/csv"})
    assert imported.status_code == 200 and imported.json()["created"] == 3
    exported = await lib.client.get(f"/api/webinars/{webinar['id']}/usage",
                                    params={"format": "csv"}, headers=lib.staff)
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))[1:]
    cells = [cell for row in rows for cell in row[:3]]
    assert all(cell[:1] not in ("=", "+", "-", "@", "\t") for cell in cells), cells
    assert any(cell.startswith("'=HYPERLINK(") for cell in cells), cells


# -- names and headers ---------------------------------------------------------------------------

async def test_control_characters_never_reach_a_header_or_a_title(lib):
    titled = await upload(lib, "a.pdf", b"%PDF-1.4\n%%EOF\n",
                          title="Rapport\r\nSet-Cookie: pwned=1")
    assert titled.status_code == 400 and "title" in titled.json()["error"]["message"]
    created = (await upload(lib, "a.pdf", b"%PDF-1.4\n%%EOF\n", title="Rapport")).json()
    replaced = await lib.client.put(
        f"/api/resources/{created['id']}/file", content=b"%PDF-1.4\n% x\n%%EOF\n",
        headers={**lib.staff, "Content-Disposition":
                 "attachment; filename*=UTF-8''a%0D%0ASet-Cookie%3A%20pwned%3D1.pdf"})
    assert replaced.status_code == 400
    assert "control characters" in replaced.json()["error"]["message"]
    multipart = await upload(lib, "a\rb.pdf", b"%PDF-1.4\n%%EOF\n")
    assert multipart.status_code == 400
    served = await lib.client.get(created["files"][0]["url"])
    assert "set-cookie" not in served.headers


async def test_path_traversal_in_every_path_parameter(lib):
    sneaky = await upload(lib, "../../../etc/passwd", b"%PDF-1.4\n%%EOF\n")
    assert sneaky.status_code == 400 and "path" in sneaky.json()["error"]["message"]
    created = (await upload(lib, "passwd.pdf", b"%PDF-1.4\n%%EOF\n")).json()
    file_id = created["files"][0]["id"]
    for path in [f"/files/{file_id}/..%2F..%2F..%2Fetc%2Fpasswd", "/files/..%2F1/x",
                 "/files/1%2F..%2F2/x", "/api/resources/..%2F1", "/api/resources/1%2F..",
                 "/api/kits/..%2F..%2Fetc%2Fpasswd", "/api/webinars/..%2F1",
                 "/api/webinars/1/attendees/..%2F1", "/attend/..%2F..%2Fetc%2Fpasswd",
                 "/files/%2e%2e/%2e%2e/etc/passwd"]:
        response = await lib.client.get(path, headers=lib.staff)
        assert 300 <= response.status_code < 500, (path, response.status_code)
        assert b"root:" not in response.content


async def test_ten_thousand_tiny_parts_are_refused_quickly(lib):
    boundary = "b"
    body = b"".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"x{i}\"\r\n\r\n"
                    f"v\r\n".encode() for i in range(10_000)) + f"--{boundary}--\r\n".encode()
    started = time.monotonic()
    response = await lib.client.post("/api/resources", content=body, headers={
        **lib.staff, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 400
    assert "Too many parts" in response.json()["error"]["message"]
    assert time.monotonic() - started < 5


def _raw(port: int, data: bytes, wait: float = 10) -> bytes:
    """Send raw bytes; the first response, read to the end of its Content-Length."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(data)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                return answer
            answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length and (chunk := sock.recv(65536)):
            body += chunk
        return head + b"\r\n\r\n" + body


@pytest.mark.slow
def test_overlong_headers_and_a_trickling_upload_through_a_real_server(settings: Settings):
    server = start_server(settings.with_overrides(body_idle_timeout=2))
    port = int(server.url.rsplit(":", 1)[1])
    try:
        huge = _raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000
                    + b"\r\n\r\n")
        assert huge.startswith(b"HTTP/1.1 431"), huge[:100]
        assert b"too large" in huge
        token = staff_token(server)
        # A slow-loris upload: headers, then a few bytes of a 10 MB body, then silence.
        started = time.monotonic()
        answer = _raw(port, (
            f"POST /api/resources HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 10000000\r\n\r\n"
            "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n"
            "%PDF-1.4\n").encode(), wait=15)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"stopped arriving" in answer
        assert 1.5 < time.monotonic() - started < 10
        assert not list(settings.uploads_dir.glob("tmp/*.part"))
    finally:
        stop_server(server)
