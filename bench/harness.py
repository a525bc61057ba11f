"""What the transfer benchmarks share: a throw-away kitlib, a throw-away nginx, samplers, docs.

Everything lives under one temporary folder and listens on 127.0.0.1 only. Processes are
started in their own session and stopped by process group when the benchmark ends, on an
error, on Ctrl-C or on SIGTERM/SIGALRM (the time bound), so nothing is left behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = REPO / ".venv" / "bin"
DOCS = REPO / "docs" / "benchmarks.md"
# For benchmarks of transfers: the search worker would extract text from the test file (a
# PDF header on random bytes) in the background, on the same 2 cores as the measurement.
NO_SEARCH_WORKER = {"KITLIB_SEARCH_WORKER": "false"}
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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



def _curl(argv: list[str], what: str) -> str:
    """Run one curl transfer; its stdout, or an error naming what failed."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=660)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed: {done.stdout.strip()} {done.stderr.strip()}")
    return done.stdout

class Kitlib:
    """A kitlib under ``bench.root/kitlib``, with a staff token, served by ``kitlib serve``."""

    def __init__(
        self,
        bench: Bench,
        extra_env: dict[str, str] | None = None,
        workers: int = 1,
        prepare: Callable[[Kitlib], None] | None = None,
    ) -> None:
        """``prepare`` runs after the staff token is made and before the server starts."""
        self.bench = bench
        self.data = bench.root / "kitlib"
        self.data.mkdir()
        self.env = {
            **os.environ,
            "KITLIB_DATA_DIR": str(self.data),
            "KITLIB_LOG_LEVEL": "warning",
            **(extra_env or {}),
        }
        self.exe = str(VENV_BIN / "kitlib")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.cli("migrate")
        self.cli(
            "user",
            "add",
            "staff@example.org",
            "--role",
            "staff",
            "--password-stdin",
            stdin="a-long-benchmark-password\n",
        )
        self.token = self.cli("token", "create", "staff@example.org").strip().splitlines()[-1]
        if prepare is not None:
            prepare(self)
        self.proc = bench.spawn(
            [self.exe, "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(workers)],
            env=self.env,
            log="kitlib.log",
        )
        wait_http(f"{self.base}/healthz")
        self.pid = self.proc.pid  # `kitlib serve` runs uvicorn (or its supervisor) in this process

    def pids(self) -> list[int]:
        """The serving processes: this one and, with ``--workers N > 1``, its workers."""
        return [self.pid, *children_of(self.pid)]

    def cli(self, *args: str, stdin: str | None = None, timeout: float = 120) -> str:
        """Run ``kitlib ARGS`` on this library; its stdout."""
        done = subprocess.run(
            [self.exe, *args],
            env=self.env,
            input=stdin,
            text=True,
            capture_output=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"kitlib {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    @property
    def uploads(self) -> Path:
        return self.data / "uploads"

    def upload(self, path: Path, title: str = "bench") -> tuple[dict[str, Any], float]:
        """POST /api/resources with curl streaming the file from disk; (JSON, seconds)."""
        argv = [
            "curl",
            "-sS",
            "--fail-with-body",
            "--max-time",
            "600",
            "-o",
            "-",
            "-w",
            "\n%{time_total}",
            "-H",
            f"Authorization: Bearer {self.token}",
            "-F",
            f"file=@{path};type=application/pdf;filename=bench.pdf",
            "-F",
            f"title={title}",
            "-F",
            "kind=document",
            "-F",
            "visibility=public",
            "-F",
            "language=en",
            f"{self.base}/api/resources",
        ]
        body, _, seconds = _curl(argv, "upload").rpartition("\n")
        return json.loads(body), float(seconds)

    def put_file(self, resource_id: int, path: Path) -> float:
        """PUT /api/resources/{id}/file with the raw bytes; seconds."""
        argv = [
            "curl",
            "-sS",
            "--fail-with-body",
            "--max-time",
            "600",
            "-o",
            "/dev/null",
            "-w",
            "%{time_total}",
            "-X",
            "PUT",
            "-T",
            str(path),
            "-H",
            f"Authorization: Bearer {self.token}",
            "-H",
            "Content-Type: application/octet-stream",
            "-H",
            'Content-Disposition: attachment; filename="bench.pdf"',
            f"{self.base}/api/resources/{resource_id}/file",
        ]
        return float(_curl(argv, "PUT"))

    def delete(self, resource_id: int) -> None:
        req = urllib.request.Request(
            f"{self.base}/api/resources/{resource_id}",
            method="DELETE",
            headers={"Authorization": f"Bearer {self.token}"},
        )
        with urllib.request.urlopen(req, timeout=60):
            pass


class Nginx:
    """nginx on a loopback port serving ``root`` with its own config (no system service)."""

    def __init__(self, bench: Bench, root: Path, workers: int = 1,
                 front_of: str | None = None) -> None:
        """With ``front_of`` (a kitlib's host:port), also serve deploy/nginx-kitlib.conf, as
        docs/deploy.md installs it, on ``front_base``: kitlib behind nginx."""
        exe = require("nginx", "nginx")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.front_base = ""
        front = ""
        if front_of is not None:
            front_port = free_port()
            self.front_base = f"http://127.0.0.1:{front_port}"
            front = (REPO / "deploy" / "nginx-kitlib.conf").read_text() \
                .replace("@LISTEN@", f"127.0.0.1:{front_port}") \
                .replace("@KITLIB@", front_of).replace("@UPLOADS@", str(root))
        prefix = bench.root / "nginx"
        (prefix / "tmp").mkdir(parents=True)
        user = "user root;" if os.geteuid() == 0 else ""  # the data folder is private (0700)
        conf = prefix / "nginx.conf"
        conf.write_text(f"""
{user}
daemon off;
worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    default_type application/pdf;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    server {{
        listen 127.0.0.1:{self.port};
        root {root};
        location = /healthz {{ return 204; }}
    }}
{front}
}}
""")
        self.proc = bench.spawn([exe, "-p", str(prefix), "-c", str(conf)], log="nginx.log")
        wait_http(f"{self.base}/healthz")

    def worker_pids(self) -> list[int]:
        return children_of(self.proc.pid)


def children_of(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (server workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    with contextlib.suppress(OSError):
        return [int(p) for p in children.read_text().split()]
    return []


def cpu_of(pids: list[int]) -> float:
    return sum(ProcStat(p).cpu() for p in pids)


def machine_note() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PHYS_PAGES") * PAGE
    return (
        f"{os.cpu_count()} cores ({cpu}), {human(mem)} RAM, Linux {platform.release()}, "
        f"Python {platform.python_version()}; client and servers share the same cores"
    )


def today() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def update_docs(heading: str, body: str) -> None:
    """Replace (or append) the ``## heading`` section of docs/benchmarks.md."""
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
    section = f"## {heading}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    DOCS.write_text(text, encoding="utf-8")
    print(f"wrote the '## {heading}' section of {DOCS.relative_to(REPO)}")


def table(rows: list[list[str]]) -> str:
    """A Markdown table (the first row is the header), readable as plain text too."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
