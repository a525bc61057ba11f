"""The search outbox: jobs written with the change, claimed once, recovered after a crash."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio
import pytest

from kitlib import jobs
from kitlib.indexer import write
from kitlib.models import Job, JobKind, JobState, Resource
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
        got = await jobs.claim([JobKind.EXTRACT], 30, name)
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
    stale = datetime.now(UTC) - jobs.LEASE - timedelta(seconds=1)
    await Job.filter(state=JobState.QUEUED).update(state=JobState.RUNNING, locked_by="dead:1",
                                                   locked_at=stale, attempts=1)
    assert await jobs.drain(lib.settings) == 1
    assert await hits(lib, "deshumidificateur") == [rid]


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
