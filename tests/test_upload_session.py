"""The upload session: bytes are kept once their rows commit; any failure leaves neither.

A plain ``RuntimeError`` (not a kitlib refusal) stands for a bug, a lost database or a
cancelled request: whichever step raises after the bytes are saved, no blob may remain that
no row names, and no row may be committed.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import CliRunner

from kitlib.cli import main
from kitlib.db import close_db, open_db
from kitlib.models import Resource, ResourceFile, StoredFile
from kitlib.services import resources, uploads
from kitlib.settings import Settings
from kitlib.storage import Storage
from tests.conftest import server_env

PDF = b"%PDF-1.4\n% kitlib session test\n" + b"0123456789" * 2000
OTHER_PDF = b"%PDF-1.4\n% another document\n" + b"9876543210" * 2000
META = {"title": "Guide", "kind": "document", "visibility": "public"}

# Steps of the row-writing that run after the bytes are saved: one before the transaction,
# one inside it once the resource and its attachment rows are written.
STEPS = ["check_accepted", "audit"]


def stored_blobs(uploads_dir: Path) -> set[str]:
    return {p.name for p in uploads_dir.rglob("*")
            if p.is_file() and "tmp" not in p.relative_to(uploads_dir).parts}


def leftovers(uploads_dir: Path) -> list[Path]:
    tmp = uploads_dir / "tmp"
    return list(tmp.iterdir()) if tmp.is_dir() else []


def fail_after(monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    """``resources.<step>`` does its work, then raises a plain RuntimeError."""
    original = getattr(resources, step)

    async def failing_async(*args: Any, **kwargs: Any) -> Any:
        await original(*args, **kwargs)
        raise RuntimeError(f"{step} failed")

    def failing(*args: Any, **kwargs: Any) -> Any:
        original(*args, **kwargs)
        raise RuntimeError(f"{step} failed")

    monkeypatch.setattr(resources, step,
                        failing_async if asyncio.iscoroutinefunction(original) else failing)


async def row_counts() -> tuple[int, int, int]:
    return (await Resource.all().count(), await StoredFile.all().count(),
            await ResourceFile.all().count())


async def row_counts_in(settings: Settings) -> tuple[int, int, int]:
    context = await open_db(settings)
    try:
        return await row_counts()
    finally:
        await close_db(context)


def post(lib: Any, content: bytes = PDF, filename: str = "guide.pdf") -> Any:
    return lib.client.post("/api/resources", headers=lib.staff, data=META,
                           files={"file": (filename, content, "application/octet-stream")})


@pytest.mark.parametrize("step", STEPS)
def test_a_crash_during_kitlib_import_leaves_no_blob_and_no_row(settings, tmp_path,
                                                                monkeypatch, step):
    """GIVEN a folder with a PDF WHEN ``kitlib import`` fails with a RuntimeError after the
    file's bytes are saved THEN the error surfaces, and neither its blob nor a row remains."""
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "guide.pdf").write_bytes(PDF)
    fail_after(monkeypatch, step)
    with pytest.raises(RuntimeError, match=f"{step} failed"):
        CliRunner().invoke(main, ["import", str(folder)], env=server_env(settings),
                           catch_exceptions=False)
    assert stored_blobs(settings.uploads_dir) == set()
    assert leftovers(settings.uploads_dir) == []
    assert asyncio.run(row_counts_in(settings)) == (0, 0, 0)


def test_kitlib_import_settles_what_it_stores_and_skips_duplicates(settings, tmp_path):
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "guide.pdf").write_bytes(PDF)
    (folder / "copy.pdf").write_bytes(PDF)
    result = CliRunner().invoke(main, ["import", str(folder)], env=server_env(settings),
                                catch_exceptions=False)
    assert "1 added, 1 skipped as duplicates, 0 refused" in result.output
    assert stored_blobs(settings.uploads_dir) == {hashlib.sha256(PDF).hexdigest()}
    assert leftovers(settings.uploads_dir) == []  # the duplicate's copy went too
    assert asyncio.run(row_counts_in(settings)) == (1, 1, 1)


