"""Sign-in with a session cookie, CSRF on every form, bearer tokens for the API."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import httpx
import pytest

from kitlib.models import ApiToken, AuditEvent, Session
from tests.conftest import PASSWORD

pytestmark = pytest.mark.anyio


async def sign_in(client: httpx.AsyncClient, email: str,
                  password: str = PASSWORD) -> httpx.Response:
    page = await client.get("/login")
    assert page.status_code == 200
    token = client.cookies["kitlib_csrf"]
    return await client.post("/login", data={"email": email, "password": password,
                                             "csrf_token": token, "next": "/"})


async def test_sign_in_sets_a_safe_session_cookie_and_sign_out_ends_it(lib):
    response = await sign_in(lib.client, "Member@Example.org")
    assert response.status_code == 303
    cookie = next(h for h in response.headers.get_list("set-cookie")
                  if h.startswith("kitlib_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    home = await lib.client.get("/")
    assert "member@example.org" in home.text
    assert await Session.all().count() == 1
    out = await lib.client.post("/logout", data={"csrf_token": lib.client.cookies["kitlib_csrf"]})
    assert out.status_code == 303
    assert await Session.all().count() == 0
    assert "member@example.org" not in (await lib.client.get("/")).text


async def test_secure_cookies_when_configured(make_app):
    app = make_app(secure_cookies=True)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://kitlib.test") as c:
            page = await c.get("/login")
            assert "Secure" in page.headers["set-cookie"]


async def test_wrong_password_and_unknown_email_look_the_same(lib):
    wrong = await sign_in(lib.client, "member@example.org", "nope")
    unknown = await sign_in(lib.client, "nobody@example.org", "nope")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong email or password" in wrong.text and "Wrong email or password" in unknown.text
    assert "kitlib_session" not in lib.client.cookies


async def test_login_without_csrf_token_is_refused(lib):
    await lib.client.get("/login")
    response = await lib.client.post("/login", data={"email": "member@example.org",
                                                     "password": PASSWORD})
    assert response.status_code == 403
    forged = await lib.client.post("/login", data={"email": "member@example.org",
                                                   "password": PASSWORD, "csrf_token": "forged"})
    assert forged.status_code == 403


async def test_next_only_redirects_to_local_paths(lib):
    await lib.client.get("/login")
    token = lib.client.cookies["kitlib_csrf"]
    response = await lib.client.post("/login", data={
        "email": "member@example.org", "password": PASSWORD, "csrf_token": token,
        "next": "//evil.example/phish"})
    assert response.headers["location"] == "/"


async def test_session_writes_need_the_csrf_header(lib):
    await sign_in(lib.client, "staff@example.org")
    body = {"slug": "kit-a", "title": "Kit A"}
    assert (await lib.client.post("/api/kits", json=body)).status_code == 403
    ok = await lib.client.post("/api/kits", json=body,
                               headers={"X-CSRF-Token": lib.client.cookies["kitlib_csrf"]})
    assert ok.status_code == 201
    assert await AuditEvent.filter(action="kit.create").count() == 1


async def test_bearer_tokens_are_stored_hashed_and_checked(lib):
    secret = lib.staff["Authorization"].split()[1]
    stored = await ApiToken.filter(user=lib.staff_user).first()
    assert stored is not None and secret not in (stored.token_hash, stored.prefix)
    for header in ("Bearer kl_wrong", "Basic abc", "Bearer", "Token " + secret):
        response = await lib.client.get("/api/resources", headers={"Authorization": header})
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
    stored.revoked_at = stored.created_at
    await stored.save()
    assert (await lib.client.get("/api/resources", headers=lib.staff)).status_code == 401


async def test_pages_and_api_send_security_headers(lib):
    for path in ("/", "/login", "/api/resources", "/healthz"):
        headers = (await lib.client.get(path)).headers
        assert headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert headers["referrer-policy"] == "same-origin"


async def test_errors_are_json_for_the_api_and_html_for_pages(lib):
    api = await lib.client.get("/api/resources/999")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    page = await lib.client.get("/nowhere", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "<h1>404</h1>" in page.text
    wrong_method = await lib.client.put("/api/kits")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["message"]


async def test_guessing_a_password_is_throttled_per_account(lib):
    """GIVEN five wrong passwords for one account WHEN a sixth try comes, even with the right
    password THEN it waits (429, Retry-After) while other accounts still sign in."""
    for _ in range(5):
        assert (await sign_in(lib.client, "member@example.org", "guess")).status_code == 401
    blocked = await sign_in(lib.client, "Member@Example.org")
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["retry-after"]) <= 15 * 60
    assert "Too many failed sign-ins" in blocked.text
    assert (await sign_in(lib.client, "staff@example.org")).status_code == 303


async def test_a_successful_sign_in_forgets_the_accounts_failures(lib):
    for _ in range(4):
        assert (await sign_in(lib.client, "member@example.org", "guess")).status_code == 401
    assert (await sign_in(lib.client, "member@example.org")).status_code == 303
    lib.client.cookies.clear()
    for _ in range(4):
        assert (await sign_in(lib.client, "member@example.org", "guess")).status_code == 401
    assert (await sign_in(lib.client, "member@example.org")).status_code == 303


@pytest.mark.parametrize("processes", [1, 25])
async def test_parallel_guesses_at_one_account_check_at_most_five_passwords(
        lib, monkeypatch, processes):
    """GIVEN one CSRF pair WHEN 25 wrong passwords for one account arrive at once THEN at
    most five are checked (401); the others wait (429) without costing an argon2. With 25
    server processes, no process caps what is in flight: the database's count must."""
    from kitlib.services import throttle

    monkeypatch.setattr(throttle, "IN_FLIGHT_PER_ACCOUNT",
                        throttle.IN_FLIGHT_PER_ACCOUNT * processes)

    page = await lib.client.get("/login")
    token = lib.client.cookies["kitlib_csrf"]
    results = await asyncio.gather(*(lib.client.post("/login", data={
        "email": "member@example.org", "password": f"guess{i}", "csrf_token": token,
        "next": "/"}) for i in range(25)))
    assert page.status_code == 200
    codes = Counter(r.status_code for r in results)
    assert set(codes) <= {401, 429} and 1 <= codes[401] <= throttle.PER_ACCOUNT, codes
    assert all(int(r.headers["retry-after"]) > 0 for r in results if r.status_code == 429)
    if processes > 1:
        assert codes[401] == throttle.PER_ACCOUNT
        # Even the right password now waits: the account has its five failures.
        assert (await sign_in(lib.client, "member@example.org")).status_code == 429


