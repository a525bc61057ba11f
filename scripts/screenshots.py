#!/usr/bin/env python3
"""Regenerate the screenshots in docs/screenshots/ from the demo library.

Run from the repository root after ``make install``: ``.venv/bin/python scripts/screenshots.py``
(or ``make screenshots``). It loads the demo library into a temporary folder, serves it with
``kitlib serve`` on a free loopback port, and photographs the home page (French), a search
(English), the webinar page (French, signed in as staff: the demo recording is for staff
and attendees) and the staff upload page with one finished upload, in Debian's Chromium.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
STAFF, PASSWORD = "staff@example.org", "screenshots only, never a real account"
SAMPLE = ROOT / "tests" / "fixtures" / "docs" / "en_gowning_guide.pdf"


def kitlib(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([sys.executable, "-m", "kitlib", *args], env=env, check=True,
                          input=stdin, capture_output=True, text=True, timeout=300)
    return done.stdout.strip()


def wait_until(check: object, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            sys.exit(f"timed out waiting for {what}")
        time.sleep(0.5)


@contextmanager
def demo_server(folder: Path) -> Iterator[tuple[str, dict[str, str]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITLIB_")}
    env.update(KITLIB_DATA_DIR=str(folder), KITLIB_LOG_LEVEL="warning")
    kitlib(env, "migrate")
    kitlib(env, "demo")
    kitlib(env, "user", "add", STAFF, "--role", "staff", "--password-stdin", stdin=PASSWORD)
    token = kitlib(env, "token", "create", STAFF)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    log = (folder / "server.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "kitlib", "serve", "--port", str(port)],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        def indexed() -> bool:
            try:
                answer = httpx.get(f"{url}/api/search", params={"q": "bienvenue"},
                                   headers={"Authorization": f"Bearer {token}"}, timeout=5)
            except httpx.HTTPError:
                return False
            return answer.status_code == 200 and answer.json()["total"] > 0

        wait_until(indexed, "the demo library's search index")
        yield url, env
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def sign_in(page: Page, url: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#email", STAFF)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kitlib-shots-") as folder, \
            demo_server(Path(folder)) as (url, _env), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        size = {"width": 1280, "height": 860}
        french = browser.new_context(locale="fr-FR", viewport=size).new_page()
        english = browser.new_context(locale="en-GB", viewport=size).new_page()

        french.goto(url + "/")
        french.screenshot(path=OUT / "home.png")

        english.goto(url + "/search?q=covid+reprise")
        english.screenshot(path=OUT / "search.png")

        sign_in(french, url)
        webinar = httpx.get(f"{url}/api/webinars").json()["items"][0]
        french.goto(f"{url}/webinars/{webinar['id']}?t=9")
        french.wait_for_function("document.getElementById('player').readyState >= 2")
        french.wait_for_function(
            "document.querySelector('#transcript a[aria-current]') !== null")
        french.screenshot(path=OUT / "webinar.png")

        sign_in(english, url)
        english.goto(url + "/staff/upload")
        english.set_input_files("#file", SAMPLE)
        english.click("#upload-form button[type=submit]")
        english.wait_for_selector("#upload-queue li[data-state=done]")
        english.screenshot(path=OUT / "staff-upload.png")
        browser.close()
    for name in ("home", "search", "webinar", "staff-upload"):
        print(OUT / f"{name}.png")


if __name__ == "__main__":
    main()
