"""The crash harness shared by tests/test_crash.py (10 kills) and bench/crash.py (50 or more).

A real ``kitlib serve`` runs a mixed workload from several client threads (uploads of various
sizes, file replacements, edits, deletes, kit changes, and a ``kitlib reindex`` beside it)
and is killed with SIGKILL at a random moment, then restarted. After every restart:

- every acknowledged upload or replacement (201/200) is there with its sha256, byte for byte;
- every acknowledged delete (204) is gone; every title is one that was sent;
- ``kitlib check --grace 0`` finds no orphan file, no row pointing at a missing file and no
  old temporary file, and the search index agrees with the database once the worker has
  caught up, or ``kitlib check --repair`` makes it so (what it fixed is counted).
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.live import LiveServer, staff_token, start_server
from kitlib.settings import Settings

SIZES = (0, 1, 700, 64 * 1024, 1024 * 1024 + 3, 3 * 1024 * 1024)


@dataclass
class Ledger:
    """What the server acknowledged, and what it may have done without saying so."""

    files: dict[int, str] = field(default_factory=dict)  # resource id -> sha256 acknowledged
    pending_files: dict[int, set[str]] = field(default_factory=dict)  # sent, no answer
    deleted: set[int] = field(default_factory=set)
    maybe_deleted: set[int] = field(default_factory=set)  # DELETE sent, no answer seen
    titles: dict[int, set[str]] = field(default_factory=dict)  # acknowledged or in flight
    # Resources a client is replacing the file of. Two replacements of one file at once can
    # commit in one order and answer in the other, and no client can tell which came last:
    # the ledger would call the real last one lost. So one replacement per file at a time.
    replacing: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Outcome:
    kills: int = 0
    acknowledged_uploads: int = 0
    acknowledged_deletes: int = 0
    requests: int = 0
    lost: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    index_lag_seconds: list[float] = field(default_factory=list)


def _pdf(size: int) -> bytes:
    return b"%PDF-1.4\n" + os.urandom(size) + b"\n%%EOF\n"


class Workload:
    def __init__(self, url: str, token: str, ledger: Ledger, outcome: Outcome,
                 seed: int) -> None:
        self.url, self.ledger, self.outcome = url, ledger, outcome
        self.headers = {"Authorization": f"Bearer {token}"}
        self.random = random.Random(seed)
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, headers=self.headers, timeout=30) as client:
            while not self.stop.is_set():
                try:
                    self.step(client)
                except httpx.HTTPError:
                    if self.stop.is_set():
                        return
                    time.sleep(0.05)  # the server is gone: the harness restarts it

    def _live(self) -> list[int]:
        with self.ledger.lock:
            return [r for r in self.ledger.files if r not in self.ledger.deleted]

    def step(self, client: httpx.Client) -> None:
        action = self.random.choices(["upload", "replace", "edit", "delete", "kit"],
                                     weights=[6, 2, 2, 1, 1])[0]
        live = self._live()
        self.outcome.requests += 1
        if action == "upload" or not live:
            body = _pdf(self.random.choice(SIZES))
            response = client.post("/api/resources", data={
                "title": f"Document {self.random.randrange(10**6)}", "visibility": "public"},
                files={"file": ("doc.pdf", body, "application/pdf")})
            if response.status_code == 201:
                rid = int(response.json()["id"])
                with self.ledger.lock:
                    self.ledger.files[rid] = hashlib.sha256(body).hexdigest()
                    self.ledger.titles[rid] = {response.json()["title"]}
                    self.outcome.acknowledged_uploads += 1
            return
        rid = self.random.choice(live)
        if action == "replace":
            body = _pdf(self.random.choice(SIZES))
            digest = hashlib.sha256(body).hexdigest()
            with self.ledger.lock:
                if rid in self.ledger.replacing:
                    return
                self.ledger.replacing.add(rid)
                self.ledger.pending_files.setdefault(rid, set()).add(digest)
            try:
                response = client.put(f"/api/resources/{rid}/file", content=body, headers={
                    "Content-Disposition": "attachment; filename*=UTF-8''rempla%C3%A7%C3%A9.pdf",
                    "Content-Type": "application/pdf"})
            finally:
                with self.ledger.lock:
                    self.ledger.replacing.discard(rid)
            if response.status_code == 200:
                with self.ledger.lock:
                    self.ledger.files[rid] = digest
                    # Earlier replacements whose answer never came (a kill, a timeout) stay
                    # possible until the next verify reads what the server kept.
                    self.ledger.pending_files[rid].discard(digest)
        elif action == "edit":
            title = f"Titre {self.random.randrange(10**6)}"
            with self.ledger.lock:
                self.ledger.titles.setdefault(rid, set()).add(title)
            response = client.patch(f"/api/resources/{rid}", json={"title": title})
            if response.status_code == 200:
                with self.ledger.lock:
                    self.ledger.titles[rid] = {title}
        elif action == "delete":
            with self.ledger.lock:
                self.ledger.maybe_deleted.add(rid)
            response = client.delete(f"/api/resources/{rid}")
            if response.status_code == 204:
                with self.ledger.lock:
                    self.ledger.deleted.add(rid)
                    self.outcome.acknowledged_deletes += 1
        else:
            items = self.random.sample(live, min(len(live), 5))
            response = client.patch("/api/kits/crash-kit", json={"items": items})
            if response.status_code == 404:
                client.post("/api/kits", json={"slug": "crash-kit", "title": "Crash kit",
                                               "items": items})


def kitlib(env: dict[str, str], *args: str,
           timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kitlib", *args], env=env, text=True,
                          capture_output=True, timeout=timeout)


def verify(server: LiveServer, token: str, ledger: Ledger, outcome: Outcome) -> None:
    """Everything acknowledged is there, whole; storage and index agree with the database.

    The index may lag while the restarted worker works through the backlog (about a quarter
    of a second per file to extract), so it gets 90 seconds before --repair steps in."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
        for rid, digest in sorted(ledger.files.items()):
            got = client.get(f"/api/resources/{rid}")
            if rid in ledger.deleted:
                if got.status_code != 404:
                    outcome.lost.append(f"resource {rid}: deleted (204) but still there")
                continue
            if got.status_code == 404 and rid in ledger.maybe_deleted:
                ledger.deleted.add(rid)  # its DELETE went through; the answer was cut off
                continue
            if got.status_code != 200:
                outcome.lost.append(f"resource {rid}: acknowledged but answers {got.status_code}")
                continue
            body = got.json()
            allowed = {digest} | ledger.pending_files.get(rid, set())
            stored = body["files"][0]["sha256"] if body["files"] else None
            if stored not in allowed:
                outcome.lost.append(f"resource {rid}: file {stored} is not the acknowledged one")
                continue
            data = client.get(body["files"][0]["url"])
            if hashlib.sha256(data.content).hexdigest() != stored:
                outcome.lost.append(f"resource {rid}: bytes differ from sha256 {stored}")
            if body["title"] not in ledger.titles.get(rid, {body["title"]}):
                outcome.lost.append(f"resource {rid}: title {body['title']!r} was never sent")
            # What is confirmed now is the new baseline: an unanswered replacement either
            # happened or not, and the next round starts from what is there.
            ledger.files[rid] = stored
            ledger.pending_files[rid] = set()
            ledger.titles[rid] = {body["title"]}
            ledger.maybe_deleted.discard(rid)
    started = time.monotonic()
    while True:  # the restarted worker catches up with the queue; leftovers need --repair
        checked = kitlib(server.env, "check", "--grace", "0")
        if "search index matches the database" in checked.stdout or \
                time.monotonic() - started > 90:
            outcome.index_lag_seconds.append(time.monotonic() - started)
            break
        time.sleep(0.5)
    if checked.returncode == 0:
        return
    repaired = kitlib(server.env, "check", "--grace", "0", "--repair")
    outcome.repairs.append(repaired.stdout.strip().replace("\n", "; "))
    if repaired.returncode != 0:
        outcome.lost.append(f"kitlib check --repair could not make the library clean: "
                            f"{repaired.stdout} {repaired.stderr}")