async def test_one_address_guessing_is_slowed_but_colleagues_still_sign_in(lib, monkeypatch):
    """GIVEN 25 failures for made-up accounts from one address (one person guessing behind
    a company's NAT) WHEN a colleague signs in from that address THEN they are in at once,
    and the next guess from there is still answered only after a growing delay."""
    from kitlib.services import throttle

    step = 0.05
    monkeypatch.setattr(throttle, "ADDRESS_DELAY_STEP", step)
    for i in range(25):
        response = await sign_in(lib.client, f"someone{i}@example.org", "guess")
        assert response.status_code == 401
    assert (await sign_in(lib.client, "staff@example.org")).status_code == 303
    lib.client.cookies.clear()
    # 26 failures before it, PER_ADDRESS allowed without delay: at least 6 steps.
    async with throttle.attempt("someone25@example.org", "127.0.0.1") as attempt:
        assert attempt.wait == 0 and attempt.delay >= 6 * step
    started = time.monotonic()
    guess = await sign_in(lib.client, "someone26@example.org", "guess")
    assert guess.status_code == 401
    assert time.monotonic() - started >= 6 * step  # the lower bound a sleep guarantees


async def test_every_staff_action_is_in_the_audit_log_with_who_what_and_when(lib):
    """GIVEN staff changing the library through every write route WHEN the audit log is read
    THEN each change has its line: the staff member, the action, its target and the time."""
    from datetime import UTC, datetime, timedelta

    before = datetime.now(UTC) - timedelta(seconds=1)
    client, staff = lib.client, lib.staff
    made = (await client.post("/api/resources", headers=staff, data={"title": "A"},
                              files={"file": ("a.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")}
                              )).json()
    rid = made["id"]
    await client.patch(f"/api/resources/{rid}", headers=staff, json={"title": "B"})
    await client.put(f"/api/resources/{rid}/file", content=b"%PDF-1.4\n% 2\n%%EOF\n",
                     headers={**staff, "Content-Disposition": 'attachment; filename="b.pdf"'})
    await client.post("/api/kits", headers=staff, json={"slug": "k", "title": "K"})
    await client.patch("/api/kits/k", headers=staff, json={"items": [rid]})
    webinar = (await client.post("/api/webinars", headers=staff, json={
        "title": "W", "starts_at": "2020-05-14T10:00:00+02:00"})).json()
    await client.patch(f"/api/webinars/{webinar['id']}", headers=staff, json={"title": "W2"})
    imported = (await client.post(f"/api/webinars/{webinar['id']}/attendees", content=b"A,a@x.org",
                                  headers={**staff, "Content-Type": "text/csv"})).json()
    await client.patch(f"/api/webinars/{webinar['id']}/attendees/"
                       f"{imported['attendees'][0]['id']}", headers=staff,
                       json={"revoked": True})
    await client.post("/api/feed-token", headers=staff)
    await client.delete("/api/feed-token", headers=staff)
    await client.delete("/api/kits/k", headers=staff)
    await client.delete(f"/api/webinars/{webinar['id']}", headers=staff)
    await client.delete(f"/api/resources/{rid}", headers=staff)
    events = await AuditEvent.filter(at__gte=before).order_by("id")
    assert [e.action for e in events] == [
        "resource.create", "resource.update", "resource.replace_file", "kit.create",
        "kit.update", "webinar.create", "webinar.update", "webinar.attendees.import",
        "webinar.attendee.update", "feed_token.create", "feed_token.revoke", "kit.delete",
        "webinar.delete", "resource.delete"]
    assert {e.user_id for e in events} == {lib.staff_user.id}  # type: ignore[attr-defined]
    assert all(e.target_id is not None and e.at >= before for e in events)
