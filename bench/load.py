"""Load: a real ``kitlib serve`` under 200 concurrent clients for 60 s, four request types.

Builds a throw-away library: the demo (COVID-19 kit, documents, a webinar with its
transcript), ``--documents`` generated Markdown documents in French and English (a quarter
for members only) imported with ``kitlib import``, a recording of ``--recording-seconds``
made with ffmpeg (several MB) on a webinar of its own, and a kit of twenty documents. Waits
for the search worker to empty its queue, checks every URL once, then runs one wrk process
per request type at the same time, ``--connections`` split between them:

- search: ``/api/search?q=…`` and the ``/search?q=…`` page, rotating words and facets;
- pages: ``/``, ``/resources/{id}``, ``/kits/{slug}``, ``/webinars/{id}`` (members-only
  resources with a member's bearer token, the rest anonymous or as a member);
- ranges: ``Range: bytes=N-(N+1MiB-1)`` at random offsets of the recording;
- bundles: ``/api/bundles?kit=…`` whole (both kits) or a random 64 KiB range of one.

Each type gets its own latency distribution (wrk ``latency:percentile``), request count,
socket errors and a count per status (Lua ``response()``); any status >= 400 or socket error
is an error. The server's RSS (summed over its processes, from /proc) is sampled every
``--sample`` seconds. Prints a table and a JSON line per run; exits 1 on any error.

    .venv/bin/python -m bench.load [--duration 60] [--connections 200] [--runs 2]
        [--workers 1] [--documents 300] [--timeout 10] [--types search,pages,ranges,bundles]
        [--no-docs]

Needs wrk and ffmpeg; installs them with apt-get when missing and running as root
(bench/harness.require).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench._report import machine_note, table, today, update_docs
from bench.harness import (
    MIB,
    Bench,
    ProcStat,
    bench_session,
    cpu_of,
    human,
    median,
    require,
)
from bench.load_library import Library, build_library
from bench.servers import Kitlib

HEADING = "Load: 200 clients, 60 s"
TYPES = ("search", "pages", "ranges", "bundles")

WRK_SCRIPT = Path(__file__).with_name("load.lua")  # one script for every type


def raise_fd_limit(needed: int) -> None:
    """200 client sockets, as many server sockets, files and the index: raise the soft cap."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard == resource.RLIM_INFINITY else max(soft, min(hard, 65536))
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < needed:
        sys.exit(f"the open-files limit is {target}, below the {needed} this load needs "
                 "(raise the hard limit, e.g. `ulimit -Hn 65536` as root)")


class RssLog:
    """Summed VmRSS of the server's processes every ``interval`` seconds, in a thread."""

    def __init__(self, kitlib: Kitlib, interval: float) -> None:
        self.kitlib = kitlib
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.t0 = time.monotonic()

    def rss(self) -> int:
        return sum(ProcStat(p).status().get("VmRSS", 0) for p in self.kitlib.pids())

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.samples.append((time.monotonic() - self.t0, self.rss()))

    def __enter__(self) -> RssLog:
        self.t0 = time.monotonic()
        self.samples.append((0.0, self.rss()))
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append((time.monotonic() - self.t0, self.rss()))


