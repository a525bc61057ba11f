"""What bench.search measures in each phase's child process: peak memory, sizes on disk and
query latencies after a warm-up, the same way for kitlib and for SQLite FTS5."""

from __future__ import annotations

import math
import resource
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WARMUP = 20
MEMBER_VISIBILITIES = ("public", "members")


def peak_rss_mib() -> float:
    """Peak resident set of this process (VmHWM; ru_maxrss as a fallback), MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_split_mib() -> dict[str, float]:
    """Current anonymous (heap) and file-backed (mmapped index files) resident memory, MiB."""
    out: dict[str, float] = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key = line.split(":")[0]
            if key in ("RssAnon", "RssFile"):
                out[key] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return out


def dir_size(path: Path) -> int:
    """Bytes of the regular files under path (symlinks not followed)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


@dataclass
class Timer:
    """Latencies of the measured queries, stopping at a deadline."""

    deadline: float

    def run(self, queries: list[dict[str, Any]], fn: Any) -> dict[str, Any]:
        t0 = time.perf_counter()
        fn(queries[0])
        first = (time.perf_counter() - t0) * 1000
        for q in queries[1:WARMUP]:
            fn(q)
        lat: list[float] = []
        totals: list[int] = []
        for q in queries[WARMUP:]:
            if time.time() > self.deadline:
                break
            t0 = time.perf_counter()
            totals.append(fn(q))
            lat.append((time.perf_counter() - t0) * 1000)
        out: dict[str, Any] = {"first_ms": first, "queries": len(lat)}
        if lat:
            slowest = max(range(len(lat)), key=lat.__getitem__)
            out.update(
                p50=percentile(lat, 0.5), p95=percentile(lat, 0.95), mean=statistics.mean(lat),
                max=lat[slowest], slowest=queries[WARMUP + slowest],
                mean_total=statistics.mean(totals), zero=sum(1 for t in totals if not t),
            )
        return out
