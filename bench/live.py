"""A real ``kitlib serve`` on a free loopback port, for the crash runs and the tests that need
a server: start it with given settings, reach its CLI with the same environment, stop it."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from kitlib.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    settings: Settings
    env: dict[str, str]
    process: subprocess.Popen[bytes]

    def cli(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run([sys.executable, "-m", "kitlib", *args], env=self.env,
                              input=stdin.encode() if stdin else None, capture_output=True,
                              check=True, timeout=120)
        return done.stdout.decode().strip()


def staff_token(server: LiveServer) -> str:
    """A staff account on a real server, and an API token for it."""
    server.cli("user", "add", "staff@example.org", "--role", "staff", "--password-stdin",
               stdin="a-long-password\n")
    return server.cli("token", "create", "staff@example.org")


def server_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITLIB_")}
    env.update({"KITLIB_DATA_DIR": str(settings.data_dir),
                "KITLIB_DATABASE_URL": settings.database_url,
                "KITLIB_SECRET_KEY": settings.secret_key,
                "KITLIB_MAX_UPLOAD_SIZE": str(settings.max_upload_size),
                "KITLIB_BODY_IDLE_TIMEOUT": str(settings.body_idle_timeout),
                "KITLIB_INDEX_WORKER": "true" if settings.index_worker else "false",
                "KITLIB_MEDIA_WORKER": "true" if settings.media_worker else "false",
                "KITLIB_LOG_LEVEL": settings.log_level})
    if settings.accel_redirect:
        env["KITLIB_ACCEL_REDIRECT"] = settings.accel_redirect
    if settings.forwarded_allow_ips:
        env["KITLIB_FORWARDED_ALLOW_IPS"] = settings.forwarded_allow_ips
    return env


def start_server(settings: Settings, workers: int = 1) -> LiveServer:
    """``kitlib serve`` on a free port for these settings, once it answers /healthz."""
    port = free_port()
    env = server_env(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log = (settings.data_dir / "server.log").open("ab")
    process = subprocess.Popen([sys.executable, "-m", "kitlib", "serve", "--port", str(port),
                                "--workers", str(workers)],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            log.close()
            raise RuntimeError("kitlib serve did not start:\n" +
                               (settings.data_dir / "server.log").read_text())
        time.sleep(0.1)
    return LiveServer(url, settings, env, process)


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()




@contextlib.contextmanager
def running_server(settings: Settings, workers: int = 1) -> Iterator[LiveServer]:
    """``kitlib serve`` on a free loopback port until the block ends."""
    server = start_server(settings, workers)
    try:
        yield server
    finally:
        stop_server(server)
