"""The HTML pages in-process: what each caller sees, escaping, CSRF, security headers, and
the staff area's answers to people who are not staff."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kitlib.jobs.worker import drain
from tests.test_access import catalogue
from tests.test_auth import sign_in

pytestmark = pytest.mark.anyio

HOSTILE = '<script>alert("x")</script>'


async def _pages(lib, items) -> list[str]:
    webinar = await lib.client.post("/api/webinars", headers=lib.staff, json={
        "title": "Webinaire", "starts_at": "2020-05-14T10:00:00+02:00",
        "recording": items["attendees"]["id"], "slides": items["public"]["id"]})
    assert webinar.status_code == 201, webinar.text
    kit = await lib.client.post("/api/kits", headers=lib.staff, json={
        "slug": "kit", "title": "Kit", "items": [i["id"] for i in items.values()]})
    assert kit.status_code == 201, kit.text
    await drain(lib.settings)
    return ["/", "/search?q=item", f"/resources/{items['public']['id']}", "/kits/kit",
            f"/webinars/{webinar.json()['id']}", "/login"]


async def test_pages_show_only_what_the_caller_may_open(lib):
    """GIVEN one item per visibility in a kit and a webinar WHEN each role reads the pages
    THEN only the items that role may open are named, and hidden ones answer 404."""
    items = await catalogue(lib)
    paths = await _pages(lib, items)
    for role, headers, sees in (("anonymous", {}, {"public"}),
                                ("member", lib.member, {"public", "members"})):
        text = ""
        for path in paths:
            page = await lib.client.get(path, headers=headers)
            assert page.status_code == 200, (role, path)
            text += page.text
        for visibility, item in items.items():
            assert (f"Item {visibility}" in text) == (visibility in sees), (role, visibility)
            answer = await lib.client.get(f"/resources/{item['id']}", headers=headers)
            assert answer.status_code == (200 if visibility in sees else 404)
    staff_text = "".join([(await lib.client.get(p, headers=lib.staff)).text for p in paths])
    assert all(f"Item {v}" in staff_text for v in items)


async def test_every_page_is_escaped_and_runs_no_inline_script(lib):
    created = await lib.client.post(
        "/api/resources", headers=lib.staff,
        data={"title": HOSTILE, "summary": HOSTILE, "tags": "x", "visibility": "public"},
        files={"file": ("a.pdf", b"%PDF-1.4\n" + b"x" * 100, "application/pdf")})
    assert created.status_code == 201
    await drain(lib.settings)
    for path in ("/", f"/resources/{created.json()['id']}", "/search?q=alert",
                 "/search?q=" + HOSTILE, "/login", "/nowhere"):
        page = await lib.client.get(path, headers={"Accept": "text/html"})
        assert HOSTILE not in page.text, path
        # Scripts only from files of our own (CSP script-src 'self', no 'unsafe-inline').
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page.text) == [], path
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, path


async def test_every_form_carries_the_csrf_token_and_posts_without_it_are_refused(lib):
    await sign_in(lib.client, "staff@example.org")
    token = lib.client.cookies["kitlib_csrf"]
    items = await catalogue(lib)
    for path in ("/", "/staff", "/staff/upload", f"/staff/resources/{items['public']['id']}"):
        page = await lib.client.get(path)
        forms = re.findall(r"<form[^>]*method=\"post\".*?</form>", page.text, flags=re.S)
        assert forms, path
        for form in forms:
            assert f'name="csrf_token" value="{token}"' in form, (path, form[:80])
    edit = f"/staff/resources/{items['public']['id']}"
    assert (await lib.client.post(edit, data={"title": "Forged"})).status_code == 403
    assert (await lib.client.post("/language", data={"language": "fr"})).status_code == 403
    saved = await lib.client.post(edit, data={"csrf_token": token, "title": "Renamed",
                                              "tags": "a, b", "published_at": "2020-05-01"})
    assert saved.status_code == 303
    resource = (await lib.client.get(f"/api/resources/{items['public']['id']}")).json()
    assert resource["title"] == "Renamed" and resource["tags"] == ["a", "b"]
    refused = await lib.client.post(edit, data={"csrf_token": token, "title": ""})
    assert refused.status_code == 400 and "title: is required" in refused.text


async def test_the_staff_area_sends_others_to_sign_in_or_refuses_them(lib):
    anonymous = await lib.client.get("/staff/upload")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=/staff/upload"
    assert (await lib.client.get("/staff", headers=lib.member)).status_code == 403
    page = await lib.client.get("/staff", headers=lib.staff)
    assert page.status_code == 200 and "<svg" in page.text


async def test_error_pages_keep_the_signed_in_header(lib):
    await sign_in(lib.client, "member@example.org")
    page = await lib.client.get("/resources/424242", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "member@example.org" in page.text
    token = lib.client.cookies["kitlib_csrf"]
    assert f'name="csrf_token" value="{token}"' in page.text


async def test_the_upload_form_works_without_javascript(lib):
    await sign_in(lib.client, "staff@example.org")
    token = lib.client.cookies["kitlib_csrf"]
    answer = await lib.client.post(
        "/staff/upload", data={"csrf_token": token, "title": "Sans JS", "kind": "document",
                               "language": "fr", "visibility": "members"},
        files={"file": ("guide.pdf", b"%PDF-1.4\n" + b"y" * 100, "application/pdf")})
    assert answer.status_code == 303
    assert re.fullmatch(r"/staff/resources/\d+\?created=1", answer.headers["location"])
    refused = await lib.client.post(
        "/staff/upload", headers={"Accept": "text/html"},
        data={"csrf_token": token, "title": "Programme"},
        files={"file": ("tool.sh", b"\x7fELF\x02\x01\x01" + b"\0" * 200,
                        "application/octet-stream")})
    assert refused.status_code == 415 and "not accepted" in refused.text


async def test_captions_come_from_the_transcript_for_those_who_may_read_it(lib):
    transcript = await lib.client.post(
        "/api/resources", headers=lib.staff,
        data={"title": "Transcription", "kind": "transcript", "visibility": "members"},
        files={"file": ("t.vtt", b"WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nBonjour <b>a</b>\n\n"
                        b"00:00:04.000 --> 00:00:06.000\nA --> B\n", "text/vtt")})
    assert transcript.status_code == 201, transcript.text
    await drain(lib.settings)
    webinar = await lib.client.post("/api/webinars", headers=lib.staff, json={
        "title": "W", "starts_at": "2020-05-14T10:00:00Z",
        "transcript": transcript.json()["id"]})
    url = f"/webinars/{webinar.json()['id']}/captions.vtt"
    assert (await lib.client.get(url)).status_code == 404
    vtt = await lib.client.get(url, headers=lib.member)
    assert vtt.status_code == 200 and vtt.headers["content-type"].startswith("text/vtt")
    assert vtt.text.startswith("WEBVTT\n")
    assert "00:00:01.000 --> 00:00:04.000" in vtt.text
    assert "<b>" not in vtt.text and "A → B" in vtt.text


async def test_search_page_facets_name_kits_and_webinars_and_combine(lib):
    items = await catalogue(lib)
    await _pages(lib, items)
    page = (await lib.client.get("/search?q=item")).text
    assert 'data-facet="webinar"' in page and ">Webinaire" in page
    assert 'data-facet="kit" data-value="kit"' in page
    narrowed = (await lib.client.get("/search?q=item&kit=kit&kind=document",
                                     headers=lib.staff)).text
    assert re.search(r'href="/search\?q=item&amp;kit=kit"[^>]*data-facet="kind"', narrowed)
    assert "/api/bundles?q=item&amp;kit=kit&amp;kind=document" in narrowed


async def test_webinar_page_links_chapters_and_transcript_into_the_recording(lib):
    """GIVEN a webinar with a real recording, chapters and a transcript WHEN a member who may
    play it opens the page THEN chapters and lines link to their second, and the player has
    a captions track; anonymous callers get neither player nor transcript."""
    demo = Path(__file__).resolve().parent.parent / "kitlib" / "demo"
    ids = {}
    for name, kind, media in (("webinaire-reprise-2020-05-14.mp4", "recording", "video/mp4"),
                              ("webinaire-reprise-2020-05-14.fr.vtt", "transcript", "text/vtt")):
        created = await lib.client.post(
            "/api/resources", headers=lib.staff,
            data={"title": name, "kind": kind, "visibility": "members"},
            files={"file": (name, (demo / name).read_bytes(), media)})
        assert created.status_code == 201, created.text
        ids[kind] = created.json()["id"]
    await drain(lib.settings)
    webinar = await lib.client.post("/api/webinars", headers=lib.staff, json={
        "title": "W", "starts_at": "2020-05-14T10:00:00Z", "recording": ids["recording"],
        "transcript": ids["transcript"], "chapters": [{"start": 0, "title": "Accueil"},
                                                      {"start": "0:07", "title": "Risques"}]})
    assert webinar.status_code == 201, webinar.text
    path = f"/webinars/{webinar.json()['id']}"
    page = (await lib.client.get(path + "?t=9", headers=lib.member)).text
    assert re.search(r'<a href="/files/\d+/webinaire-reprise-2020-05-14\.mp4#t=7" '
                     r'data-seek="7"><time>0:07</time> Risques</a>', page)
    assert '<track kind="captions" src="' + path + '/captions.vtt"' in page
    assert re.search(r'<source src="/files/\d+/[^"#]+\.mp4#t=9"', page)
    assert page.count('data-seek="') >= 2 + 5  # chapters and transcript lines
    anonymous = (await lib.client.get(path)).text
    assert "<video" not in anonymous and "data-seek" not in anonymous
