"""Download throughput of kitlib against nginx serving the very same file from the same disk.

Creates a test file (PDF header + random bytes), uploads it to a throw-away kitlib, starts
nginx on another loopback port with the kitlib uploads folder as its root, and measures
from both, in one run:

(a) single-stream full downloads with ``curl -o /dev/null`` (median of ``--runs``);
(b) ``--clients`` concurrent keep-alive clients doing random 1 MiB ``Range`` reads for
    ``--duration`` seconds with wrk + a Lua script (aggregate MiB/s, p50/p99 latency).

The client's CPU time is reported next to each figure: nginx's figures show the ceiling
of the client on this machine (client and servers share the same cores).

    .venv/bin/python -m bench.download [--size 1GiB] [--runs 3] [--clients 32]
        [--duration 10] [--range-runs 3] [--chunk-size BYTES] [--no-docs]

Needs curl, nginx and wrk; installs them with apt-get when missing and running as root.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import time
from pathlib import Path

from bench._report import machine_note
from bench.download_report import BEHIND, Ranges, Stream, report
from bench.harness import (
    MIB,
    NO_WORKERS,
    Bench,
    bench_session,
    children_of,
    cpu_of,
    human,
    parse_size,
    require,
    wait_http,
    warm_page_cache,
    write_test_file,
)
from bench.live import free_port
from bench.servers import Kitlib, Nginx

WRK_SCRIPT = """
-- Random Range reads of `chunk` bytes inside a file of `size` bytes.
local size = tonumber(os.getenv("BENCH_SIZE"))
local chunk = tonumber(os.getenv("BENCH_CHUNK"))
local path = os.getenv("BENCH_PATH")
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

function init(args)
  math.randomseed(os.time() * 1000 + (tid or 0))
end

function request()
  local start = math.random(0, size - chunk)
  return wrk.format("GET", path, {["Range"] = "bytes=" .. start .. "-" .. (start + chunk - 1)})
end

function done(summary, latency, requests)
  io.write(string.format(
    'BENCH {"requests": %d, "bytes": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
    .. '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\\n',
    summary.requests, summary.bytes, summary.duration, latency:percentile(50),
    latency:percentile(99), summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout))
end
"""


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def single_stream(url: str, size: int, server_pids: list[int]) -> Stream:
    """One full GET with curl to /dev/null; curl's own timer, CPU of both sides."""
    cpu0, srv0 = children_cpu(), cpu_of(server_pids)
    done = subprocess.run(
        [
            "curl",
            "-sS",
            "-o",
            "/dev/null",
            "--max-time",
            "300",
            "-w",
            "%{http_code} %{size_download} %{time_total}",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=330,
    )
    cpu1, srv1 = children_cpu(), cpu_of(server_pids)
    code, got, seconds = done.stdout.split()
    if code != "200" or int(got) != size:
        raise RuntimeError(f"{url}: HTTP {code}, {got} of {size} bytes {done.stderr}")
    return Stream(size / MIB / float(seconds), cpu1 - cpu0, srv1 - srv0, float(seconds))


def range_load(
    url: str,
    size: int,
    clients: int,
    threads: int,
    duration: int,
    server_pids: list[int],
    script: Path,
) -> Ranges:
    """wrk with ``clients`` connections doing random 1 MiB ranges for ``duration`` seconds."""
    env = {
        **os.environ,
        "BENCH_SIZE": str(size),
        "BENCH_CHUNK": str(MIB),
        "BENCH_PATH": "/" + url.split("/", 3)[3],
    }
    cpu0, srv0 = children_cpu(), cpu_of(server_pids)
    done = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(clients),
            "-d",
            f"{duration}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=duration + 60,
    )
    cpu1, srv1 = children_cpu(), cpu_of(server_pids)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary: {done.stdout} {done.stderr}")
    r = json.loads(line[6:])
    seconds = r["duration_us"] / 1e6
    errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    return Ranges(
        r["bytes"] / MIB / seconds,
        r["requests"],
        r["p50_us"] / 1000,
        r["p99_us"] / 1000,
        errors,
        cpu1 - cpu0,
        srv1 - srv0,
        seconds,
    )


def check_range(url: str, source_head: bytes, offset: int) -> None:
    """Both servers must answer 206 with exactly the requested bytes."""
    done = subprocess.run(
        [
            "curl",
            "-sS",
            "-D",
            "-",
            "-o",
            "-",
            "-r",
            f"{offset}-{offset + len(source_head) - 1}",
            url,
        ],
        capture_output=True,
        timeout=60,
    )
    head, _, body = done.stdout.partition(b"\r\n\r\n")
    if b" 206 " not in head.split(b"\r\n", 1)[0] or body != source_head:
        raise RuntimeError(f"{url}: a Range request did not return the expected 206 bytes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1GiB", help="test file size (default 1GiB)")
    parser.add_argument("--runs", type=int, default=3, help="full downloads per server (>=3)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent range clients")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per range test")
    parser.add_argument("--range-runs", type=int, default=3, help="range tests per server")
    parser.add_argument(
        "--chunk-size",
        default=None,
        help="KITLIB_DOWNLOAD_CHUNK_SIZE for the kitlib server (default: kitlib's)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes for both kitlib (--workers) and nginx (worker_processes)",
    )
    parser.add_argument("--max-seconds", type=int, default=900, help="hard time bound")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args()
    size = parse_size(args.size)
    if size < 2 * MIB:
        parser.error("--size must be at least 2MiB")
    for tool, package in (("curl", "curl"), ("nginx", "nginx"), ("wrk", "wrk")):
        require(tool, package)

    with bench_session(args.max_seconds, keep=args.keep) as bench:
        run(bench, args, size)


