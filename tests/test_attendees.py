"""Webinar attendees: registration lists as spreadsheets export them, personal links (expiry,
revocation, download limits, forgeries), signed media URLs, and usage for staff."""

from __future__ import annotations

import asyncio
import csv
import io
import time
import zipfile
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeSerializer

from kitlib.access.links import ATTENDEE_COOKIE
from kitlib.jobs.worker import drain
from kitlib.models import Attendee, AttendeeDownload

pytestmark = pytest.mark.anyio


async def upload(lib, title: str, visibility: str, body: bytes, name: str = "doc.pdf",
                 kind: str = "document") -> dict:
    response = await lib.client.post(
        "/api/resources", headers=lib.staff,
        data={"title": title, "visibility": visibility, "kind": kind},
        files={"file": (name, b"%PDF-1.4\n" + body + b"\n%%EOF\n", "application/pdf")})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
async def two_webinars(lib):
    """GIVEN webinars A and B, each with attendee-only recording and slides, a members-only
    report and a public guide, and one attendee registered for A and one for B."""
    made: dict = {}
    for code in ("A", "B"):
        recording = await upload(lib, f"Enregistrement pandémie {code}", "attendees",
                                 b"video " * 50, f"webinaire-{code}.pdf", "recording")
        slides = await upload(lib, f"Diapositives pandémie {code}", "attendees", b"slides",
                              f"slides-{code}.pdf", "slides")
        webinar = await lib.client.post("/api/webinars", headers=lib.staff, json={
            "title": f"Webinar {code}", "starts_at": "2020-05-14T10:00:00+02:00",
            "recording": recording["id"], "slides": slides["id"]})
        assert webinar.status_code == 201
        made[code] = {"webinar": webinar.json()["id"], "recording": recording, "slides": slides}
    made["members"] = await upload(lib, "Rapport pandémie réservé", "members", b"members")
    made["public"] = await upload(lib, "Guide pandémie public", "public", b"public")
    for code in ("A", "B"):
        report = await import_csv(lib, made[code]["webinar"],
                                  f"name,email,organisation\nAnne {code},anne.{code}@example.org,"
                                  "Lab\n".encode())
        made[code]["link"] = report["attendees"][0]["link"]
        made[code]["attendee"] = report["attendees"][0]["id"]
    await drain(lib.settings)
    return made


