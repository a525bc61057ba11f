"""kitlib behind nginx (deploy/nginx-kitlib.conf): kitlib checks access, nginx sends the bytes.

Real processes on loopback ports: ``kitlib serve`` with KITLIB_ACCEL_REDIRECT, and Debian's
nginx running the shipped configuration file, so what docs/deploy.md tells people to install is
what is tested. Every download rule of the direct path must hold through the front too.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from kitlib.settings import Settings
from tests.conftest import LiveServer, free_port, running_server, staff_token

pytestmark = pytest.mark.slow

CONF = Path(__file__).parent.parent / "deploy" / "nginx-kitlib.conf"
PASSWORD = "a-long-password"


@dataclass
class Front:
    url: str
    kitlib: LiveServer
    token: str


def _nginx(prefix: Path, settings: Settings, kitlib_url: str) -> tuple[subprocess.Popen[bytes],
                                                                         str]:
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    site = CONF.read_text().replace("@LISTEN@", f"127.0.0.1:{port}") \
        .replace("@KITLIB@", kitlib_url.removeprefix("http://")) \
        .replace("@UPLOADS@", str(settings.uploads_dir))
    (prefix / "tmp").mkdir(parents=True)
    # As root, nginx's workers would drop to www-data, who cannot enter pytest's 0700 folders.
    user = "user root;" if os.geteuid() == 0 else ""
    temp = " ".join(f"{kind}_temp_path {prefix}/tmp/{kind};"
                    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (prefix / "nginx.conf").write_text(
        f"{user}\ndaemon off;\nworker_processes 1;\npid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/error.log warn;\nevents {{ worker_connections 256; }}\n"
        f"http {{\n access_log off;\n {temp}\n include /etc/nginx/mime.types;\n{site}\n}}\n")
    process = subprocess.Popen([exe, "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            log = prefix / "error.log"
            raise RuntimeError("nginx did not start: " +
                               (log.read_text() if log.exists() else "no log"))
        time.sleep(0.1)


@pytest.fixture
def front(settings: Settings, tmp_path: Path) -> Iterator[Front]:
    settings = settings.with_overrides(accel_redirect="/_kitlib/blobs/",
                                       forwarded_allow_ips="127.0.0.1")
    with running_server(settings) as kitlib:
        nginx, url = _nginx(tmp_path / "nginx", settings, kitlib.url)
        try:
            yield Front(url, kitlib, staff_token(kitlib))
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)


def _upload(front: Front, name: str, body: bytes, visibility: str = "public") -> dict[str, str]:
    response = httpx.post(f"{front.url}/api/resources", timeout=30,
                          headers={"Authorization": f"Bearer {front.token}"},
                          data={"title": name, "visibility": visibility},
                          files={"file": (name, body, "application/octet-stream")})
    assert response.status_code == 201, response.text
    file: dict[str, str] = response.json()["files"][0]
    return file


PDF = b"%PDF-1.4\n" + bytes(range(256)) * 4096  # 1 MiB and 9 bytes


def test_whole_file_through_nginx_has_kitlib_headers_and_every_byte(front: Front):
    file = _upload(front, "Webinaire été 2020.pdf", PDF)
    response = httpx.get(front.url + file["url"])
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == file["sha256"]
    headers = response.headers
    assert headers["etag"] == f'"{file["sha256"]}"'
    assert headers["content-type"] == "application/pdf"
    assert headers["content-length"] == str(len(PDF))
    assert headers["accept-ranges"] == "bytes"
    assert "filename*=UTF-8''Webinaire%20%C3%A9t%C3%A9%202020.pdf" in \
        headers["content-disposition"]
    assert headers["content-disposition"].startswith("inline;")
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"].startswith("sandbox")
    assert headers["x-frame-options"] == "SAMEORIGIN"
    # nginx's own validators are off: exactly one of each, kitlib's.
    assert len(headers.get_list("etag")) == len(headers.get_list("last-modified")) == 1
    assert "x-accel-redirect" not in headers
    direct = httpx.get(front.kitlib.url + file["url"], headers={"Range": "bytes=0-0"})
    assert headers["last-modified"] == direct.headers["last-modified"]


def test_every_range_form_through_nginx(front: Front):
    file = _upload(front, "ranges.pdf", PDF)
    url, size, etag = front.url + file["url"], len(PDF), f'"{file["sha256"]}"'

    def get(**headers: str) -> httpx.Response:
        return httpx.get(url, headers=headers)

    first = get(Range="bytes=0-99")
    assert first.status_code == 206 and first.content == PDF[:100]
    assert first.headers["content-range"] == f"bytes 0-99/{size}"
    assert first.headers["etag"] == etag
    suffix = get(Range="bytes=-500")
    assert suffix.status_code == 206 and suffix.content == PDF[-500:]
    open_ended = get(Range=f"bytes={size - 1000}-")
    assert open_ended.status_code == 206 and open_ended.content == PDF[-1000:]
    several = get(Range="bytes=0-9,100-109")
    assert several.status_code == 206
    assert several.headers["content-type"].startswith("multipart/byteranges")
    assert PDF[:10] in several.content and PDF[100:110] in several.content
    past = get(Range=f"bytes={size + 10}-")
    assert past.status_code == 416
    matching = get(Range="bytes=10-19", **{"If-Range": etag})
    assert matching.status_code == 206 and matching.content == PDF[10:20]
    stale = get(Range="bytes=10-19", **{"If-Range": '"an-older-version"'})
    assert stale.status_code == 200 and stale.content == PDF


def test_conditional_requests_get_304_and_head_no_body(front: Front):
    file = _upload(front, "conditional.pdf", PDF)
    url = front.url + file["url"]
    assert httpx.get(url, headers={"If-None-Match": f'"{file["sha256"]}"'}).status_code == 304
    later = format_datetime(datetime.now(UTC) + timedelta(minutes=5), usegmt=True)
    assert httpx.get(url, headers={"If-Modified-Since": later}).status_code == 304
    assert httpx.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    head = httpx.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(PDF))


def test_only_kitlib_s_validators_decide_a_304(front: Front):
    """A blob's file time is not its Last-Modified (a restore rewrites it): nginx must not
    answer 304 from the file time when kitlib found the client's copy out of date."""
    file = _upload(front, "restored.pdf", PDF)
    sha = file["sha256"]
    blob = front.kitlib.settings.uploads_dir / sha[:2] / sha[2:4] / sha
    old = datetime(2020, 5, 14, 10, 0, tzinfo=UTC)
    os.utime(blob, (old.timestamp(), old.timestamp()))
    response = httpx.get(front.url + file["url"],
                         headers={"If-Modified-Since": format_datetime(old, usegmt=True)})
    assert response.status_code == 200 and response.content == PDF


