"""The search outbox: jobs written with the change, claimed once, recovered after a crash."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio
import pytest

from kitlib.jobs import queue
from kitlib.jobs import worker as jobs
from kitlib.models import Job, JobKind, JobState, Resource, ResourceFile, StoredFile
from kitlib.services.indexing import write
from tests.conftest import server_env

pytestmark = pytest.mark.anyio


async def make(lib, title: str, **fields: str) -> int:
    response = await lib.client.post("/api/resources", headers=lib.staff,
                                     data={"title": title, **fields},
                                     files={"file": ("note.txt", f"Notes: {title}".encode(),
                                                     "text/plain")})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def hits(lib, q: str) -> list[int]:
    body = (await lib.client.get("/api/search", params={"q": q}, headers=lib.staff)).json()
    return [h["id"] for h in body["hits"]]


async def test_a_change_writes_its_job_in_the_same_transaction(lib):
    rid = await make(lib, "Ventilation")
    assert await Job.filter(resource_id=rid, kind=JobKind.EXTRACT, state=JobState.QUEUED).exists()
    await lib.client.patch(f"/api/resources/{rid}", headers=lib.staff, json={"title": "Air"})
    assert await Job.filter(resource_id=rid, kind=JobKind.INDEX).exists()


async def test_two_concurrent_workers_never_claim_the_same_job(lib):
    for i in range(30):
        await make(lib, f"Item {i}")
    claimed: dict[str, list[int]] = {}

    async def take(name: str) -> None:
        got = await queue.claim([JobKind.EXTRACT], 30, name)
        claimed[name] = [j.id for j in got]

    async with anyio.create_task_group() as tg:
        tg.start_soon(take, "a")
        tg.start_soon(take, "b")
    assert not set(claimed["a"]) & set(claimed["b"])
    assert len(claimed["a"]) + len(claimed["b"]) == 30


async def test_two_concurrent_drains_handle_each_job_once(lib):
    ids = [await make(lib, f"Filtration {i}") for i in range(6)]
    counts: list[int] = []

    async def run(name: str) -> None:
        counts.append(await jobs.drain(lib.settings, worker=name))

    async with anyio.create_task_group() as tg:
        tg.start_soon(run, "a")
        tg.start_soon(run, "b")
    assert sum(counts) == 12  # 6 extractions, then 6 index jobs
    assert await Job.filter(state=JobState.DONE).count() == 12
    assert sorted(await hits(lib, "filtration")) == ids


async def test_a_crash_between_commit_and_index_write_is_recovered(lib):
    """GIVEN a committed change whose worker died mid-job WHEN a drain runs THEN it is indexed."""
    rid = await make(lib, "Humidificateur")
    await jobs.drain(lib.settings)
    await lib.client.patch(f"/api/resources/{rid}", headers=lib.staff,
                           json={"title": "Déshumidificateur"})
    # The worker claimed the job and died before writing the index.
    stale = datetime.now(UTC) - queue.LEASE - timedelta(seconds=1)
    await Job.filter(state=JobState.QUEUED).update(state=JobState.RUNNING, locked_by="dead:1",
                                                   locked_at=stale, attempts=1)
    assert await jobs.drain(lib.settings) == 1
    assert await hits(lib, "deshumidificateur") == [rid]


async def test_the_worker_taking_the_queue_requeues_jobs_a_killed_worker_left_running(lib):
    """GIVEN jobs a killed worker claimed a moment ago (well within their lease) WHEN the next
    worker takes the leader lock THEN it runs them at once instead of waiting 15 minutes; a
    job that was running during each of its attempts fails instead of killing it too."""
    rid = await make(lib, "Nébuliseur")
    poison = await make(lib, "Fichier qui tue")
    await Job.filter(resource_id=rid).update(state=JobState.RUNNING, locked_by="dead:1",
                                             locked_at=datetime.now(UTC), attempts=1)
    await Job.filter(resource_id=poison).update(
        state=JobState.RUNNING, locked_by="dead:1", locked_at=datetime.now(UTC),
        attempts=queue.MAX_ATTEMPTS)
    assert await jobs.drain_as_leader(lib.settings) >= 2  # extraction, then indexing
    assert await hits(lib, "nebuliseur") == [rid]
    failed = await Job.get(resource_id=poison, kind=JobKind.EXTRACT)
    assert failed.state == JobState.FAILED and "every attempt" in failed.last_error


@dataclass
class Ran:
    exit_code: int
    output: str


def cli(settings, *args: str) -> Ran:
    # A child process: the CLI opens its own Tortoise, which the test's event loop holds here.
    done = subprocess.run([sys.executable, "-m", "kitlib", *args], env=server_env(settings),
                          capture_output=True, text=True, timeout=120, check=False)
    return Ran(done.returncode, done.stdout + done.stderr)


async def test_check_finds_and_repair_fixes_differences(lib):
    kept = await make(lib, "Masques")
    gone = await make(lib, "Gants")
    await jobs.drain(lib.settings)
    # Behind the worker's back: a title changed, a row removed, both without a job.
    await Resource.filter(id=kept).update(title="Masques FFP2")
    await Resource.filter(id=gone).delete()
    added = await make(lib, "Visières")
    await Job.filter(resource_id=added).delete()
    result = await anyio.to_thread.run_sync(cli, lib.settings, "check")
    assert result.exit_code == 1
    assert f"resource {added}: missing" in result.output
    assert f"resource {kept}: stale" in result.output
    assert f"resource {gone}: in the index but not in the database" in result.output
    result = await anyio.to_thread.run_sync(cli, lib.settings, "check", "--repair")
    assert result.exit_code == 0, result.output
    assert "indexed 1 missing, refreshed 1 stale, removed 1 extra" in result.output
    assert (await anyio.to_thread.run_sync(cli, lib.settings, "check")).exit_code == 0


async def test_reindex_rebuilds_from_the_database(lib):
    rid = await make(lib, "Purificateur")
    await Job.all().delete()
    await write(lib.settings, [])  # creates the index from the database
    result = await anyio.to_thread.run_sync(cli, lib.settings, "reindex")
    assert result.exit_code == 0 and "1 resources" in result.output
    assert await hits(lib, "purificateur") == [rid]


async def test_check_finds_what_a_crash_leaves_in_storage_and_repair_removes_it(lib):
    """GIVEN the leftovers a crash can leave (an orphan blob, a stored file no resource shows,
    an old .part) and one thing it must never leave (a row whose blob is missing) WHEN
    `kitlib check` runs THEN it names each; --repair removes the leftovers and says so, and
    the missing file still fails the check."""
    kept = await make(lib, "Masques")
    lost = await make(lib, "Gants")
    await jobs.drain(lib.settings)
    storage = lib.app.state.storage
    orphan = storage.path_for(storage.key_for("ab" * 32))
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"left by a crash between rename and commit")
    old = time.time() - 7 * 3600
    os.utime(orphan, (old, old))
    young = storage.path_for(storage.key_for("cd" * 32))
    young.parent.mkdir(parents=True, exist_ok=True)
    young.write_bytes(b"an upload in flight")
    part = storage.tmp / "crashed.part"
    part.write_bytes(b"half an upload")
    os.utime(part, (old, old))
    unused = await StoredFile.create(sha256="ef" * 32, size=3, media_type="text/plain",
                                     original_filename="x.txt",
                                     storage_key=storage.key_for("ef" * 32))
    storage.path_for(unused.storage_key).parent.mkdir(parents=True, exist_ok=True)
    storage.path_for(unused.storage_key).write_bytes(b"abc")
    missing = await ResourceFile.filter(resource_id=lost).select_related("file").first()
    storage.path_for(missing.file.storage_key).unlink()

    result = await anyio.to_thread.run_sync(cli, lib.settings, "check")
    assert result.exit_code == 1
    assert f"orphan file in uploads/ (no database row): {storage.key_for('ab' * 32)}" \
        in result.output
    assert "cd" * 32 not in result.output  # younger than the grace period
    assert f"stored file {unused.id}: no resource shows it any more" in result.output
    assert f"stored file {missing.file.id}: its file" in result.output
    assert "crashed.part" in result.output
    repaired = await anyio.to_thread.run_sync(cli, lib.settings, "check", "--repair")
    assert "removed 1 orphan files, 1 unused stored files and 1 temporary files" \
        in repaired.output
    assert "must be restored from a backup" in repaired.output
    assert repaired.exit_code == 1  # the missing file remains
    assert not orphan.exists() and not part.exists() and young.exists()
    assert not await StoredFile.filter(id=unused.id).exists()
    assert await Resource.filter(id=kept).exists()
    strict = await anyio.to_thread.run_sync(cli, lib.settings, "check", "--grace", "0")
    assert "cd" * 32 in strict.output