async def import_csv(lib, webinar: int, body: bytes, **params) -> dict:
    response = await lib.client.post(f"/api/webinars/{webinar}/attendees", headers={
        **lib.staff, "Content-Type": "text/csv"}, content=body, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def path_of(link: str) -> str:
    return httpx.URL(link).path


def token_of(link: str) -> str:
    return path_of(link).rsplit("/", 1)[1]


async def webinar_id(lib) -> int:
    response = await lib.client.post("/api/webinars", headers=lib.staff, json={
        "title": "Reprise d'activité", "starts_at": "2020-05-14T10:00:00+02:00"})
    return int(response.json()["id"])


# -- registration lists ----------------------------------------------------------------------

async def test_excel_export_in_cp1252_with_semicolons_and_french_headers(lib):
    wid = await webinar_id(lib)
    body = ("Nom;Courriel;Société\r\n"
            "Hélène Dupré;Helene.Dupre@Example.FR;Clinique Saint-Étienne\r\n"
            ";sans-nom@example.org;\r\n"
            "Jean Martin;pas-un-email;Usine\r\n"
            "\r\n"
            "Jeanne Petit;;Labo\r\n"
            "H. Dupré (doublon);helene.dupre@example.fr;Clinique\r\n").encode("cp1252")
    report = await import_csv(lib, wid, body)
    assert report["created"] == 2 and report["updated"] == 0
    assert [(r["line"], r["reason"]) for r in report["rejected"]] == [
        (4, "'pas-un-email' is not an email address"),
        (6, "no email address"),
        (7, "same email as line 2")]
    people = {a["email"]: a for a in report["attendees"]}
    assert people["helene.dupre@example.fr"]["name"] == "Hélène Dupré"
    assert people["helene.dupre@example.fr"]["organisation"] == "Clinique Saint-Étienne"
    assert people["sans-nom@example.org"]["name"] == ""


async def test_utf8_bom_comma_and_no_header_row(lib):
    wid = await webinar_id(lib)
    body = "\ufeffZoé Lefèvre,zoe@example.org,École des Mines\nLi Wei,li@example.org,\n"
    report = await import_csv(lib, wid, body.encode("utf-8"))
    assert report["created"] == 2 and report["rejected"] == []
    names = sorted(a["name"] for a in report["attendees"])
    assert names == ["Li Wei", "Zoé Lefèvre"]


async def test_utf16_tab_separated_export_with_first_and_last_name_columns(lib):
    wid = await webinar_id(lib)
    body = "First name\tLast name\tE-mail\tCompany\nAmélie\tNoël\tamelie@example.org\tACME\n"
    report = await import_csv(lib, wid, b"\xff\xfe" + body.encode("utf-16-le"))
    assert [(a["name"], a["organisation"]) for a in report["attendees"]] == [("Amélie Noël",
                                                                             "ACME")]


async def test_a_list_imported_again_updates_without_breaking_sent_links(lib):
    wid = await webinar_id(lib)
    first = await import_csv(lib, wid, b"A,a@example.org,Old\n")
    second = await import_csv(lib, wid, b"Anne,A@example.org,New\n")
    assert (second["created"], second["updated"]) == (0, 1)
    assert second["attendees"][0]["organisation"] == "New"
    assert second["attendees"][0]["link"] == first["attendees"][0]["link"]


async def test_multipart_form_upload_with_options(lib):
    wid = await webinar_id(lib)
    response = await lib.client.post(
        f"/api/webinars/{wid}/attendees", headers=lib.staff,
        data={"download_limit": "3", "valid_days": "2"},
        files={"file": ("inscrits.csv", b"name;email\nA;a@example.org\n", "text/csv")})
    assert response.status_code == 200, response.text
    attendee = response.json()["attendees"][0]
    assert attendee["download_limit"] == 3
    expires = datetime.fromisoformat(attendee["expires_at"])
    assert timedelta(days=1, hours=23) < expires - datetime.now(UTC) <= timedelta(days=2)


@pytest.mark.parametrize(("body", "content_type", "status", "needle"), [
    (b"", "text/csv", 400, "empty"),
    (b"\x00\x01\x02PK\x03\x04binary", "text/csv", 400, "not a text"),
    (b"a,b\n", "application/json", 415, "text/csv"),
    (b'name,email\n"unterminated,a@example.org\n', "text/csv", 200, None),
])
async def test_bad_lists_are_clear_4xx(lib, body, content_type, status, needle):
    wid = await webinar_id(lib)
    response = await lib.client.post(f"/api/webinars/{wid}/attendees", content=body,
                                     headers={**lib.staff, "Content-Type": content_type})
    assert response.status_code == status, response.text
    if needle:
        assert needle in response.json()["error"]["message"]


@pytest.mark.parametrize(("params", "field"), [({"download_limit": "0"}, "download_limit"),
                                               ({"download_limit": "x"}, "download_limit"),
                                               ({"valid_days": "-1"}, "valid_days")])
async def test_bad_options_name_the_field(lib, params, field):
    wid = await webinar_id(lib)
    response = await lib.client.post(f"/api/webinars/{wid}/attendees", params=params,
                                     content=b"a,a@example.org\n",
                                     headers={**lib.staff, "Content-Type": "text/csv"})
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(field)


async def test_only_staff_manage_attendees(lib):
    wid = await webinar_id(lib)
    url = f"/api/webinars/{wid}/attendees"
    csv_headers = {"Content-Type": "text/csv"}
    assert (await lib.client.post(url, content=b"a,a@example.org", headers=csv_headers)) \
        .status_code == 401
    assert (await lib.client.post(url, content=b"a,a@example.org",
                                  headers={**lib.member, **csv_headers})).status_code == 403
    assert (await lib.client.get(url, headers=lib.member)).status_code == 403
    assert (await lib.client.get(f"/api/webinars/{wid}/usage")).status_code == 401
    assert (await lib.client.get("/api/webinars/999/attendees", headers=lib.staff)) \
        .status_code == 404


# -- what a link opens --------------------------------------------------------------------------

async def test_link_of_webinar_a_opens_a_and_nothing_of_b_or_members(lib, two_webinars):
    a, b = two_webinars["A"], two_webinars["B"]
    landing = await lib.client.get(path_of(a["link"]))
    assert landing.status_code == 200
    assert "Webinar A" in landing.text and "Enregistrement pandémie A" in landing.text
    assert landing.headers["referrer-policy"] == "no-referrer"
    assert lib.client.cookies.get(ATTENDEE_COOKIE)
    # With the link's cookie: A's parts open, B's and the members-only report do not.
    assert (await lib.client.get(a["recording"]["files"][0]["url"])).status_code == 200
    assert (await lib.client.get(a["slides"]["files"][0]["url"])).status_code == 200
    assert (await lib.client.get(f"/api/resources/{a['recording']['id']}")).status_code == 200
    for hidden in (b["recording"], b["slides"], two_webinars["members"]):
        assert (await lib.client.get(hidden["files"][0]["url"])).status_code == 404
        assert (await lib.client.get(f"/api/resources/{hidden['id']}")).status_code == 404
    found = (await lib.client.get("/api/search", params={"q": "pandémie"})).json()
    titles = sorted(h["title"] for h in found["hits"])
    assert titles == ["Diapositives pandémie A", "Enregistrement pandémie A",
                      "Guide pandémie public"]
    assert found["total"] == 3
    suggested = (await lib.client.get("/api/suggest", params={"q": "Enreg"})).json()
    assert [s["text"] for s in suggested["suggestions"] if s["kind"] == "title"] == [
        "Enregistrement pandémie A"]
    webinar_b = (await lib.client.get(f"/api/webinars/{b['webinar']}")).json()
    assert webinar_b["recording"] is None and webinar_b["slides"] is None


async def test_link_as_bearer_token_for_api_clients(lib, two_webinars):
    a, b = two_webinars["A"], two_webinars["B"]
    headers = {"Authorization": f"Bearer {token_of(a['link'])}"}
    assert (await lib.client.get(a["recording"]["files"][0]["url"], headers=headers)) \
        .status_code == 200
    assert (await lib.client.get(b["recording"]["files"][0]["url"], headers=headers)) \
        .status_code == 404
    # An attendee link opens files, never staff work.
    assert (await lib.client.get("/api/stats", headers=headers)).status_code == 401
    assert (await lib.client.delete(f"/api/resources/{a['recording']['id']}",
                                    headers=headers)).status_code == 401


async def test_signed_media_urls_work_without_cookie_and_only_for_their_file(lib, two_webinars):
    a = two_webinars["A"]
    page = (await lib.client.get(path_of(a["link"]))).text
    lib.client.cookies.clear()
    marker = f'{a["recording"]["files"][0]["url"]}?grant='
    start = page.index(marker)
    media = page[start:page.index('"', start)].replace("&amp;", "&")
    played = await lib.client.get(media, headers={"Range": "bytes=0-9"})
    assert played.status_code == 206
    grant = media.split("grant=", 1)[1]
    other = await lib.client.get(f"{a['slides']['files'][0]['url']}?grant={grant}")
    assert other.status_code == 403 and "another file" in other.text
    tampered = await lib.client.get(media[:-10] + ("aaa" if media[-10:-7] != "aaa" else "bbb")
                                    + media[-7:])
    assert tampered.status_code == 403
    # A grant signed long ago (here: with the right key, 5 hours back) has expired.
    secret = lib.settings.secret_key

    class Old(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 5 * 3600

    value = grant.split(".")[0:3]
    old = Old(secret, salt="kitlib.media-grant").sign(".".join(value)).decode()
    expired = await lib.client.get(f"{a['recording']['files'][0]['url']}?grant={old}")
    assert expired.status_code == 403 and "expired" in expired.text
    # Without a grant or cookie, the attendee-only file is simply not there.
    assert (await lib.client.get(a["recording"]["files"][0]["url"])).status_code == 404


@pytest.mark.parametrize("mangle", ["truncate", "flip", "garbage", "prefix", "foreign-key",
                                    "wrong-shape", "other-webinar"])
async def test_forged_and_tampered_links_are_403_with_a_message(lib, two_webinars, mangle):
    token = token_of(two_webinars["A"]["link"])
    serializer = URLSafeSerializer(lib.settings.secret_key, salt="kitlib.attendee-link")
    far = int(time.time()) + 86400
    forged = {
        "truncate": token[:-4],
        # Not the last character: its low bits are base64 padding, ignored by decoders.
        "flip": token[:-10] + ("A" if token[-10] != "A" else "B") + token[-9:],
        "garbage": "ka_" + "x" * 60,
        "prefix": "kl_" + token[3:],
        "foreign-key": "ka_" + URLSafeSerializer("another key", salt="kitlib.attendee-link")
        .dumps([two_webinars["A"]["attendee"], two_webinars["A"]["webinar"], 1, far]),
        "wrong-shape": "ka_" + serializer.dumps({"attendee": 1}),
        # Attendee of A, signed correctly, but naming webinar B: the row says otherwise.
        "other-webinar": "ka_" + serializer.dumps([two_webinars["A"]["attendee"],
                                                   two_webinars["B"]["webinar"], 1, far]),
    }[mangle]
    landing = await lib.client.get(f"/attend/{forged}", headers={"Accept": "application/json"})
    assert landing.status_code == 403
    assert landing.json()["error"]["message"]
    bearer = await lib.client.get("/api/search", headers={"Authorization": f"Bearer {forged}"})
    assert bearer.status_code in (401, 403)
    lib.client.cookies.set(ATTENDEE_COOKIE, forged)
    hidden = await lib.client.get(two_webinars["A"]["recording"]["files"][0]["url"])
    assert hidden.status_code == 404


async def test_expired_link_is_refused_and_its_cookie_opens_nothing(lib, two_webinars):
    a = two_webinars["A"]
    assert (await lib.client.get(path_of(a["link"]))).status_code == 200
    await Attendee.filter(id=a["attendee"]).update(
        expires_at=datetime.now(UTC) - timedelta(minutes=1))
    again = await lib.client.get(path_of(a["link"]), headers={"Accept": "application/json"})
    assert again.status_code == 403 and "expired" in again.json()["error"]["message"]
    assert (await lib.client.get(a["recording"]["files"][0]["url"])).status_code == 404


async def test_revoked_link_and_a_new_link_replacing_the_old(lib, two_webinars):
    a = two_webinars["A"]
    url = f"/api/webinars/{a['webinar']}/attendees/{a['attendee']}"
    revoked = await lib.client.patch(url, headers=lib.staff, json={"revoked": True})
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    refused = await lib.client.get(path_of(a["link"]), headers={"Accept": "application/json"})
    assert refused.status_code == 403 and "revoked" in refused.json()["error"]["message"]
    restored = await lib.client.patch(url, headers=lib.staff,
                                      json={"revoked": False, "new_link": True})
    new_link = restored.json()["link"]
    assert new_link != a["link"]
    old = await lib.client.get(path_of(a["link"]), headers={"Accept": "application/json"})
    assert old.status_code == 403 and "replaced" in old.json()["error"]["message"]
    assert (await lib.client.get(path_of(new_link))).status_code == 200
    bad = await lib.client.patch(url, headers=lib.staff, json={"revoked": "yes"})
    assert bad.status_code == 400
    # Another webinar's attendee id through this webinar's URL is not found.
    other = f"/api/webinars/{a['webinar']}/attendees/{two_webinars['B']['attendee']}"
    assert (await lib.client.patch(other, headers=lib.staff, json={"revoked": True})) \
        .status_code == 404


async def set_limit(lib, a: dict, limit: int | None) -> None:
    url = f"/api/webinars/{a['webinar']}/attendees/{a['attendee']}"
    assert (await lib.client.patch(url, headers=lib.staff, json={"download_limit": limit})) \
        .status_code == 200


async def close_windows(attendee_id: int) -> None:
    """As if the media grant's lifetime had passed since every counted download."""
    await AttendeeDownload.filter(attendee_id=attendee_id).update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1))


