"""Recordings at ingest: an MP4 with its index at the end is remuxed (no re-encoding) so
browsers can start and seek at once, and every recording gets its duration."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from kitlib import media
from kitlib.jobs.worker import drain
from kitlib.models import StoredFile

pytestmark = pytest.mark.anyio

DEMO_MP4 = Path(__file__).resolve().parent.parent / "kitlib" / "demo" / \
    "webinaire-reprise-2020-05-14.mp4"


@pytest.fixture(scope="module")
def late_index_mp4(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real 2-second MP4 made by ffmpeg the way recorders write it: moov after mdat."""
    if shutil.which("ffmpeg") is None:  # scripts/system-deps installs it for `make test`
        pytest.fail("ffmpeg is missing: run scripts/system-deps")
    path = tmp_path_factory.mktemp("mp4") / "late.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
         "testsrc=duration=2:size=160x120:rate=10", "-f", "lavfi", "-i",
         "sine=frequency=440:duration=2", "-c:v", "mpeg4", "-c:a", "aac", "-shortest",
         str(path)], check=True, timeout=60)
    assert media.needs_faststart(path)
    return path.read_bytes()


async def upload(lib, name: str, content: bytes) -> dict:
    response = await lib.client.post(
        "/api/resources", headers=lib.staff,
        data={"title": name, "kind": "recording", "visibility": "public"},
        files={"file": (name, content, "video/mp4")})
    assert response.status_code == 201, response.text
    return response.json()


def blobs(uploads: Path) -> set[str]:
    return {p.name for p in uploads.rglob("*")
            if p.is_file() and "tmp" not in p.relative_to(uploads).parts}


async def test_a_late_index_is_moved_to_the_front_without_reencoding(lib, late_index_mp4,
                                                                    tmp_path):
    created = await upload(lib, "Webinaire.mp4", late_index_mp4)
    original = created["files"][0]
    assert original["sha256"] == hashlib.sha256(late_index_mp4).hexdigest()
    assert await drain(lib.settings) >= 1
    resource = (await lib.client.get(f"/api/resources/{created['id']}",
                                     headers=lib.staff)).json()
    assert resource["extraction_status"] != "failed", resource["extraction_error"]
    [file] = resource["files"]
    assert file["id"] == original["id"] and file["url"] == original["url"]  # links keep working
    assert file["sha256"] != original["sha256"]
    assert file["duration"] == pytest.approx(2.0, abs=0.1)
    body = (await lib.client.get(file["url"])).content
    assert hashlib.sha256(body).hexdigest() == file["sha256"]
    remuxed = tmp_path / "remuxed.mp4"
    remuxed.write_bytes(body)
    boxes = media.top_level_boxes(remuxed)
    assert boxes.index("moov") < boxes.index("mdat")
    # Same streams, copied: the media data is the same size, the duration unchanged.
    assert abs(len(body) - len(late_index_mp4)) < 4096
    assert media.duration(remuxed, 30) == pytest.approx(2.0, abs=0.1)
    # The late-index bytes are gone from storage; one blob, one row remain.
    assert blobs(lib.settings.uploads_dir) == {file["sha256"]}
    assert await StoredFile.all().count() == 1


async def test_a_faststart_recording_is_left_as_it_is_and_gets_its_duration(lib):
    content = DEMO_MP4.read_bytes()
    created = await upload(lib, "demo.mp4", content)
    await drain(lib.settings)
    [file] = (await lib.client.get(f"/api/resources/{created['id']}")).json()["files"]
    assert file["sha256"] == hashlib.sha256(content).hexdigest()
    assert file["duration"] == pytest.approx(27.9, abs=0.2)


async def test_a_broken_recording_says_why_and_stays_downloadable(lib, late_index_mp4):
    truncated = late_index_mp4[: len(late_index_mp4) // 2]  # cut before its index
    created = await upload(lib, "coupé.mp4", truncated)
    await drain(lib.settings)
    resource = (await lib.client.get(f"/api/resources/{created['id']}",
                                     headers=lib.staff)).json()
    assert resource["extraction_status"] == "failed"
    assert "coupé.mp4: ffprobe" in resource["extraction_error"]
    [file] = resource["files"]
    assert file["duration"] is None
    assert (await lib.client.get(file["url"])).content == truncated


async def test_a_chapter_cannot_start_after_the_end_of_the_recording(lib):
    created = await upload(lib, "demo.mp4", DEMO_MP4.read_bytes())
    await drain(lib.settings)  # the duration (27.9 s) is known from here on
    body = {"title": "Reprise", "starts_at": "2020-05-14T10:00:00+02:00",
            "recording": created["id"], "chapters": [{"start": 40, "title": "Trop tard"}]}
    refused = await lib.client.post("/api/webinars", headers=lib.staff, json=body)
    assert refused.status_code == 400
    assert "after the end of the recording (27.9" in refused.json()["error"]["message"]
    body["chapters"] = [{"start": "00:20", "title": "Conclusion"}]
    assert (await lib.client.post("/api/webinars", headers=lib.staff, json=body)).status_code \
        == 201


async def test_a_remux_that_fails_after_saving_its_copy_leaves_the_original(lib, late_index_mp4,
                                                                          monkeypatch):
    """GIVEN a late-index recording WHEN the worker's remux fails with a RuntimeError while its
    new file's row is written THEN the remuxed blob is discarded and the original still serves."""
    from kitlib.services import resources

    original_row = resources.stored_file_for

    async def failing(*args, **kwargs):
        await original_row(*args, **kwargs)
        raise RuntimeError("database gone")

    created = await upload(lib, "Webinaire.mp4", late_index_mp4)
    monkeypatch.setattr(resources, "stored_file_for", failing)
    await drain(lib.settings)
    [file] = (await lib.client.get(f"/api/resources/{created['id']}",
                                   headers=lib.staff)).json()["files"]
    assert file == created["files"][0]
    assert blobs(lib.settings.uploads_dir) == {hashlib.sha256(late_index_mp4).hexdigest()}
    assert not list((lib.settings.uploads_dir / "tmp").iterdir())
    assert await StoredFile.all().count() == 1
    assert (await lib.client.get(file["url"])).content == late_index_mp4
