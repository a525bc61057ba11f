"""Every page in a real browser: no serious or critical axe-core violation, in both
languages, and the language switch that remembers its choice."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from tests.browser.conftest import STAFF

pytestmark = pytest.mark.browser


def _ids(server) -> dict[str, str]:
    """Paths of one page of each kind in the demo library."""
    resources = httpx.get(f"{server.url}/api/resources", params={"per_page": 100}).json()
    pdf = next(r for r in resources["items"]
               if r["files"] and r["files"][0]["media_type"] == "application/pdf")
    webinar = httpx.get(f"{server.url}/api/webinars").json()["items"][0]
    kit = httpx.get(f"{server.url}/api/kits").json()["items"][0]
    return {"resource": f"/resources/{pdf['id']}", "webinar": f"/webinars/{webinar['id']}",
            "kit": f"/kits/{kit['slug']}", "edit": f"/staff/resources/{pdf['id']}"}


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
def test_no_serious_accessibility_violation_on_any_page(demo, open_tab, locale):
    paths = _ids(demo)
    tab = open_tab(demo, locale)
    public = ["/", "/search?q=reprise", "/search?q=nettoyage&kind=document",
              paths["resource"], paths["kit"], paths["webinar"], "/login"]
    found = {}
    for path in public:
        tab.go(path)
        found[path] = tab.axe()
    missing = tab.page.goto(demo.url + "/no-such-page")
    assert missing is not None and missing.status == 404
    found["404"] = tab.axe()
    tab.sign_in(STAFF)
    for path in ["/staff", "/staff/upload", paths["edit"]]:
        tab.go(path)
        found[path] = tab.axe()
    assert not any(found.values()), json.dumps(found, indent=1)


def test_language_follows_the_browser_and_the_switch_is_remembered(demo, open_tab):
    tab = open_tab(demo, "fr-FR")
    page = tab.go("/search?q=reprise")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("h1").inner_text() == "Rechercher"
    with page.expect_navigation():
        page.click("form.language button[value=en]")
    # Back on the same page, with the same query, now in English.
    assert re.search(r"/search\?q=reprise$", page.url)
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Search"
    tab.go("/")
    assert page.locator("h1").inner_text() == "Library"
    assert page.locator("html").get_attribute("lang") == "en"
    with page.expect_navigation():
        page.click("form.language button[value=fr]")
    assert page.locator("h1").inner_text() == "Bibliothèque"