def crash_cycles(settings: Settings, kills: int, *, seed: int = 2020, clients: int = 3,
                 max_run: float = 2.0) -> Outcome:
    """Run ``kills`` kill-and-restart cycles; what was lost (nothing, we hope) and more."""
    rng = random.Random(seed)
    ledger, outcome = Ledger(), Outcome()
    server = start_server(settings)
    token = staff_token(server)
    try:
        for cycle in range(kills):
            workloads = [Workload(server.url, token, ledger, outcome, seed * 100 + cycle * 10 + i)
                         for i in range(clients)]
            threads = [threading.Thread(target=w.run) for w in workloads]
            for thread in threads:
                thread.start()
            reindex = None
            if cycle % 3 == 2:
                reindex = subprocess.Popen([sys.executable, "-m", "kitlib", "reindex"],
                                           env=server.env, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.3, max_run))
            server.process.send_signal(signal.SIGKILL)
            if reindex is not None:
                reindex.send_signal(signal.SIGKILL)
                reindex.wait()
            server.process.wait()
            outcome.kills += 1
            for workload in workloads:
                workload.stop.set()
            for thread in threads:
                thread.join()
            server = start_server(settings)
            verify(server, token, ledger, outcome)
    finally:
        server.process.terminate()
        server.process.wait(timeout=30)
    return outcome


def worker_crash_cycles(settings: Settings, kills: int, *, seed: int = 7) -> Outcome:
    """The index writer alone killed mid-batch: a separate ``kitlib worker`` under SIGKILL."""
    rng = random.Random(seed)
    ledger, outcome = Ledger(), Outcome()
    server = start_server(settings.with_overrides(index_worker=False, media_worker=False))
    token = staff_token(server)
    try:
        for _ in range(kills):
            workload = Workload(server.url, token, ledger, outcome, rng.randrange(10**6))
            with httpx.Client(base_url=server.url, headers=workload.headers, timeout=30) as c:
                for _ in range(8):
                    workload.step(c)
            worker = subprocess.Popen([sys.executable, "-m", "kitlib", "worker"],
                                      env=server.env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.2, 1.5))
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            outcome.kills += 1
            drained = kitlib(server.env, "worker", "--once")
            assert drained.returncode == 0, drained.stderr
            verify(server, token, ledger, outcome)
    finally:
        server.process.terminate()
        server.process.wait(timeout=30)
    return outcome


def summary(outcome: Outcome) -> dict[str, Any]:
    lag = sorted(outcome.index_lag_seconds)
    return {"kills": outcome.kills, "requests": outcome.requests,
            "acknowledged_uploads": outcome.acknowledged_uploads,
            "acknowledged_deletes": outcome.acknowledged_deletes,
            "lost": len(outcome.lost), "repairs": len(outcome.repairs),
            "check_clean_after_median_s": round(lag[len(lag) // 2], 2) if lag else None}