@pytest.mark.anyio
@pytest.mark.parametrize("step", STEPS)
async def test_a_crash_during_an_api_upload_leaves_no_blob_and_no_row(lib, monkeypatch, step):
    fail_after(monkeypatch, step)
    with pytest.raises(RuntimeError, match=f"{step} failed"):
        await post(lib)
    assert stored_blobs(lib.settings.uploads_dir) == set()
    assert leftovers(lib.settings.uploads_dir) == []
    assert await row_counts() == (0, 0, 0)


@pytest.mark.anyio
async def test_a_crash_uploading_stored_bytes_again_keeps_the_first_copy(lib, monkeypatch):
    """GIVEN a resource WHEN the same bytes are uploaded again and that upload fails THEN the
    first resource's blob stays (it is not this upload's to remove) and the spare copy goes."""
    first = (await post(lib)).json()
    fail_after(monkeypatch, "audit")
    with pytest.raises(RuntimeError):
        await post(lib, filename="copy.pdf")
    assert stored_blobs(lib.settings.uploads_dir) == {first["files"][0]["sha256"]}
    assert leftovers(lib.settings.uploads_dir) == []
    assert await row_counts() == (1, 1, 1)
    download = await lib.client.get(first["files"][0]["url"], headers=lib.staff)
    assert download.content == PDF


@pytest.mark.anyio
async def test_a_crash_replacing_a_file_keeps_the_old_one(lib, monkeypatch):
    first = (await post(lib)).json()
    fail_after(monkeypatch, "audit")
    with pytest.raises(RuntimeError):
        await lib.client.put(f"/api/resources/{first['id']}/file", content=OTHER_PDF,
                             headers={**lib.staff,
                                      "Content-Disposition": 'attachment; filename="v2.pdf"'})
    assert stored_blobs(lib.settings.uploads_dir) == {first["files"][0]["sha256"]}
    assert leftovers(lib.settings.uploads_dir) == []
    assert await row_counts() == (1, 1, 1)
    again = (await lib.client.get(f"/api/resources/{first['id']}", headers=lib.staff)).json()
    assert again["files"] == first["files"]


@pytest.mark.anyio
async def test_a_successful_upload_settles_its_blob(lib):
    body = (await post(lib)).json()
    [file] = body["files"]
    path = Storage(lib.settings.uploads_dir).path_for(Storage.key_for(file["sha256"]))
    assert path.read_bytes() == PDF
    stored = await StoredFile.get(sha256=file["sha256"])
    assert (stored.size, file["size"]) == (len(PDF), len(PDF))
    assert leftovers(lib.settings.uploads_dir) == []


@pytest.mark.anyio
async def test_a_cancelled_session_discards_what_it_saved(lib):
    """GIVEN bytes saved in a session WHEN the task is cancelled before its rows are written
    THEN the blob is gone when the cancellation has unwound."""
    storage = Storage(lib.settings.uploads_dir)

    async def chunks():
        yield PDF

    with anyio.CancelScope() as scope:
        async with uploads.session(storage) as up:
            blob = await up.save(chunks(), 1 << 20)
            assert storage.path_for(blob.key).exists()
            scope.cancel()
            await anyio.sleep(1)  # cancelled here
    assert scope.cancelled_caught
    assert not storage.path_for(blob.key).exists()
    assert leftovers(lib.settings.uploads_dir) == []


@pytest.mark.anyio
async def test_a_blob_written_elsewhere_and_adopted_is_discarded_with_the_session(lib):
    """GIVEN bytes stored outside the session (as a finished resumable upload would be) WHEN
    the session that adopted them fails THEN they go like any other saved blob."""
    storage = Storage(lib.settings.uploads_dir)

    async def chunks():
        yield OTHER_PDF

    blob = await storage.save_stream(chunks(), 1 << 20)
    with pytest.raises(RuntimeError):
        async with uploads.session(storage) as up:
            up.adopt(blob)
            raise RuntimeError("rows refused")
    assert stored_blobs(lib.settings.uploads_dir) == set()