async def used(attendee_id: int) -> int:
    return (await Attendee.get(id=attendee_id)).downloads_used


async def test_a_download_opens_a_window_where_seeks_and_replays_are_free(lib, two_webinars):
    a = two_webinars["A"]
    await set_limit(lib, a, 2)
    headers = {"Authorization": f"Bearer {token_of(a['link'])}"}
    media = a["recording"]["files"][0]["url"]
    assert (await lib.client.get(media, headers=headers)).status_code == 200
    for seek in ("bytes=10-20", "bytes=0-1", "bytes=-5", "bytes=0-"):
        assert (await lib.client.get(media, headers={**headers, "Range": seek})) \
            .status_code == 206
    assert (await lib.client.get(media, headers=headers)).status_code == 200  # a replay
    assert await used(a["attendee"]) == 1
    # A HEAD, a revalidation and an unsatisfiable range fetch nothing, even with no window.
    await close_windows(a["attendee"])
    etag = (await lib.client.head(media, headers=headers)).headers["etag"]
    assert (await lib.client.get(media, headers={**headers, "If-None-Match": etag})) \
        .status_code == 304
    assert (await lib.client.get(media, headers={**headers, "Range": "bytes=99999-"})) \
        .status_code == 416
    assert await used(a["attendee"]) == 1
    # Once the window has closed, two requests race for the next download: one counts it,
    # the other finds the window it opened.
    results = await asyncio.gather(*(lib.client.get(media, headers=headers) for _ in range(2)))
    assert [r.status_code for r in results] == [200, 200]
    assert await used(a["attendee"]) == 2
    # The limit is used up: the open window still serves this file, not another one.
    assert (await lib.client.get(media, headers={**headers, "Range": "bytes=3-"})) \
        .status_code == 206
    slides = a["slides"]["files"][0]["url"]
    refused = await lib.client.get(slides, headers={**headers, "Range": "bytes=0-0"})
    assert refused.status_code == 403 and "download limit (2)" in refused.text
    # Public items are not counted against the link.
    public = two_webinars["public"]["files"][0]["url"]
    assert (await lib.client.get(public, headers=headers)).status_code == 200


