"""Upload throughput and memory of kitlib against ``cp`` + ``sync`` of the same file.

Creates a test file (PDF header + random bytes) on the filesystem that holds the kitlib
uploads folder, then in one run and for ``--runs`` rounds:

* ``cp`` of the file into the kitlib data folder followed by ``sync FILE`` (fsync of that
  file), timed together: the disk's honest speed for a durable copy;
* a multipart ``POST /api/resources`` with ``curl -F file=@…`` (curl streams it from disk);
  kitlib writes, hashes and fsyncs it; the resource is deleted after each round;
* a raw ``PUT /api/resources/{id}/file`` of the same file with ``curl -T`` (no multipart);
* the same ``curl -T`` to bench/drain_app.py under the same uvicorn, which only reads the
  body: what receiving the bytes costs any ASGI application, before it stores or hashes them.

The uvicorn process's VmRSS is sampled every 10 ms during the uploads (and VmHWM is reset
first) to show the memory an upload costs.

    .venv/bin/python -m bench.upload [--size 1GiB] [--runs 3] [--no-docs]

Needs curl; installs nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench._report import machine_note, table, today, update_docs
from bench.harness import (
    MIB,
    NO_WORKERS,
    REPO,
    VENV_BIN,
    Bench,
    ProcStat,
    RssSampler,
    bench_session,
    human,
    median,
    parse_size,
    require,
    wait_http,
    warm_page_cache,
    write_test_file,
)
from bench.live import free_port
from bench.servers import Kitlib

DRAIN = "uvicorn only reading"


@dataclass
class Round:
    seconds: float
    peak_rss: int = 0
    server_cpu: float = 0.0


def copy_round(source: Path, target: Path) -> Round:
    """cp then sync FILE (coreutils sync with an argument fsyncs that file)."""
    subprocess.run(["sync"], check=True, timeout=600)
    t0 = time.perf_counter()
    subprocess.run(["cp", str(source), str(target)], check=True, timeout=600)
    subprocess.run(["sync", str(target)], check=True, timeout=600)
    seconds = time.perf_counter() - t0
    target.unlink()
    return Round(seconds)


def kitlib_round(kitlib: Kitlib, action: str, source: Path, holder: int) -> Round:
    subprocess.run(["sync"], check=True, timeout=600)  # start with no dirty pages, as cp does
    proc = ProcStat(kitlib.pid)
    cpu0 = proc.cpu()
    with RssSampler(kitlib.pid) as sampler:
        if action == "post":
            body, seconds = kitlib.upload(source, title="upload bench")
        else:
            seconds = kitlib.put_file(holder, source)
    result = Round(seconds, sampler.peak, proc.cpu() - cpu0)
    if action == "post":
        kitlib.delete(body["id"])
    return result


def drain_round(url: str, source: Path, pid: int) -> Round:
    proc = ProcStat(pid)
    cpu0 = proc.cpu()
    t0 = time.perf_counter()
    done = subprocess.run(["curl", "-sS", "--fail", "-T", str(source), url], check=True,
                          capture_output=True, timeout=600)
    seconds = time.perf_counter() - t0
    if int(done.stdout) != source.stat().st_size:
        raise RuntimeError(f"the drain app read {done.stdout!r} bytes")
    return Round(seconds, 0, proc.cpu() - cpu0)


def hashing_seconds(source: Path) -> float:
    """sha256 of the file from the page cache in 4 MiB reads: the least an upload must add."""
    digest = hashlib.sha256()
    t0 = time.perf_counter()
    with source.open("rb", buffering=0) as f:
        while chunk := f.read(4 * MIB):
            digest.update(chunk)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1GiB", help="test file size (default 1GiB)")
    parser.add_argument("--runs", type=int, default=3, help="rounds (>=3 for a median)")
    parser.add_argument("--max-seconds", type=int, default=900, help="hard time bound")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args()
    size = parse_size(args.size)
    if size < MIB:
        parser.error("--size must be at least 1MiB")
    require("curl", "curl")
    with bench_session(args.max_seconds, keep=args.keep) as bench:
        run(bench, args, size)


def run(bench: Bench, args: argparse.Namespace, size: int) -> None:
    print(f"temporary folder {bench.root}; {machine_note()}")
    kitlib = Kitlib(bench, NO_WORKERS)
    source = bench.root / "source.pdf"  # same filesystem as kitlib's uploads folder
    write_test_file(source, size)
    warm_page_cache(source)
    small = bench.root / "small.pdf"
    write_test_file(small, 64 * 1024)
    # Warm the server (imports, DB, first multipart) and make a resource for the PUTs.
    holder = int(kitlib.upload(small, title="holder")[0]["id"])
    kitlib.put_file(holder, small)
    proc = ProcStat(kitlib.pid)
    before = proc.status()
    peak_reset = proc.reset_peak()
    print(
        f"kitlib (pid {kitlib.pid}) before the uploads: VmRSS {human(before['VmRSS'])}, "
        f"VmHWM {human(before['VmHWM'])}"
        + (" (VmHWM reset now)" if peak_reset else " (could not reset VmHWM)")
    )

    drain_port = free_port()
    drain = bench.spawn(
        [str(VENV_BIN / "uvicorn"), "--app-dir", str(REPO), "bench.drain_app:app",
         "--host", "127.0.0.1", "--port", str(drain_port), "--http", "httptools",
         "--loop", "uvloop", "--log-level", "warning"],
        log="drain.log",
    )
    wait_http(f"http://127.0.0.1:{drain_port}/")
    rounds: dict[str, list[Round]] = {
        "cp + sync": [],
        "kitlib POST multipart": [],
        "kitlib PUT raw": [],
        DRAIN: [],
    }
    for i in range(args.runs):
        r = copy_round(source, kitlib.data / "cp-copy.pdf")
        rounds["cp + sync"].append(r)
        print(f"  run {i + 1} cp + sync             {size / MIB / r.seconds:6.0f} MiB/s")
        for name, action in (("kitlib POST multipart", "post"), ("kitlib PUT raw", "put")):
            r = kitlib_round(kitlib, action, source, holder)
            rounds[name].append(r)
            print(
                f"  run {i + 1} {name:22} {size / MIB / r.seconds:6.0f} MiB/s, peak VmRSS "
                f"{human(r.peak_rss)}, server CPU {r.server_cpu / r.seconds:4.0%}"
            )
        kitlib.put_file(holder, small)  # the big blob of the PUT goes, as in real use
        r = drain_round(f"http://127.0.0.1:{drain_port}/", source, drain.pid)
        rounds[DRAIN].append(r)
        print(f"  run {i + 1} {DRAIN:22} {size / MIB / r.seconds:6.0f} MiB/s, server CPU "
              f"{r.server_cpu / r.seconds:4.0%}")
    after = proc.status()
    hashing = median([hashing_seconds(source) for _ in range(3)])
    print(f"  sha256 alone, one core: {hashing:.2f} s")
    report(args, size, rounds, before, after, peak_reset, hashing)


def report(
    args: argparse.Namespace,
    size: int,
    rounds: dict[str, list[Round]],
    before: dict[str, int],
    after: dict[str, int],
    peak_reset: bool,
    hashing: float,
) -> None:
    copies = [r.seconds for r in rounds["cp + sync"]]
    rows = [
        [
            "method",
            f"median s ({args.runs} runs)",
            "MiB/s",
            "speed vs cp",
            "target",
            "peak VmRSS",
            "RSS growth",
            "server CPU",
        ]
    ]
    growth_max = 0
    for name, items in rounds.items():
        seconds = median([r.seconds for r in items])
        # The disk drifts within a run: the median of each round's ratio to its own cp.
        ratio = median([c / r.seconds for c, r in zip(copies, items, strict=True)])
        is_kitlib = name.startswith("kitlib")
        peak = max(r.peak_rss for r in items) if is_kitlib else 0
        growth = peak - before["VmRSS"]
        if is_kitlib:
            growth_max = max(growth_max, growth)
        target = ("≥ 0.80 " + ("yes" if ratio >= 0.8 else "NO")) if is_kitlib else ""
        rows.append(
            [
                name,
                f"{seconds:.2f}",
                f"{size / MIB / seconds:.0f}",
                f"{ratio:.2f}",
                target,
                human(peak) if is_kitlib else "",
                f"+{human(growth)}" if is_kitlib else "",
                f"{median([r.server_cpu / r.seconds for r in items]):.0%}"
                if name != "cp + sync" else "",
            ]
        )
    text = table(rows)
    memory = (
        f"uvicorn process VmRSS before: {human(before['VmRSS'])}; highest sampled "
        f"during uploads: +{human(growth_max)} "
        f"({'< 64 MiB: met' if growth_max < 64 * MIB else '≥ 64 MiB: NOT met'}); "
        f"VmHWM after the runs: {human(after['VmHWM'])}"
        + (" (reset just before them)" if peak_reset else "")
        + "."
    )
    ceiling = (
        f"The ceiling, measured in the same run: uvicorn alone, reading the body and storing "
        f"nothing, takes {median([r.seconds for r in rounds[DRAIN]]):.2f} s; sha256 of the "
        f"file from memory takes {hashing:.2f} s of one core; `cp` copies inside the kernel "
        f"(copy_file_range) and hashes nothing. Client, server and hashing share 2 cores."
    )
    print()
    print(text)
    print()
    print(memory)
    print(ceiling)
    if args.no_docs:
        return
    update_docs(
        "Uploads",
        f"""
`python -m bench.upload` stores one {human(size)} file (PDF header + random bytes, in the page
cache) three ways, interleaved, on the filesystem of the kitlib uploads folder: `cp` then
`sync FILE` (an fsync of the copy, timed together with the cp), a multipart
`POST /api/resources` with `curl -F file=@…` (curl streams from disk; kitlib parses,
writes, hashes, fsyncs, renames; the resource is deleted after each round), and a raw
`PUT /api/resources/{{id}}/file` with `curl -T`. kitlib runs as `kitlib serve` (uvicorn +
httptools + uvloop, one process, search worker off so that no text extraction of the test
file runs on the same cores); its VmRSS is sampled every 10 ms. A fourth row sends the
same `curl -T` to `bench/drain_app.py`, a bare ASGI app under the same uvicorn that only
reads the body.

Run on {today()}; machine: {machine_note()}.

```
.venv/bin/python -m bench.upload --size {args.size} --runs {args.runs}
```

{text}

{memory}

{ceiling} Ratios are the median of each round's ratio to that round's `cp + sync`.
""",
    )


if __name__ == "__main__":
    main()
