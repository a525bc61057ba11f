"""What one download benchmark measured (single streams and range loads, per server) and its
table, ratios and section in docs/benchmarks.md."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from bench._report import machine_note, table, today, update_docs
from bench.harness import human, median

BEHIND = "kitlib behind nginx"


@dataclass
class Stream:
    mib_s: float
    client_cpu: float  # seconds
    server_cpu: float  # seconds
    seconds: float


@dataclass
class Ranges:
    mib_s: float
    requests: int
    p50_ms: float
    p99_ms: float
    errors: int
    client_cpu: float
    server_cpu: float
    seconds: float


def report(
    args: argparse.Namespace,
    size: int,
    streams: dict[str, list[Stream]],
    range_runs: dict[str, list[Ranges]],
) -> None:
    names = ["kitlib", BEHIND, "nginx"]
    single = {n: median([s.mib_s for s in streams[n]]) for n in names}
    # The machine drifts between runs (nginx alone moved by a third within one run): each
    # ratio is the median of the ratios of runs made side by side, not a ratio of medians.
    ratio_single = {
        n: median([a.mib_s / b.mib_s for a, b in zip(streams[n], streams["nginx"], strict=True)])
        for n in names[:2]
    }
    ratio_ranges = {
        n: median([a.mib_s / b.mib_s
                   for a, b in zip(range_runs[n], range_runs["nginx"], strict=True)])
        for n in names[:2]
    }
    # For latencies and CPU: each server's median run by throughput.
    ranges = {n: sorted(range_runs[n], key=lambda r: r.mib_s)[len(range_runs[n]) // 2]
              for n in names}
    n_single, n_r = single["nginx"], ranges["nginx"]
    k_single, k_r = single["kitlib"], ranges["kitlib"]

    def cpu(items: list[Stream], side: str) -> str:
        return f"{median([getattr(s, side) / s.seconds for s in items]):.0%}"

    def ratios(values: dict[str, float], target: float) -> list[str]:
        met = ["yes" if values[n] >= target else "NO" for n in names[:2]]
        return [f"{values['kitlib']:.2f} / {values[BEHIND]:.2f}", f"≥ {target:.2f}",
                " / ".join(met)]

    rows = [
        ["test", "kitlib", "kitlib behind nginx", "nginx", "ratio to nginx", "target", "met"],
        [f"single stream, median of {args.runs} (MiB/s)",
         *(f"{single[n]:.0f}" for n in names), *ratios(ratio_single, 0.9)],
        [f"{args.clients} clients × random 1 MiB ranges, median of {args.range_runs} × "
         f"{args.duration}s (MiB/s)",
         *(f"{median([r.mib_s for r in range_runs[n]]):.0f}" for n in names),
         *ratios(ratio_ranges, 0.7)],
        ["  requests served", *(str(ranges[n].requests) for n in names), "", "", ""],
        ["  p50 latency (ms)", *(f"{ranges[n].p50_ms:.1f}" for n in names), "", "", ""],
        ["  p99 latency (ms)", *(f"{ranges[n].p99_ms:.1f}" for n in names), "", "", ""],
        ["  errors", *(str(ranges[n].errors) for n in names), "", "", ""],
        ["server CPU, single stream / ranges",
         *(f"{cpu(streams[n], 'server_cpu')} / {ranges[n].server_cpu / ranges[n].seconds:.0%}"
           for n in names), "", "", ""],
        ["client CPU (curl / wrk)",
         *(f"{cpu(streams[n], 'client_cpu')} / {ranges[n].client_cpu / ranges[n].seconds:.0%}"
           for n in names), "", "", ""],
    ]
    text = table(rows)
    print()
    print(text)
    ceiling = (
        f"Client ceiling: against nginx, curl reaches {n_single:.0f} MiB/s using "
        f"{cpu(streams['nginx'], 'client_cpu')} of a core and wrk "
        f"({args.threads} thread) {n_r.mib_s:.0f} MiB/s using "
        f"{n_r.client_cpu / n_r.seconds:.0%} of a core."
    )
    if k_single < 0.9 * n_single and k_r.mib_s < 0.9 * n_r.mib_s:
        ceiling += " kitlib's figures stay below these, so the client is not what limits kitlib."
    print()
    print(ceiling)
    if args.no_docs:
        return
    chunk = args.chunk_size or "kitlib's default (4 MiB)"
    command = (
        f".venv/bin/python -m bench.download --size {args.size} --runs {args.runs} "
        f"--clients {args.clients} --duration {args.duration} --range-runs {args.range_runs} "
        f"--workers {args.workers}"
    )
    update_docs(
        "Downloads",
        f"""
`python -m bench.download` serves one {human(size)} file (PDF header + random bytes, uploaded
through the API) from kitlib (`kitlib serve --workers {args.workers}`: uvicorn + httptools + uvloop,
download chunk size {chunk}, search worker off so that no text extraction of the test file
runs on the same cores) and from nginx with {args.workers} worker process(es) (`sendfile on`,
its own config on another loopback port, root = the kitlib uploads folder, so both read the
same blob from the page cache). Single stream: `curl -o /dev/null`, one warm-up each, then
runs interleaved. Concurrent: wrk ({args.threads} thread, {args.clients} keep-alive connections)
with a Lua script asking random unaligned 1 MiB `Range`s, 2 s warm-up each, then
{args.range_runs} runs of {args.duration} s per server, interleaved. Each ratio is the median of
the ratios of runs made side by side (the machine drifts within a run).
"kitlib behind nginx" is the production set-up of docs/deploy.md: a second `kitlib serve`
on the same library with `KITLIB_ACCEL_REDIRECT`, behind the same nginx running
`deploy/nginx-kitlib.conf`; kitlib checks access on every request (the file lookup, the
visibility check, a download event) and answers with `X-Accel-Redirect`, nginx sends the
bytes. Its server CPU counts both kitlib and nginx. Ratios are to nginx serving the blob
directly, with no access check at all.

Run on {today()}; machine: {machine_note()}.

```
{command}
```

{text}

{ceiling} A client near 100% of a core means that figure is the client's ceiling, so the
ratio against it is an upper bound. On 2 cores the client takes CPU the server would
otherwise use, for both servers alike; nginx (sendfile, no user-space copy) is the least
affected.
""",
    )