async def test_ranges_do_not_get_round_a_spent_download_limit(lib, two_webinars):
    """GIVEN a link allowed one download WHEN the attendee fetches the recording as
    ``bytes=0-0`` then ``bytes=1-`` THEN that is their one download; once its window has
    closed, every GET of the file is refused, ranged or not."""
    a = two_webinars["A"]
    await set_limit(lib, a, 1)
    headers = {"Authorization": f"Bearer {token_of(a['link'])}"}
    media = a["recording"]["files"][0]["url"]
    whole = (await lib.client.get(media, headers=lib.staff)).content
    first = await lib.client.get(media, headers={**headers, "Range": "bytes=0-0"})
    rest = await lib.client.get(media, headers={**headers, "Range": "bytes=1-"})
    assert (first.status_code, rest.status_code) == (206, 206)
    assert first.content + rest.content == whole
    assert await used(a["attendee"]) == 1
    await close_windows(a["attendee"])
    for asked in ({"Range": "bytes=1-"}, {"Range": "bytes=0-0"}, {}, {"Range": "bytes=0-"}):
        refused = await lib.client.get(media, headers={**headers, **asked})
        assert refused.status_code == 403, asked
        assert "download limit (1)" in refused.text
    assert await used(a["attendee"]) == 1
    await lib.app.state.downloads.flush(final=True)
    usage = (await lib.client.get(f"/api/webinars/{a['webinar']}/usage",
                                  headers=lib.staff)).json()
    anne = next(p for p in usage["attendees"] if p["id"] == a["attendee"])
    assert anne["downloads_used"] == len(anne["downloads"]) == 1
    assert anne["downloads"][0]["name"] == "webinaire-A.pdf"
    assert [(f["filename"], f["bytes"]) for f in anne["fetched"]] == [
        ("webinaire-A.pdf", 1), ("webinaire-A.pdf", len(whole) - 1)]


