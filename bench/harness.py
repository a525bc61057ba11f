"""What the benchmarks share: a temporary root and the processes under it, sizes, test files,
CPU and memory samplers (the servers themselves are in bench.servers).

Everything lives under one temporary folder and listens on 127.0.0.1 only. Processes are
started in their own session and stopped by process group when the benchmark ends, on an
error, on Ctrl-C or on SIGTERM/SIGALRM (the time bound), so nothing is left behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = REPO / ".venv" / "bin"
# For benchmarks of transfers: the workers would extract text from the test file (a
# PDF header on random bytes) in the background, on the same 2 cores as the measurement.
NO_WORKERS = {"KITLIB_INDEX_WORKER": "false", "KITLIB_MEDIA_WORKER": "false"}
PDF_HEADER = b"%PDF-1.4\n"  # libmagic says application/pdf, so kitlib accepts random bytes
MIB = 1024 * 1024
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


class Timeout(Exception):
    """The benchmark ran past its --max-seconds bound."""


def parse_size(text: str) -> int:
    """'1GiB', '512MiB', '100M', '2G' or plain bytes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B)?\s*", text, re.IGNORECASE)
    if not match:
        raise ValueError(f"not a size: {text!r}")
    factor = 1024 ** " KMGT".index(match.group(2).upper() or " ")
    return int(float(match.group(1)) * factor)


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _which(tool: str) -> str | None:
    return shutil.which(tool) or next(
        (p for p in (f"/usr/sbin/{tool}", f"/sbin/{tool}") if Path(p).exists()), None
    )


def require(tool: str, package: str) -> str:
    """The tool's path; a missing one is installed from Debian when running as root,
    otherwise the script exits naming the package (benchmarks set up their own reference)."""
    path = _which(tool)
    if path is None and os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"{tool} is missing: apt-get install -y {package}")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-q", package], check=False, timeout=900,
                       stdout=subprocess.DEVNULL, env=env)
        path = _which(tool)
    if path is None:
        sys.exit(f"{tool} is not installed: run `apt-get install {package}` (as root) and retry.")
    return path


def wait_http(url: str, deadline_s: float = 30.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {deadline_s:.0f}s")


def write_test_file(path: Path, size: int) -> None:
    """PDF header + random bytes (incompressible, accepted by kitlib's magic-bytes check)."""
    block = 16 * MIB
    with path.open("wb") as out:
        out.write(PDF_HEADER)
        left = size - len(PDF_HEADER)
        while left > 0:
            n = min(block, left)
            out.write(os.urandom(n))
            left -= n
        out.flush()
        os.fsync(out.fileno())


def warm_page_cache(path: Path) -> None:
    """Read a file once so every server starts from the same (cached) state."""
    with path.open("rb", buffering=0) as f:
        while f.read(8 * MIB):
            pass


@dataclass
class ProcStat:
    """CPU seconds (user+system) and memory of one process, from /proc."""

    pid: int

    def cpu(self) -> float:
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / TICKS

    def status(self) -> dict[str, int]:
        """VmRSS/VmHWM in bytes."""
        out: dict[str, int] = {}
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    out[key] = int(value.split()[0]) * 1024
        except OSError:
            pass
        return out

    def reset_peak(self) -> bool:
        """Reset VmHWM to the current RSS (Linux >= 4.0, needs to own the process or root)."""
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            return True
        except OSError:
            return False


class RssSampler:
    """Samples VmRSS of a process every few milliseconds in a thread; keeps the maximum."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        self.proc = ProcStat(pid)
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.status().get("VmRSS", 0))
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.status().get("VmRSS", 0))


@dataclass
class Bench:
    """A temporary root and the processes started under it; ``close`` undoes everything."""

    keep: bool = False
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="kitlib-bench-")))
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def spawn(
        self, argv: list[str], env: dict[str, str] | None = None, log: str | None = None
    ) -> subprocess.Popen[bytes]:
        out = (self.root / log).open("ab") if log else subprocess.DEVNULL
        proc = subprocess.Popen(
            argv,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def close(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        self.procs.clear()
        if self.keep:
            print(f"(kept {self.root})")
        else:
            shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def bench_session(max_seconds: int, keep: bool = False) -> Iterator[Bench]:
    """A Bench that is cleaned up on exit, Ctrl-C, SIGTERM and after ``max_seconds``."""
    bench = Bench(keep=keep)

    def on_alarm(signum: int, frame: object) -> None:
        raise Timeout(f"stopped after the --max-seconds bound of {max_seconds}s")

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    old_alarm = signal.signal(signal.SIGALRM, on_alarm)
    old_term = signal.signal(signal.SIGTERM, on_term)
    signal.alarm(max_seconds)
    try:
        yield bench
    except KeyboardInterrupt:
        print("\ninterrupted: cleaning up", file=sys.stderr)
        raise SystemExit(130) from None
    except Timeout as exc:
        print(f"\n{exc}: cleaning up", file=sys.stderr)
        raise SystemExit(124) from None
    finally:
        signal.alarm(0)
        bench.close()
        signal.signal(signal.SIGALRM, old_alarm)
        signal.signal(signal.SIGTERM, old_term)



def children_of(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (server workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    with contextlib.suppress(OSError):
        return [int(p) for p in children.read_text().split()]
    return []


def cpu_of(pids: list[int]) -> float:
    return sum(ProcStat(p).cpu() for p in pids)
