"""The search page in a browser: facets that combine, highlights, the bundle link."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

pytestmark = pytest.mark.browser


def _query(url: str) -> list[tuple[str, str]]:
    return sorted(parse_qsl(urlsplit(url).query))


def test_facets_combine_and_matches_are_highlighted(demo, open_tab):
    tab = open_tab(demo)
    page = tab.go("/search?q=covid")
    total = int(page.locator("#results-title").inner_text().split()[0])
    assert total >= 3
    assert page.locator(".hit mark").count() > 0  # the search service's <mark>, not escaped

    with page.expect_navigation():
        page.click(".facet a[data-facet=kind][data-value=document]")
    assert _query(page.url) == [("kind", "document"), ("q", "covid")]
    assert page.locator(".facet a[data-facet=kind][data-value=document]") \
        .get_attribute("aria-current") == "true"
    documents = int(page.locator("#results-title").inner_text().split()[0])
    assert 0 < documents <= total
    assert all(b.inner_text() == "Document" for b in page.locator(".hit .badge").all())

    with page.expect_navigation():
        page.click(".facet a[data-facet=language][data-value=en]")
    assert _query(page.url) == [("kind", "document"), ("language", "en"), ("q", "covid")]
    both = int(page.locator("#results-title").inner_text().split()[0])
    assert 0 < both < documents
    assert all(h.get_attribute("lang") == "en" for h in page.locator(".hit .snippet").all())
    # "Download these results" asks the bundle endpoint for exactly the same filters.
    bundle = page.locator("a[href^='/api/bundles']").get_attribute("href")
    assert _query(bundle) == _query(page.url)

    with page.expect_navigation():  # selecting a facet again removes it
        page.click(".facet a[data-facet=kind][data-value=document]")
    assert _query(page.url) == [("language", "en"), ("q", "covid")]


def test_did_you_mean_and_sorting_without_leaving_the_keyboard(demo, open_tab):
    tab = open_tab(demo)
    page = tab.go("/search?q=nettoyag")
    suggestion = page.locator(".did-you-mean a")
    assert suggestion.count() == 1
    word = suggestion.inner_text()
    assert word.startswith("nettoyag") and word != "nettoyag"
    with page.expect_navigation():
        suggestion.focus()
        page.keyboard.press("Enter")
    assert ("q", word) in _query(page.url)
    assert page.locator(".hit").count() > 0
    with page.expect_navigation():
        page.select_option("#sort", "newest")  # applied at once by suggest.js
    assert ("sort", "newest") in _query(page.url)


def test_suggestions_while_typing_and_a_visible_focus(demo, open_tab):
    tab = open_tab(demo)
    page = tab.go("/search")
    page.locator("#q").press_sequentially("nettoy", delay=30)
    options = page.locator("#q-suggestions option")
    options.first.wait_for(state="attached")
    assert any("nettoyage" in o.get_attribute("value").lower() for o in options.all())
    # The first Tab reaches the skip link, drawn with a visible outline.
    page = tab.go("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("""() => {
        const e = document.activeElement, style = getComputedStyle(e);
        return [e.className, style.outlineStyle, parseFloat(style.outlineWidth)]; }""")
    assert focused[0] == "skip" and focused[1] == "solid" and focused[2] >= 2