async def test_a_bundle_range_counts_like_a_download_and_is_recorded(lib, two_webinars):
    a = two_webinars["A"]
    await set_limit(lib, a, 1)
    headers = {"Authorization": f"Bearer {token_of(a['link'])}"}
    params = {"webinar": a["webinar"]}
    head = await lib.client.get("/api/bundles", params=params,
                                headers={**headers, "Range": "bytes=0-99"})
    assert head.status_code == 206
    tail = await lib.client.get("/api/bundles", params=params,
                                headers={**headers, "Range": "bytes=100-"})
    assert tail.status_code == 206
    assert zipfile.ZipFile(io.BytesIO(head.content + tail.content)).testzip() is None
    assert await used(a["attendee"]) == 1
    await close_windows(a["attendee"])
    refused = await lib.client.get("/api/bundles", params=params,
                                   headers={**headers, "Range": "bytes=0-"})
    assert refused.status_code == 403 and "download limit (1)" in refused.text
    await lib.app.state.downloads.flush(final=True)
    usage = (await lib.client.get(f"/api/webinars/{a['webinar']}/usage",
                                  headers=lib.staff)).json()
    anne = next(p for p in usage["attendees"] if p["id"] == a["attendee"])
    assert anne["downloads_used"] == len(anne["downloads"]) == 1
    size = len(head.content) + len(tail.content)
    assert [(f["bundle"], f["bytes"], f["complete"]) for f in anne["fetched"]] == [
        (anne["downloads"][0]["name"], 100, False),
        (anne["downloads"][0]["name"], size - 100, False)]