def run_delay(pids: list[int]) -> float:
    """Seconds the server's event-loop threads spent runnable but waiting for a core."""
    total = 0
    for pid in pids:
        try:  # the main thread's line: run time, run delay, time slices (ns)
            total += int(Path(f"/proc/{pid}/task/{pid}/schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def run_once(bench: Bench, library: Library, args: argparse.Namespace, wrk: str,
             number: int) -> dict[str, Any]:
    kitlib = library.kitlib
    script = WRK_SCRIPT
    procs: dict[str, subprocess.Popen[str]] = {}
    server_cpu0, waited0 = cpu_of(kitlib.pids()), run_delay(kitlib.pids())
    with RssLog(kitlib, args.sample) as rss:
        for kind, connections in zip(args.types, split(args.connections, len(args.types)),
                                     strict=True):
            entries = bench.root / f"{kind}.txt"
            entries.write_text("\n".join(library.entries[kind]) + "\n")
            env = {**os.environ, "LOAD_ENTRIES": str(entries), "LOAD_TOKEN": library.member_token}
            procs[kind] = subprocess.Popen(
                [wrk, "-t1", f"-c{connections}", f"-d{args.duration}s",
                 "--timeout", f"{args.timeout}s", "-s", str(script), library.base],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        outputs = {kind: proc.communicate(timeout=args.duration + 120)[0]
                   for kind, proc in procs.items()}
    server_cpu = cpu_of(kitlib.pids()) - server_cpu0
    waited = run_delay(kitlib.pids()) - waited0
    result: dict[str, Any] = {"run": number, "workers": args.workers, "types": {}}
    for kind, connections in zip(args.types, split(args.connections, len(args.types)),
                                 strict=True):
        line = next((x for x in outputs[kind].splitlines() if x.startswith("LOAD ")), None)
        if line is None:
            raise RuntimeError(f"wrk ({kind}) printed no summary:\n{outputs[kind]}")
        stats = json.loads(line[5:])
        seconds = stats["duration_us"] / 1e6
        socket_errors = sum(stats[k] for k in ("connect", "read", "write", "timeout"))
        http_errors = sum(n for code, n in stats["statuses"].items() if int(code) >= 400)
        result["types"][kind] = {
            "connections": connections, "requests": stats["requests"],
            "rps": stats["requests"] / seconds, "mib_s": stats["bytes"] / MIB / seconds,
            "errors": socket_errors + max(http_errors, stats["status"]),
            "socket_errors": socket_errors, "statuses": stats["statuses"],
            "p50_ms": stats["p50_us"] / 1000, "p90_ms": stats["p90_us"] / 1000,
            "p99_ms": stats["p99_us"] / 1000, "max_ms": stats["max_us"] / 1000}
    result["rss_start"] = rss.samples[0][1]
    result["rss_end"] = rss.samples[-1][1]
    result["rss_peak"] = max(s for _, s in rss.samples)
    result["rss_samples"] = [[round(t, 1), s] for t, s in rss.samples]
    result["rss_end_by_pid"] = {str(p): ProcStat(p).status().get("VmRSS", 0)
                                for p in kitlib.pids()}
    result["server_cpu_pct"] = 100 * server_cpu / args.duration
    result["server_wait_pct"] = 100 * waited / args.duration
    result["errors"] = sum(t["errors"] for t in result["types"].values())
    return result


def run_table(result: dict[str, Any]) -> str:
    rows = [["type", "clients", "requests", "req/s", "MiB/s", "errors", "p50 ms", "p99 ms",
             "max ms", "statuses"]]
    for kind, t in result["types"].items():
        rows.append([kind, str(t["connections"]), str(t["requests"]), f"{t['rps']:.0f}",
                     f"{t['mib_s']:.1f}", str(t["errors"]), f"{t['p50_ms']:.1f}",
                     f"{t['p99_ms']:.1f}", f"{t['max_ms']:.0f}",
                     " ".join(f"{c}×{n}" for c, n in sorted(t["statuses"].items()))])
    return table(rows)


def median_table(results: list[dict[str, Any]], types: list[str]) -> str:
    rows = [["type", "clients", "requests", "req/s", "MiB/s", "errors", "p50 ms", "p99 ms",
             "max ms"]]
    for kind in types:
        per = [r["types"][kind] for r in results]

        def med(key: str, per: list[dict[str, Any]] = per) -> float:
            return median([float(t[key]) for t in per])

        rows.append([kind, str(per[0]["connections"]), f"{med('requests'):.0f}",
                     f"{med('rps'):.0f}", f"{med('mib_s'):.1f}",
                     str(sum(t["errors"] for t in per)), f"{med('p50_ms'):.1f}",
                     f"{med('p99_ms'):.1f}", f"{med('max_ms'):.0f}"])
    return table(rows)


def log_problems(kitlib: Kitlib) -> list[str]:
    log = kitlib.bench.root / "kitlib.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    return [x for x in text.splitlines() if "Traceback" in x or "ERROR" in x or "rror" in x[:40]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds of load (default 60)")
    parser.add_argument("--connections", type=int, default=200,
                        help="concurrent clients in all, split between the types (default 200)")
    parser.add_argument("--runs", type=int, default=2, help="runs, back to back (default 2)")
    parser.add_argument("--workers", type=int, default=1, help="kitlib serve --workers")
    parser.add_argument("--behind-nginx", action="store_true",
                        help="clients go through nginx with deploy/nginx-kitlib.conf")
    parser.add_argument("--documents", type=int, default=300, help="generated documents")
    parser.add_argument("--recording-seconds", type=int, default=60,
                        help="length of the generated recording (about 1 MB per 7 s)")
    parser.add_argument("--timeout", type=int, default=10,
                        help="seconds after which wrk counts a request as an error (default 10)")
    parser.add_argument("--types", default=",".join(TYPES),
                        help="request types to run, comma-separated (default: all four)")
    parser.add_argument("--sample", type=float, default=5.0, help="RSS sampling interval, s")
    parser.add_argument("--max-seconds", type=int, default=1800, help="hard time bound")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args()
    args.types = [t for t in args.types.split(",") if t]
    if not args.types or set(args.types) - set(TYPES):
        parser.error(f"--types takes some of {', '.join(TYPES)}")
    wrk = require("wrk", "wrk")
    require("ffmpeg", "ffmpeg")
    raise_fd_limit(4 * args.connections + 1024)
    with bench_session(args.max_seconds, keep=args.keep) as bench:
        errors = run(bench, args, wrk)
    if errors:
        sys.exit(1)


def run(bench: Bench, args: argparse.Namespace, wrk: str) -> int:
    print(f"temporary folder {bench.root}; {machine_note()}")
    library = build_library(bench, args)
    results = []
    for number in range(1, args.runs + 1):
        print(f"\nrun {number}: {args.connections} clients for {args.duration}s ...", flush=True)
        result = run_once(bench, library, args, wrk, number)
        results.append(result)
        print(run_table(result))
        print(f"server RSS {human(result['rss_start'])} at start, {human(result['rss_end'])} "
              f"at end, peak {human(result['rss_peak'])}; server CPU "
              f"{result['server_cpu_pct']:.0f}% of one core, event loop runnable but waiting "
              f"for a core {result['server_wait_pct']:.0f}% of the time")
        print("JSON " + json.dumps(result))
    problems = log_problems(library.kitlib)
    errors = int(sum(r["errors"] for r in results))
    print(f"\nserver log: {len(problems)} error lines" + "".join(
        f"\n  {x}" for x in problems[:20]))
    text = median_table(results, args.types)
    print(f"\nmedians of {len(results)} run(s):\n{text}")
    if errors:
        print(f"{errors} errors", file=sys.stderr)
    if not args.no_docs:
        write_docs(args, results, text, problems)
    return errors


def write_docs(args: argparse.Namespace, results: list[dict[str, Any]], text: str,
               problems: list[str]) -> None:
    command = (f".venv/bin/python -m bench.load --duration {args.duration} --connections "
               f"{args.connections} --runs {args.runs} --workers {args.workers} "
               f"--documents {args.documents} --timeout {args.timeout}")
    memory = "; ".join(
        f"run {r['run']}: {human(r['rss_start'])} → {human(r['rss_end'])} "
        f"(peak {human(r['rss_peak'])}), server CPU {r['server_cpu_pct']:.0f}% of one core "
        f"(event loops runnable but waiting for a core: {r['server_wait_pct']:.0f}% of the run, "
        "summed over processes)"
        for r in results)
    runs = "\n\n".join(f"Run {r['run']}:\n\n{run_table(r)}" for r in results)
    heading = HEADING if args.workers == 1 else f"{HEADING}, {args.workers} server processes"
    update_docs(heading, f"""
`python -m bench.load` starts `kitlib serve --workers {args.workers}` on a library made of the demo,
{args.documents} generated Markdown documents (French and English, a quarter for members
only, imported with `kitlib import`), a {args.recording_seconds} s H.264 recording made with
ffmpeg on a webinar of its own and a kit of twenty documents; waits for the search worker to
empty its queue; then runs four wrk processes at once (1 thread each), {args.connections}
keep-alive connections in all, for {args.duration} s: search (`/api/search` and `/search`,
30 queries with facets), page views (`/`, `/resources/{{id}}`, `/kits/{{slug}}`,
`/webinars/{{id}}`, members-only resources with a member's bearer token), random 1 MiB
`Range` reads of the recording, and kit bundles (both kits whole, or a 64 KiB range).
Errors are socket errors, answers slower than {args.timeout} s (wrk `--timeout`) and statuses
≥ 400 (counted per status in Lua `response()`).
Server RSS is summed over its processes from /proc every {args.sample:.0f} s.

Run on {today()}; machine: {machine_note()}. The 2 cores are shared by the server, its
search worker and the four wrk processes, so absolute figures are low and noisy: compare
the request types with each other, not with other machines.

```
{command}
```

Medians of {len(results)} run(s) (errors: the sum):

{text}

Server RSS: {memory}. Server log: {len(problems)} error lines.

How to read it: wrk keeps every connection busy (a client asks again as soon as it has its
answer), so a type's latency is about its clients divided by its throughput: with all
types at once the p50s show how the server shares its cores between types, not how long one
request takes on an idle server. The event loops' time "runnable but waiting for a core" is
time the machine did not give them (wrk, the search worker's threads and anything else
running on these 2 cores).

{runs}
""")


if __name__ == "__main__":
    main()
