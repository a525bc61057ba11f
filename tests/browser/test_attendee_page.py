"""An attendee's personal link in a browser: the landing page, then the webinar page where the
recording plays through signed media URLs (no sign-in, no header), the transcript seeks, and
the page says so plainly once the link is revoked."""

from __future__ import annotations

import httpx
import pytest

from tests.browser.conftest import STAFF, wait_for

pytestmark = pytest.mark.browser


def _time(page) -> float:
    return float(page.evaluate("document.getElementById('player').currentTime"))


def test_the_attendee_link_opens_the_webinar_and_plays_it(demo, open_tab):
    token = demo.cli("token", "create", STAFF)
    staff = {"Authorization": f"Bearer {token}"}
    webinar = httpx.get(f"{demo.url}/api/webinars").json()["items"][0]
    imported = httpx.post(f"{demo.url}/api/webinars/{webinar['id']}/attendees", headers={
        **staff, "Content-Type": "text/csv"}, content="Zoé Martin,zoe@example.org,Lab\n"
        .encode())
    attendee = next(a for a in imported.json()["attendees"] if a["email"] == "zoe@example.org")
    link = httpx.URL(attendee["link"]).path

    tab = open_tab(demo, locale="fr-FR")
    media: list[tuple[int, str]] = []
    tab.page.on("response", lambda r: media.append((r.status, r.url)) if "/files/" in r.url
                else None)
    page = tab.go(link)
    assert "Bienvenue, Zoé Martin." in page.inner_text("main")
    assert tab.axe() == []
    with page.expect_navigation():
        page.click("text=Voir le webinaire")
    assert page.url.endswith(f"/webinars/{webinar['id']}")
    page.evaluate("const v = document.getElementById('player'); v.muted = true; v.play()")
    wait_for(lambda: _time(page) > 0.5, "the recording to play", timeout=20)
    lines = page.locator("#transcript a[data-seek]")
    target = lines.nth(3)
    start = float(target.get_attribute("data-seek"))
    target.click()
    wait_for(lambda: start - 0.1 <= _time(page) < start + 3, "the seek", timeout=15)
    played = [(status, url) for status, url in media if "grant=" in url]
    assert any(status == 206 for status, _ in played), media

    httpx.patch(f"{demo.url}/api/webinars/{webinar['id']}/attendees/{attendee['id']}",
                headers=staff, json={"revoked": True})
    response = page.goto(demo.url + link)
    assert response is not None and response.status == 403
    assert "Ce lien d’accès a été révoqué par les organisateurs." in page.inner_text("main")