def run(bench: Bench, args: argparse.Namespace, size: int) -> None:
    extra = (
        {"KITLIB_DOWNLOAD_CHUNK_SIZE": str(parse_size(args.chunk_size))} if args.chunk_size else {}
    )
    print(f"temporary folder {bench.root}; {machine_note()}")
    source = bench.root / "source.pdf"
    t0 = time.perf_counter()
    write_test_file(source, size)
    print(f"wrote a {human(size)} test file in {time.perf_counter() - t0:.1f}s")
    kitlib = Kitlib(bench, {**NO_WORKERS, **extra}, workers=args.workers)
    body, seconds = kitlib.upload(source)
    stored = body["files"][0]
    print(f"uploaded to kitlib in {seconds:.1f}s (sha256 {stored['sha256'][:12]}…)")
    with source.open("rb") as f:
        f.seek(size // 2)
        probe = f.read(MIB)
    source.unlink()  # both servers now serve the one stored blob
    subprocess.run(["sync"], check=True, timeout=300)  # no writeback under the measurements
    blob_key = f"{stored['sha256'][:2]}/{stored['sha256'][2:4]}/{stored['sha256']}"
    # The same library served a second way: a `kitlib serve` with KITLIB_ACCEL_REDIRECT behind
    # nginx running deploy/nginx-kitlib.conf, as docs/deploy.md sets it up.
    behind_port = free_port()
    behind = bench.spawn(
        [kitlib.exe, "serve", "--host", "127.0.0.1", "--port", str(behind_port),
         "--workers", str(args.workers)],
        env={**kitlib.env, "KITLIB_ACCEL_REDIRECT": "/_kitlib/blobs/",
             "KITLIB_FORWARDED_ALLOW_IPS": "127.0.0.1", **NO_WORKERS},
        log="kitlib-behind-nginx.log",
    )
    wait_http(f"http://127.0.0.1:{behind_port}/healthz")
    nginx = Nginx(bench, kitlib.uploads, workers=args.workers,
                  front_of=f"127.0.0.1:{behind_port}")
    warm_page_cache(kitlib.uploads / blob_key)
    nginx_pids = [nginx.proc.pid, *nginx.worker_pids()]
    servers = {
        "kitlib": (f"{kitlib.base}{stored['url']}", kitlib.pids()),
        BEHIND: (f"{nginx.front_base}{stored['url']}",
                 [behind.pid, *children_of(behind.pid), *nginx_pids]),
        "nginx": (f"{nginx.base}/{blob_key}", nginx_pids),
    }
    for url, _ in servers.values():
        check_range(url, probe, size // 2)

    # (a) single stream: one warm-up each, then runs interleaved so drift hits both alike.
    streams: dict[str, list[Stream]] = {name: [] for name in servers}
    for url, pids in servers.values():
        single_stream(url, size, pids)
    for i in range(args.runs):
        for name, (url, pids) in servers.items():
            s = single_stream(url, size, pids)
            streams[name].append(s)
            print(
                f"  single stream {name:19} run {i + 1}: {s.mib_s:7.0f} MiB/s "
                f"(server CPU {s.server_cpu / s.seconds:4.0%}, curl CPU "
                f"{s.client_cpu / s.seconds:4.0%})"
            )

    # (b) concurrent random ranges: a short warm-up each, then rounds interleaved like (a).
    script = bench.root / "ranges.lua"
    script.write_text(WRK_SCRIPT)
    ranges: dict[str, list[Ranges]] = {name: [] for name in servers}
    for url, pids in servers.values():
        range_load(url, size, args.clients, args.threads, 2, pids, script)
    for i in range(args.range_runs):
        for name, (url, pids) in servers.items():
            r = range_load(url, size, args.clients, args.threads, args.duration, pids, script)
            ranges[name].append(r)
            print(
                f"  {args.clients} clients    {name:19} run {i + 1}: {r.mib_s:7.0f} MiB/s, "
                f"{r.requests} requests, p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms, "
                f"{r.errors} errors (server CPU {r.server_cpu / r.seconds:4.0%}, wrk CPU "
                f"{r.client_cpu / r.seconds:4.0%})"
            )

    report(args, size, streams, ranges)


if __name__ == "__main__":
    main()
