"""The webinar page in a browser: the recording plays and seeks with range requests, the
transcript follows and seeks, captions come from the transcript, and a transcript hit in
search opens the recording at its second."""

from __future__ import annotations

import httpx
import pytest

from tests.browser.conftest import STAFF, wait_for

pytestmark = pytest.mark.browser


def _webinar(server) -> dict:
    return httpx.get(f"{server.url}/api/webinars").json()["items"][0]


def _time(page) -> float:
    return float(page.evaluate("document.getElementById('player').currentTime"))


def test_play_then_seek_from_the_transcript(demo, open_tab):
    tab = open_tab(demo)
    tab.sign_in(STAFF)  # the demo recording is for staff and attendees
    media: list[int] = []
    tab.page.on("response", lambda r: media.append(r.status) if "/files/" in r.url else None)
    page = tab.go(f"/webinars/{_webinar(demo)['id']}")
    assert page.evaluate("document.createElement('video').canPlayType("
                         "'video/mp4; codecs=\"avc1.42E01E, mp4a.40.2\"')") != ""

    page.evaluate("const v = document.getElementById('player'); v.muted = true; v.play()")
    wait_for(lambda: _time(page) > 0.5, "the recording to play", timeout=20)

    lines = page.locator("#transcript a[data-seek]")
    assert lines.count() >= 5
    target = lines.nth(4)
    start = float(target.get_attribute("data-seek"))
    assert start > 5
    target.click()
    wait_for(lambda: start - 0.1 <= _time(page) < start + 3, "the seek to the clicked line",
             timeout=15)
    # The panel follows playback: the line being spoken is marked.
    wait_for(lambda: page.locator("#transcript a[aria-current=true]").count() == 1,
             "the current line to be marked", timeout=10)
    # The player fetched the recording with range requests, answered 206.
    assert 206 in media, media
    # Captions: the <track> is built from the transcript's cues.
    cues = page.evaluate("""() => new Promise(done => {
        const track = document.getElementById('player').textTracks[0];
        track.mode = 'hidden';
        const check = () => track.cues && track.cues.length ? done(track.cues.length)
                                                             : setTimeout(check, 100);
        check(); })""")
    assert cues == lines.count()


def test_a_transcript_hit_in_search_opens_the_recording_at_its_second(demo, open_tab):
    tab = open_tab(demo)
    tab.sign_in(STAFF)
    page = tab.go("/search?q=bienvenue")
    moment = page.locator(".hit .cues a").first
    href = moment.get_attribute("href")
    assert href.startswith("/webinars/") and "?t=" in href
    second = float(href.split("?t=")[1])
    with page.expect_navigation():
        moment.click()
    wait_for(lambda: abs(_time(page) - second) < 0.5, "the player at the hit's second",
             timeout=15)