async def test_staff_see_who_used_their_link_and_export_it(lib, two_webinars):
    a = two_webinars["A"]
    await import_csv(lib, a["webinar"], b'=HYPERLINK("http://evil.example"),x@example.org,@SUM\n')
    await lib.client.get(path_of(a["link"]))
    assert (await lib.client.get(a["slides"]["files"][0]["url"])).status_code == 200
    await lib.app.state.downloads.flush(final=True)
    usage = await lib.client.get(f"/api/webinars/{a['webinar']}/usage", headers=lib.staff)
    assert usage.status_code == 200
    people = {p["email"]: p for p in usage.json()["attendees"]}
    anne = people["anne.a@example.org"]
    assert anne["first_used_at"] and anne["downloads_used"] == 1
    assert [(f["title"], f["filename"], f["complete"]) for f in anne["fetched"]] == [
        ("Diapositives pandémie A", "slides-A.pdf", True)]
    assert people["x@example.org"]["fetched"] == []
    exported = await lib.client.get(f"/api/webinars/{a['webinar']}/usage",
                                    params={"format": "csv"}, headers=lib.staff)
    assert exported.headers["content-type"].startswith("text/csv")
    text = exported.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["name", "email", "organisation"]
    by_email = {r[1]: r for r in rows[1:]}
    assert by_email["anne.a@example.org"][6:8] == ["Diapositives pandémie A", "slides-A.pdf"]
    # Formulas arrive as text in a spreadsheet.
    assert by_email["x@example.org"][0].startswith("'=HYPERLINK")
    assert by_email["x@example.org"][2] == "'@SUM"
    bad = await lib.client.get(f"/api/webinars/{a['webinar']}/usage",
                               params={"format": "xls"}, headers=lib.staff)
    assert bad.status_code == 400


async def test_an_attendee_bundle_holds_their_webinar_only_and_counts_as_one_download(
        lib, two_webinars):
    a = two_webinars["A"]
    headers = {"Authorization": f"Bearer {token_of(a['link'])}"}
    everything = await lib.client.get("/api/bundles", params={"q": "pandémie"}, headers=headers)
    assert everything.status_code == 200, everything.text
    with zipfile.ZipFile(io.BytesIO(everything.content)) as archive:
        names = sorted(n for n in archive.namelist() if not n.startswith("manifest."))
    assert names == ["doc.pdf", "slides-A.pdf", "webinaire-A.pdf"]  # public guide, A's parts
    assert (await Attendee.get(id=a["attendee"])).downloads_used == 1
    url = f"/api/webinars/{a['webinar']}/attendees/{a['attendee']}"
    await lib.client.patch(url, headers=lib.staff, json={"download_limit": 1})
    refused = await lib.client.get("/api/bundles", params={"webinar": a["webinar"]},
                                   headers=headers)
    assert refused.status_code == 403 and "download limit (1)" in refused.text
    await lib.app.state.downloads.flush(final=True)
    usage = (await lib.client.get(f"/api/webinars/{a['webinar']}/usage",
                                  headers=lib.staff)).json()
    anne = next(p for p in usage["attendees"] if p["id"] == a["attendee"])
    assert sorted(f["filename"] for f in anne["fetched"]) == ["doc.pdf", "slides-A.pdf",
                                                             "webinaire-A.pdf"]
