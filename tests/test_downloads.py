"""Downloads: every Range form, validators and 304s, honest names and safe headers."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest

from kitlib.models import DownloadEvent

pytestmark = pytest.mark.anyio

CONTENT = b"%PDF-1.4\n" + bytes(range(256)) * 40  # 10,249 bytes


async def stored(lib, content: bytes = CONTENT, filename: str = "Webinaire été 2020.pdf",
                 visibility: str = "public") -> dict:
    response = await lib.client.post(
        "/api/resources", headers=lib.staff,
        data={"title": "Doc", "visibility": visibility},
        files={"file": (filename, content, "application/pdf")})
    assert response.status_code == 201, response.text
    file: dict = response.json()["files"][0]
    return file


async def test_full_download_has_validators_and_both_filename_forms(lib):
    file = await stored(lib)
    response = await lib.client.get(file["url"])
    assert response.status_code == 200
    assert response.content == CONTENT
    assert response.headers["etag"] == f'"{hashlib.sha256(CONTENT).hexdigest()}"'
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-length"] == str(len(CONTENT))
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-type"] == "application/pdf"
    parsedate_to_datetime(response.headers["last-modified"])
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("inline; ")
    assert 'filename="Webinaire ete 2020.pdf"' in disposition
    assert "filename*=UTF-8''Webinaire%20%C3%A9t%C3%A9%202020.pdf" in disposition
    # Previewed in a frame of our own pages, yet with an opaque origin of its own.
    policy = response.headers["content-security-policy"]
    assert "sandbox" in policy and "frame-ancestors 'self'" in policy
    assert response.headers["x-frame-options"] == "SAMEORIGIN"


async def test_non_media_files_are_attachments_in_a_sandbox(lib):
    file = await stored(lib, content=b"<html><script>alert(1)</script></html>",
                        filename="page.html")
    response = await lib.client.get(file["url"])
    assert response.headers["content-disposition"].startswith("attachment; ")
    assert "sandbox" in response.headers["content-security-policy"]


@pytest.mark.parametrize("header, start, end", [
    ("bytes=0-99", 0, 99),            # first bytes
    ("bytes=-100", len(CONTENT) - 100, len(CONTENT) - 1),   # suffix
    ("bytes=10000-", 10000, len(CONTENT) - 1),               # open-ended
    ("bytes=10200-99999", 10200, len(CONTENT) - 1),          # end past the file: clipped
])
async def test_single_ranges(lib, header, start, end):
    file = await stored(lib)
    response = await lib.client.get(file["url"], headers={"Range": header})
    assert response.status_code == 206
    assert response.content == CONTENT[start:end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/{len(CONTENT)}"
    assert response.headers["content-length"] == str(end - start + 1)
    # A range carries the same validators and safety headers as the whole file.
    assert response.headers["etag"] == f'"{file["sha256"]}"'
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("inline; ")
    assert "sandbox" in response.headers["content-security-policy"]
    parsedate_to_datetime(response.headers["last-modified"])


@pytest.mark.parametrize("headers", [{}, {"Range": "bytes=0-99"}, {"Range": "bytes=50-"}])
async def test_content_missing_from_storage_is_a_404_that_says_so(lib, settings, headers):
    file = await stored(lib)
    blob = settings.uploads_dir / file["sha256"][:2] / file["sha256"][2:4] / file["sha256"]
    blob.unlink()
    response = await lib.client.get(file["url"], headers=headers)
    assert response.status_code == 404
    assert "missing from storage" in response.text  # an HTML page here: /files/ is no API


@pytest.mark.parametrize("headers", [{}, {"Range": "bytes=0-99"}])
async def test_content_of_the_wrong_size_is_never_served(lib, settings, headers):
    """Never a truncated body under the sha256 of the whole: a resume would splice it."""
    file = await stored(lib)
    blob = settings.uploads_dir / file["sha256"][:2] / file["sha256"][2:4] / file["sha256"]
    blob.write_bytes(CONTENT[:100])  # truncated on disk
    response = await lib.client.get(file["url"], headers=headers)
    assert response.status_code == 404


async def test_multiple_ranges_are_multipart_byteranges(lib):
    file = await stored(lib)
    response = await lib.client.get(file["url"], headers={"Range": "bytes=0-9, 100-109"})
    assert response.status_code == 206
    content_type = response.headers["content-type"]
    assert content_type.startswith("multipart/byteranges; boundary=")
    body = response.content
    assert CONTENT[0:10] in body and CONTENT[100:110] in body
    assert f"Content-Range: bytes 0-9/{len(CONTENT)}".encode() in body
    assert f"Content-Range: bytes 100-109/{len(CONTENT)}".encode() in body
    assert int(response.headers["content-length"]) == len(body)


async def test_range_past_the_end_is_416(lib):
    file = await stored(lib)
    response = await lib.client.get(file["url"], headers={"Range": f"bytes={len(CONTENT)}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(CONTENT)}"


async def test_if_range_match_gives_the_range_and_mismatch_the_whole_file(lib):
    file = await stored(lib)
    etag = f'"{file["sha256"]}"'
    match = await lib.client.get(file["url"], headers={"Range": "bytes=0-9", "If-Range": etag})
    assert match.status_code == 206 and match.content == CONTENT[:10]
    stale = await lib.client.get(file["url"], headers={"Range": "bytes=0-9",
                                                       "If-Range": '"0000"'})
    assert stale.status_code == 200 and stale.content == CONTENT


async def test_conditional_requests_answer_304(lib):
    file = await stored(lib)
    first = await lib.client.get(file["url"])
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    same = await lib.client.get(file["url"], headers={"If-None-Match": etag})
    assert same.status_code == 304 and same.content == b""
    assert same.headers["etag"] == etag
    listed = await lib.client.get(file["url"], headers={"If-None-Match": f'"x", W/{etag}'})
    assert listed.status_code == 304
    other = await lib.client.get(file["url"], headers={"If-None-Match": '"other"'})
    assert other.status_code == 200
    since = await lib.client.get(file["url"], headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    earlier = format_datetime(parsedate_to_datetime(modified) - timedelta(days=1), usegmt=True)
    assert (await lib.client.get(file["url"],
                                 headers={"If-Modified-Since": earlier})).status_code == 200
    garbage = await lib.client.get(file["url"], headers={"If-Modified-Since": "yesterday"})
    assert garbage.status_code == 200


async def test_wrong_filename_redirects_to_the_canonical_url(lib):
    file = await stored(lib, filename="guide.pdf")
    response = await lib.client.get(f"/files/{file['id']}/other.pdf")
    assert response.status_code == 301
    assert response.headers["location"] == file["url"]


@pytest.mark.parametrize("path", ["/files/abc/x.pdf", "/files/999/x.pdf",
                                  "/files/1/..%2F..%2Fetc%2Fpasswd", "/files/-1/x"])
async def test_bad_file_paths_are_clean_4xx(lib, path):
    await stored(lib)
    response = await lib.client.get(path)
    assert response.status_code in (301, 400, 404)
    if response.status_code == 301:
        assert response.headers["location"].startswith("/files/1/")


async def test_completed_downloads_are_recorded_with_bytes(lib):
    file = await stored(lib)
    await lib.client.get(file["url"], headers=lib.member)
    await lib.client.get(file["url"], headers={**lib.member, "Range": "bytes=0-99"})
    await lib.client.head(file["url"])
    await lib.client.get(file["url"], headers={"If-None-Match": f'"{file["sha256"]}"'})
    assert await DownloadEvent.all().count() == 0  # batched, not one commit per request
    await lib.client._transport.app.state.downloads.flush()  # type: ignore[attr-defined]
    events = await DownloadEvent.all().order_by("id")
    assert [(e.bytes, e.complete) for e in events] == [(len(CONTENT), True), (100, False)]
    assert events[0].user_id == lib.member_user.id  # type: ignore[attr-defined]


async def test_the_immediate_lookup_sees_each_commit_and_survives_a_broken_reader(lib):
    """Behind nginx the lookup reads SQLite through a read-only connection of its own: it
    must see a visibility change at once, and a reader that fails must not fail it."""
    from tortoise import connections

    from kitlib.services.files import find_attachment

    file = await stored(lib)
    resource = (await lib.client.get("/api/resources", headers=lib.staff)).json()["items"][0]
    found = await find_attachment(file["id"], immediate=True)
    assert found is not None and found.visibility == "public" and found.size == len(CONTENT)
    changed = await lib.client.patch(f"/api/resources/{resource['id']}", headers=lib.staff,
                                     json={"visibility": "staff"})
    assert changed.status_code == 200
    found = await find_attachment(file["id"], immediate=True)
    assert found is not None and found.visibility == "staff"
    reader = getattr(connections.get("default"), "_reader", None)
    if reader is not None:  # SQLite: break it; the shared connection answers instead
        reader.close()
    found = await find_attachment(file["id"], immediate=True)
    assert found is not None and found.visibility == "staff"
    assert await find_attachment(file["id"] + 1000, immediate=True) is None
