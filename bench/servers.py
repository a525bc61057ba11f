"""The servers a transfer benchmark measures: a throw-away kitlib (``kitlib serve`` with a staff
token) and a throw-away nginx (the reference, and the production front of docs/deploy.md)."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.harness import REPO, VENV_BIN, Bench, children_of, require, wait_http
from bench.live import free_port


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