def test_access_is_kitlib_s_and_the_blob_location_is_closed(front: Front):
    file = _upload(front, "members.pdf", PDF, visibility="members")
    url = front.url + file["url"]
    refused = httpx.get(url, headers={"Accept": "application/json"})
    assert refused.status_code == 404 and refused.json()["error"]["message"] == "No such file."
    front.kitlib.cli("user", "add", "member@example.org", "--role", "member",
                     "--password-stdin", stdin=PASSWORD + "\n")
    member = front.kitlib.cli("token", "create", "member@example.org")
    allowed = httpx.get(url, headers={"Authorization": f"Bearer {member}"})
    assert allowed.status_code == 200 and allowed.content == PDF
    resource = httpx.get(f"{front.url}/api/resources",
                         headers={"Authorization": f"Bearer {front.token}"}).json()["items"][0]
    staff_only = httpx.patch(f"{front.url}/api/resources/{resource['id']}",
                             headers={"Authorization": f"Bearer {front.token}"},
                             json={"visibility": "staff"})
    assert staff_only.status_code == 200
    assert httpx.get(url, headers={"Authorization": f"Bearer {member}"}).status_code == 404
    sha = file["sha256"]
    for path in (f"/_kitlib/blobs/{sha[:2]}/{sha[2:4]}/{sha}", "/_kitlib/blobs/",
                 f"/_kitlib/blobs/../uploads/{sha[:2]}/{sha[2:4]}/{sha}"):
        assert httpx.get(front.url + path).status_code == 404, path


def test_a_missing_blob_is_kitlib_s_404_and_downloads_are_counted(front: Front):
    kept = _upload(front, "counted.pdf", PDF)
    assert httpx.get(front.url + kept["url"]).status_code == 200
    assert httpx.get(front.url + kept["url"], headers={"Range": "bytes=0-9"}).status_code == 206
    gone = _upload(front, "gone.pdf", PDF[:-1])
    sha = gone["sha256"]
    (front.kitlib.settings.uploads_dir / sha[:2] / sha[2:4] / sha).unlink()
    missing = httpx.get(front.url + gone["url"], headers={"Accept": "application/json"})
    assert missing.status_code == 404
    assert "missing from storage" in missing.json()["error"]["message"]
    deadline = time.monotonic() + 10
    while True:  # kitlib writes download events in batches, about once a second
        stats = httpx.get(f"{front.url}/api/stats",
                          headers={"Authorization": f"Bearer {front.token}"}).json()
        rows = {r["label"]: (r["downloads"], r["bytes"]) for r in stats["rows"]}
        if rows.get("counted.pdf") == (1, len(PDF) + 10) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert rows.get("counted.pdf") == (1, len(PDF) + 10)
    assert "gone.pdf" not in rows


def test_uploads_stream_through_nginx_with_kitlib_s_limit(front: Front, settings: Settings):
    auth = {"Authorization": f"Bearer {front.token}"}
    file = _upload(front, "recording.pdf", PDF)
    resource = httpx.get(f"{front.url}/api/resources", headers=auth).json()["items"][0]["id"]
    bigger = PDF * 20
    replaced = httpx.put(f"{front.url}/api/resources/{resource}/file", content=bigger,
                         timeout=60, headers={**auth, "Content-Disposition":
                                              'attachment; filename="recording.pdf"'})
    assert replaced.status_code == 200, replaced.text
    [new] = replaced.json()["files"]
    assert new["sha256"] == hashlib.sha256(bigger).hexdigest() != file["sha256"]
    assert httpx.get(front.url + new["url"]).content == bigger
    too_big = b"%PDF-1.4\n" + b"x" * (settings.max_upload_size + 1)
    response = httpx.post(f"{front.url}/api/resources", timeout=60, headers=auth,
                          data={"title": "Too big", "visibility": "public"},
                          files={"file": ("big.pdf", too_big, "application/pdf")})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert list(front.kitlib.settings.uploads_dir.rglob("*.part")) == []


def test_bundles_stream_and_resume_through_nginx(front: Front):
    """Bundles are kitlib's own streamed responses, not handed over: nginx must pass them
    through whole, with kitlib's length and validators, and pass a resumed range untouched."""
    for i in range(2):
        _upload(front, f"partie-é-{i}.pdf", PDF + bytes([i]) * 1000)
    url = f"{front.url}/api/bundles"
    whole = httpx.get(url, timeout=60)
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "application/zip"
    assert int(whole.headers["content-length"]) == len(whole.content) > 2 * len(PDF)
    etag = whole.headers["etag"]
    resumed = httpx.get(url, timeout=60, headers={"Range": "bytes=1000000-", "If-Range": etag})
    assert resumed.status_code == 206
    assert resumed.content == whole.content[1000000:]
