"""Property-based tests of the two parsers that read what anyone may send: the streaming
multipart upload and the search query (with its filters). Whatever arrives, the answer is a
success or a 4xx with a message, never a 5xx and never a hang, and a refused upload leaves no
temporary file and no blob behind.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

import anyio
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kitlib.jobs.worker import drain
from kitlib.models import StoredFile

pytestmark = pytest.mark.anyio

# A request that takes longer than this is a hang: every body here is at most a few KiB.
PER_REQUEST_S = 10


def examples(count: int) -> settings:
    """Enough examples to reach the odd corners, few enough for CI; the same ones each run."""
    return settings(max_examples=count, deadline=None, database=None, derandomize=True,
                    # The library (fixture) is shared by the examples on purpose: uploads
                    # pile up as they would in a real library.
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

FIELDS = ["title", "summary", "visibility", "kind", "language", "tags", "url", "published_at",
          "csrf_token", "file"]
BCHARS = string.ascii_letters + string.digits + "'()+_,-./:=? "
CRLF = b"\r\n"


def _assert_answer(response: httpx.Response, *ok: int) -> None:
    """A success listed in ``ok``, or a 4xx whose JSON body says what was wrong."""
    assert response.status_code in ok or 400 <= response.status_code < 500, (
        response.status_code, response.text[:500])
    if response.status_code not in ok:
        message = response.json()["error"]["message"]
        assert isinstance(message, str) and message.strip(), response.text


# -- multipart uploads -----------------------------------------------------------------------

header_text = st.text(st.characters(codec="latin-1"), max_size=40)


@st.composite
def parts(draw: st.DrawFn) -> bytes:
    """One part: a (mostly) plausible Content-Disposition, odd extra headers, any data."""
    name = draw(st.one_of(st.sampled_from(FIELDS), header_text))
    disposition = f'form-data; name="{name}"'
    filename = draw(st.one_of(st.none(), st.text(max_size=300), st.sampled_from(
        ["../../etc/passwd", "a\x00b.pdf", "C:\\x.pdf", ".", "", " ", "é.pdf", "a\r\nb"])))
    if filename is not None:
        disposition += f'; filename="{filename}"'
    disposition = draw(st.one_of(st.just(disposition), header_text))
    headers = [f"Content-Disposition: {disposition}"]
    if draw(st.booleans()):
        headers.append(f"Content-Type: {draw(header_text)}")
    extra = draw(st.lists(st.tuples(header_text, header_text), max_size=2))
    headers += [f"{k}: {v}" for k, v in extra]
    head = CRLF.join(h.encode("utf-8", "surrogatepass") for h in headers)
    data = draw(st.one_of(st.binary(max_size=2048), st.sampled_from(
        [b"public", b"members", b"document", b"fr", b"covid, reprise", b"2020-05-14",
         b"%PDF-1.4\n%%EOF\n", b"\xff\xfe\x00"])))
    return head + CRLF + CRLF + data


@st.composite
def multipart_requests(draw: st.DrawFn) -> tuple[dict[str, str], bytes]:
    """Headers and body of an upload: well framed, truncated, mis-bounded or pure noise."""
    boundary = draw(st.text(BCHARS, min_size=1, max_size=70).map(str.rstrip).filter(bool))
    delimiter = b"--" + boundary.encode()
    body = b"".join(delimiter + CRLF + part + CRLF for part in draw(st.lists(parts(),
                                                                             max_size=5)))
    body = draw(st.sampled_from([b"", b"preamble\r\n"])) + body + delimiter + b"--" + CRLF
    body = draw(st.one_of(
        st.just(body),
        st.integers(0, len(body)).map(lambda cut: body[:cut]),  # truncated
        st.binary(max_size=1024)))  # noise
    declared = draw(st.sampled_from([
        f"multipart/form-data; boundary={boundary}",
        f'multipart/form-data; boundary="{boundary}"',
        "multipart/form-data", "multipart/form-data; boundary=", "application/json",
        f"multipart/form-data; boundary={boundary}x", f"multipart/mixed; boundary={boundary}"]))
    headers = {"Content-Type": declared}
    # A Content-Length that lies, now and then (the transport sends the body as given).
    lie = draw(st.sampled_from([0, 0, 0, -1, 1, 1000]))
    if lie:
        headers["Content-Length"] = str(max(0, len(body) + lie))
    return headers, body


def _leftovers(uploads: Path) -> tuple[list[Path], set[str]]:
    """Temporary files still there, and the names of the blobs in the uploads folder."""
    parts = [p for p in (uploads / "tmp").glob("*") if p.is_file()]
    blobs = {p.name for p in uploads.rglob("*") if p.is_file() and p.parent.name != "tmp"}
    return parts, blobs


@examples(150)
@given(request=multipart_requests())
async def test_any_upload_is_stored_or_refused_with_a_message(lib, request) -> None:
    headers, body = request
    with anyio.fail_after(PER_REQUEST_S):
        response = await lib.client.post("/api/resources", content=body,
                                          headers={**lib.staff, **headers})
    _assert_answer(response, 201)
    temporary, blobs = _leftovers(lib.settings.uploads_dir)
    assert temporary == [], "a .part outlived its request"
    # Every blob on disk belongs to a stored file: a refusal leaves no orphan behind.
    assert blobs == {f.sha256 for f in await StoredFile.all()}


async def test_a_refused_upload_keeps_the_blob_another_resource_shares(lib) -> None:
    """GIVEN a stored PDF, WHEN the same bytes come again in an upload refused after the
    file part, THEN the shared blob is still there."""
    pdf = b"%PDF-1.4\nshared\n%%EOF\n"
    created = await lib.client.post("/api/resources", headers=lib.staff, data={"title": "A"},
                                    files={"file": ("a.pdf", pdf)})
    assert created.status_code == 201
    refused = await lib.client.post("/api/resources", headers=lib.staff,
                                    data={"title": "B", "visibility": "nobody"},
                                    files={"file": ("b.pdf", pdf)})
    assert refused.status_code == 400
    assert _leftovers(lib.settings.uploads_dir) == ([], {created.json()["files"][0]["sha256"]})


# -- search queries --------------------------------------------------------------------------

QUERY_BITS = ["title:", "summary:", "tag:", "kind:", "*", "?", "~", "~2", "^3", '"', "'", "(",
              ")", "[", "]", "{", "}", "AND", "OR", "NOT", "-", "+", "TO", ":", "\\", "/", "&&",
              "||", "!", "\x00", "covid", "reprise", "é", "日本", "\u202e", "\ufeff", " ", "%",
              "<script>", "a" * 300]
queries = st.one_of(st.text(max_size=200),
                    st.lists(st.sampled_from(QUERY_BITS), max_size=12).map("".join),
                    st.lists(st.sampled_from(QUERY_BITS), max_size=8).map(" ".join),
                    st.text(max_size=3).map(lambda t: t * 400))  # very long


def filter_values(valid: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(valid), st.text(max_size=30),
                     st.sampled_from(["", " ", "0", "-1", "1e9", "9" * 40, "\x00", "null"]))


search_params = st.lists(st.one_of(
    st.tuples(st.just("kind"), filter_values(["document", "slides", "transcript", "link"])),
    st.tuples(st.just("tag"), filter_values(["covid-19", "reprise"])),
    st.tuples(st.just("language"), filter_values(["fr", "en", "FR"])),
    st.tuples(st.just("kit"), filter_values(["covid-19-kit"])),
    st.tuples(st.just("webinar"), filter_values(["1", "2"])),
    st.tuples(st.just("from"), filter_values(["2020-01-01", "2020-02-30", "2020-1-1"])),
    st.tuples(st.just("to"), filter_values(["2030-12-31", "1999-01-01", "2020-13-01"])),
    st.tuples(st.just("sort"), filter_values(["relevance", "newest", "downloads"])),
    st.tuples(st.just("page"), filter_values(["1", "2", "100000"])),
    st.tuples(st.just("per_page"), filter_values(["1", "20", "100", "101"]))), max_size=6)


@pytest.fixture
async def searchable(lib):
    """GIVEN a small indexed library: resources with text, tags and a kit."""
    for title, tags, visibility in (("Guide de reprise covid", "covid-19,reprise", "public"),
                                    ("Protocole réservé", "covid-19", "members")):
        response = await lib.client.post(
            "/api/resources", headers=lib.staff,
            data={"title": title, "tags": tags, "visibility": visibility, "language": "fr"},
            files={"file": ("doc.pdf", b"%PDF-1.4\n" + title.encode() + b"\n%%EOF\n")})
        assert response.status_code == 201, response.text
    kit = await lib.client.post("/api/kits", headers=lib.staff, json={
        "slug": "covid-19-kit", "title": "COVID-19 KIT", "items": [1, 2]})
    assert kit.status_code == 201, kit.text
    await drain(lib.settings)
    with anyio.fail_after(30):
        while (await lib.client.get("/api/search")).status_code == 503:
            await anyio.sleep(0.05)  # the first search builds the index from the database
    return lib


@examples(300)
@given(q=queries, params=search_params, member=st.booleans())
async def test_any_search_is_answered_or_refused_with_a_message(searchable, q, params,
                                                                member) -> None:
    headers = searchable.member if member else {}
    with anyio.fail_after(PER_REQUEST_S):
        response = await searchable.client.get("/api/search", params=[("q", q), *params],
                                               headers=headers)
    _assert_answer(response, 200)
    if response.status_code == 200:
        assert isinstance(json.loads(response.text)["hits"], list)


@examples(200)
@given(q=queries, member=st.booleans())
async def test_any_prefix_gets_suggestions_or_a_message(searchable, q, member) -> None:
    headers = searchable.member if member else {}
    with anyio.fail_after(PER_REQUEST_S):
        response = await searchable.client.get("/api/suggest", params={"q": q},
                                               headers=headers)
    _assert_answer(response, 200)
    if response.status_code == 200:
        assert isinstance(response.json()["suggestions"], list)


# -- regressions: what schemathesis found (500s on PostgreSQL, or on both databases) -----------

@pytest.mark.parametrize("path", ["/api/resources/2147483648", "/api/webinars/4294967295",
                                  "/files/2147483648/x.pdf", "/resources/2147483648",
                                  "/webinars/2147483648/captions.vtt", "/api/resources/²",
                                  "/api/webinars/%C2%B2/attendees"])
async def test_ids_beyond_the_database_integer_or_not_ascii_digits_are_a_400(lib, path):
    """GIVEN an id PostgreSQL cannot hold (asyncpg refused to send it) or '²' (isdigit() is
    true, int() fails) WHEN it names a row THEN the answer is a 400, not a 500."""
    response = await lib.client.get(path, headers={**lib.staff, "Accept": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"]


async def test_ids_beyond_the_database_integer_in_a_body_are_refused(lib):
    response = await lib.client.post("/api/webinars", headers=lib.staff, json={
        "title": "W", "starts_at": "2020-05-14T10:00:00Z", "recording": 2**31})
    assert response.status_code == 400, response.text


@pytest.mark.parametrize("path", ["/api/search?kit=%00", "/api/bundles?kit=%00",
                                  "/api/search?webinar=%C2%B2"])
async def test_a_nul_or_odd_digit_in_a_filter_is_a_400(lib, path):
    response = await lib.client.get(path)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"]


async def test_a_nul_in_a_kit_slug_is_not_found(lib):
    response = await lib.client.get("/api/kits/a%00b")
    assert response.status_code == 404, response.text


async def test_odd_digits_in_attendee_options_and_content_length_are_a_400(lib):
    webinar = await lib.client.post("/api/webinars", headers=lib.staff, json={
        "title": "W", "starts_at": "2020-05-14T10:00:00Z"})
    imported = await lib.client.post(
        f"/api/webinars/{webinar.json()['id']}/attendees", params={"download_limit": "²"},
        headers={**lib.staff, "Content-Type": "text/csv"}, content=b"A,a@example.org,L\n")
    assert imported.status_code == 400, imported.text
    upload = await lib.client.post("/api/resources", content=b"x", headers={
        **lib.staff, "Content-Type": "multipart/form-data; boundary=b",
        "Content-Length": "²".encode("latin-1")})
    assert upload.status_code == 400, upload.text


async def test_a_nul_in_the_sign_in_email_is_a_wrong_password(lib):
    await lib.client.get("/login")
    response = await lib.client.post("/login", data={
        "email": "member@example.org\x00", "password": "x",
        "csrf_token": lib.client.cookies["kitlib_csrf"]})
    assert response.status_code == 401
