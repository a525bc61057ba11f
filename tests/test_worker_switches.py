"""The background worker's two switches: KITLIB_INDEX_WORKER (text extraction and the index)
and KITLIB_MEDIA_WORKER (MP4 remux and durations); KITLIB_SEARCH_WORKER, deprecated, is both."""

from __future__ import annotations

import logging
from pathlib import Path

import anyio
import pytest

from kitlib.jobs import worker as jobs
from kitlib.models import Job, JobKind, JobState
from kitlib.settings import Settings, load_settings
from kitlib.web.app import create_app
from tests import test_media

pytestmark = pytest.mark.anyio

DOCS = Path(__file__).parent / "fixtures" / "docs"
late_index_mp4 = test_media.late_index_mp4  # the fixture: an MP4 whose index comes last


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """The suite's settings with the switches this test names (both off otherwise)."""
    return settings.with_overrides(**getattr(request, "param", {}))


async def upload(lib, name: str, content: bytes, media_type: str) -> dict:
    response = await lib.client.post(
        "/api/resources", headers=lib.staff, data={"title": name, "visibility": "public"},
        files={"file": (name, content, media_type)})
    assert response.status_code == 201, response.text
    return response.json()


async def resource(lib, rid: int) -> dict:
    return (await lib.client.get(f"/api/resources/{rid}", headers=lib.staff)).json()


async def hits(lib, q: str) -> list[int]:
    body = (await lib.client.get("/api/search", params={"q": q}, headers=lib.staff)).json()
    return [h["id"] for h in body.get("hits", [])]


async def eventually(check, seconds: float = 60) -> None:
    with anyio.fail_after(seconds):
        while not await check():
            await anyio.sleep(0.2)


async def untouched(rid: int, kind: JobKind) -> bool:
    """The job is still queued and no worker ever took it."""
    job = await Job.get(resource_id=rid, kind=kind)
    return job.state == JobState.QUEUED and job.attempts == 0


async def upload_both(lib, late_index_mp4: bytes) -> tuple[dict, dict]:
    recording = await upload(lib, "webinaire.mp4", late_index_mp4, "video/mp4")
    guide = await upload(lib, "guide.pdf", (DOCS / "en_gowning_guide.pdf").read_bytes(),
                         "application/pdf")
    return recording, guide


@pytest.mark.parametrize("settings", [{"index_worker": False, "media_worker": True}],
                         indirect=True)
async def test_with_indexing_off_a_recording_is_still_remuxed_and_timed(lib, late_index_mp4):
    """GIVEN KITLIB_INDEX_WORKER=false WHEN an MP4 and a PDF are uploaded THEN the MP4 gets
    its index moved to the front and its duration, and the PDF waits, unindexed."""
    recording, guide = await upload_both(lib, late_index_mp4)

    async def timed() -> bool:
        return (await resource(lib, recording["id"]))["files"][0]["duration"] is not None

    await eventually(timed)
    [file] = (await resource(lib, recording["id"]))["files"]
    assert file["duration"] == pytest.approx(2.0, abs=0.1)
    assert file["sha256"] != recording["files"][0]["sha256"]  # remuxed
    assert (await resource(lib, guide["id"]))["extraction_status"] == "pending"
    assert await untouched(guide["id"], JobKind.EXTRACT)
    assert await untouched(recording["id"], JobKind.EXTRACT)
    assert await hits(lib, "gowning") == []
    # The queued jobs are whole: a worker that indexes takes them as they are.
    await jobs.drain(lib.settings, kinds=jobs.INDEXING.kinds)
    assert guide["id"] in await hits(lib, "gowning")
    assert (await resource(lib, recording["id"]))["extraction_status"] == "none"


@pytest.mark.parametrize("settings", [{"index_worker": True, "media_worker": False}],
                         indirect=True)
async def test_with_media_off_documents_are_still_indexed(lib, late_index_mp4):
    """GIVEN KITLIB_MEDIA_WORKER=false WHEN an MP4 and a PDF are uploaded THEN the PDF's text
    is extracted and indexed, and the MP4 waits, neither remuxed nor timed."""
    recording, guide = await upload_both(lib, late_index_mp4)

    async def indexed() -> bool:
        return guide["id"] in await hits(lib, "gowning")

    await eventually(indexed)
    assert (await resource(lib, guide["id"]))["extraction_status"] == "done"
    [file] = (await resource(lib, recording["id"]))["files"]
    assert file["duration"] is None and file["sha256"] == recording["files"][0]["sha256"]
    assert await untouched(recording["id"], JobKind.MEDIA)
    await jobs.drain(lib.settings, kinds=jobs.MEDIA.kinds)
    after = await resource(lib, recording["id"])
    assert after["files"][0]["duration"] == pytest.approx(2.0, abs=0.1)
    assert after["extraction_status"] == "none", after["extraction_error"]


def alias_settings(settings: Settings, **env: str) -> Settings:
    return load_settings({"KITLIB_DATA_DIR": str(settings.data_dir),
                          "KITLIB_DATABASE_URL": settings.database_url,
                          "KITLIB_SECRET_KEY": settings.secret_key, **env},
                         env_file=settings.data_dir / "no.env")


def test_the_deprecated_switch_sets_both_unless_one_is_given_apart(settings):
    off = alias_settings(settings, KITLIB_SEARCH_WORKER="false")
    assert (off.index_worker, off.media_worker) == (False, False)
    assert jobs.families_for(off) == ()
    on = alias_settings(settings, KITLIB_SEARCH_WORKER="true", KITLIB_MEDIA_WORKER="false")
    assert (on.index_worker, on.media_worker) == (True, False)
    default = alias_settings(settings)
    assert (default.index_worker, default.media_worker) == (True, True)


@pytest.mark.parametrize("value, warned", [("false", True), (None, False)])
async def test_the_deprecated_switch_is_named_in_a_warning_at_start_up(settings, caplog,
                                                                       value, warned):
    env = {"KITLIB_SEARCH_WORKER": value} if value else {"KITLIB_INDEX_WORKER": "false",
                                                        "KITLIB_MEDIA_WORKER": "false"}
    app = create_app(alias_settings(settings, **env))
    with caplog.at_level(logging.WARNING, logger="kitlib"):
        async with app.router.lifespan_context(app):
            pass
    deprecations = [r.getMessage() for r in caplog.records if "deprecated" in r.getMessage()]
    if warned:
        [message] = deprecations
        assert "KITLIB_SEARCH_WORKER" in message and "KITLIB_INDEX_WORKER" in message
        assert "KITLIB_MEDIA_WORKER" in message
    else:
        assert deprecations == []


async def test_a_recording_queued_by_an_older_kitlib_still_gets_its_media_work(lib,
                                                                               late_index_mp4):
    """GIVEN an MP4 whose only queued job is the extraction (as a library from before media
    jobs had them) WHEN the queue is drained THEN it is still remuxed and timed."""
    recording = await upload(lib, "webinaire.mp4", late_index_mp4, "video/mp4")
    await Job.filter(resource_id=recording["id"], kind=JobKind.MEDIA).delete()
    await jobs.drain(lib.settings)
    [file] = (await resource(lib, recording["id"]))["files"]
    assert file["duration"] == pytest.approx(2.0, abs=0.1)
    assert file["sha256"] != recording["files"][0]["sha256"]
