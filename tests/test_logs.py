"""Secrets never reach the logs: passwords, API tokens, session cookies, personal feed tokens,
attendee links and signed media grants, through a real server logging every request."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from kitlib.settings import Settings
from tests.conftest import start_server, stop_server

pytestmark = pytest.mark.slow
PASSWORD = "a-very-secret-password-42"


def test_no_secret_in_the_server_log(settings: Settings):
    server = start_server(settings.with_overrides(log_level="debug", index_worker=True,
                                                  media_worker=True))
    try:
        server.cli("user", "add", "staff@example.org", "--role", "staff", "--password-stdin",
                   stdin=PASSWORD + "\n")
        api_token = server.cli("token", "create", "staff@example.org")
        staff = {"Authorization": f"Bearer {api_token}"}
        with httpx.Client(base_url=server.url, timeout=30) as client:
            login_page = client.get("/login")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', login_page.text).group(1)
            signed_in = client.post("/login", data={"email": "staff@example.org",
                                                    "password": PASSWORD, "csrf_token": csrf})
            assert signed_in.status_code == 303
            session = client.cookies.get("kitlib_session")
            assert session
            client.post("/login", data={"email": "staff@example.org", "password": "wrong-" +
                                        PASSWORD, "csrf_token": csrf})
            made = client.post("/api/resources", headers=staff, data={
                "title": "Guide", "visibility": "attendees"},
                files={"file": ("g.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")}).json()
            webinar = client.post("/api/webinars", headers=staff, json={
                "title": "W", "starts_at": "2020-05-14T10:00:00+02:00",
                "recording": made["id"]}).json()
            link = client.post(f"/api/webinars/{webinar['id']}/attendees", headers={
                **staff, "Content-Type": "text/csv"}, content=b"A,a@example.org,L\n").json()[
                "attendees"][0]["link"]
            attend = httpx.URL(link).path
            page = client.get(attend)
            grant = re.search(r'grant=([^"&]+)', page.text).group(1)
            assert client.get(f"{made['files'][0]['url']}?grant={grant}").status_code == 200
            feed_token = client.post("/api/feed-token", headers=staff).json()["token"]
            deadline = time.monotonic() + 30
            while (feed := client.get("/feeds/resources.atom", params={"token": feed_token})
                   ).status_code == 503 and time.monotonic() < deadline:
                time.sleep(0.3)  # the new library's index is being built
            assert feed.status_code == 200
            client.get("/api/search", params={"q": "guide"}, headers={
                "Authorization": f"Bearer {attend.rsplit('/', 1)[1]}"})
        time.sleep(1.5)  # the access log and the batched download events are written
    finally:
        stop_server(server)
    log = (settings.data_dir / "server.log").read_text()
    assert "GET /feeds/resources.atom?token=[redacted]" in log  # the lines are there...
    for secret in (PASSWORD, api_token, session, feed_token, grant, attend.rsplit("/", 1)[1]):
        assert secret not in log, f"{secret[:6]}… is in the server log"  # ...the secrets not
