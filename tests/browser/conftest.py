"""Browser tests: Playwright for Python driving Debian's Chromium against a real server.

One browser for all of them (the machine has two cores), and one demo library served by
``kitlib serve`` for the tests that only read; each test gets a fresh browser context
(cookies, language) and fails on any Content-Security-Policy violation its pages report.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

from kitlib.settings import Settings
from tests.conftest import PASSWORD, LiveServer, fresh_database, running_server

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")  # Debian's, installed by scripts/system-deps
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run",
                 # Lets a test start a muted recording without a user gesture.
                 "--autoplay-policy=no-user-gesture-required"]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"  # npm ci, from make install
STAFF = "staff@example.org"
MEMBER = "member@example.org"


# Package scope, not session: Playwright's sync API keeps an event loop running in the main
# thread while it is open, and the anyio tests that run after this package need it closed.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/system-deps (Debian package chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def wait_for(condition: Any, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        if result := condition():
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.25)


def _searchable(server: LiveServer, query: str, token: str) -> bool:
    answer = httpx.get(f"{server.url}/api/search", params={"q": query}, timeout=10,
                       headers={"Authorization": f"Bearer {token}"})
    return answer.status_code == 200 and answer.json()["total"] > 0


@pytest.fixture(scope="package")
def demo(template_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The demo library (kitlib demo) on a real server, indexed, with a staff and a member."""
    root = tmp_path_factory.mktemp("demo")
    with fresh_database(template_db, root) as url:
        settings = Settings.for_root(root, database_url=url, max_upload_size=200 * 1024**2)
        with running_server(settings) as server:
            server.cli("demo")
            for email, role in ((STAFF, "staff"), (MEMBER, "member")):
                server.cli("user", "add", email, "--role", role, "--password-stdin",
                           stdin=PASSWORD + "\n")
            token = server.cli("token", "create", STAFF)
            # The worker extracts and indexes in the background: wait for the transcript
            # (open to staff and attendees only) and a public document.
            for word in ("bienvenue", "nettoyage"):
                wait_for(lambda w=word: _searchable(server, w, token), f"{word!r} in the index")
            yield server


@dataclass
class Tab:
    """A page in its own browser context, and what it reported."""

    page: Page
    context: BrowserContext
    base: str
    csp_violations: list[str] = field(default_factory=list)

    def go(self, path: str) -> Page:
        response = self.page.goto(self.base + path)
        assert response is not None and response.ok, f"{path}: {response and response.status}"
        return self.page

    def sign_in(self, email: str) -> None:
        self.go("/login")
        self.page.fill("#email", email)
        self.page.fill("#password", PASSWORD)
        with self.page.expect_navigation():
            self.page.click("main button[type=submit]")
        assert self.page.locator("header .who").inner_text() == email

    def axe(self) -> list[dict[str, Any]]:
        """Serious and critical axe-core violations on the current page."""
        # Injected through the DevTools protocol, which the page's CSP does not govern.
        self.page.evaluate(AXE.read_text(encoding="utf-8"))
        found = self.page.evaluate(
            "axe.run(document, {resultTypes: ['violations'], iframes: false})")
        assert found["testEngine"]["name"] == "axe-core" and found["passes"], "axe did not run"
        return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                 "nodes": [n["target"] for n in v["nodes"]][:5]}
                for v in found["violations"] if v["impact"] in ("serious", "critical")]


@pytest.fixture
def open_tab(browser: Browser) -> Iterator[Any]:
    """open_tab(server, locale="en-GB") -> Tab; every tab is closed after the test."""
    tabs: list[Tab] = []

    def factory(server: LiveServer, locale: str = "en-GB") -> Tab:
        if not AXE.exists():
            pytest.fail(f"{AXE} is missing: run make install (npm ci)")
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        tab = Tab(context.new_page(), context, server.url)

        def on_console(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text:
                tab.csp_violations.append(message.text)

        tab.page.on("console", on_console)
        tabs.append(tab)
        return tab

    yield factory
    for tab in tabs:
        tab.context.close()
    violations = [v for tab in tabs for v in tab.csp_violations]
    assert not violations, json.dumps(violations, indent=1)
