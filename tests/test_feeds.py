"""Atom feeds of new resources: well-formed RFC 4287, filters, and only what anyone may see."""

from __future__ import annotations

from datetime import datetime

import defusedxml.ElementTree as ET
import pytest

from kitlib.jobs.worker import drain

pytestmark = pytest.mark.anyio

ATOM = "{http://www.w3.org/2005/Atom}"


async def upload(lib, title: str, visibility: str, **fields: str) -> int:
    response = await lib.client.post(
        "/api/resources", headers=lib.staff,
        data={"title": title, "visibility": visibility, **fields},
        files={"file": ("appel.pdf", b"%PDF-1.4\n" + title.encode() * 10, "application/pdf")})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@pytest.fixture
async def library(lib):
    ids = {
        "call": await upload(lib, "Appel à projets <Relance> & \"industrie\"", "public",
                             tags="appels-a-projets", summary="Date limite : 30 juin & après"),
        "guide": await upload(lib, "Guide de reprise", "public", tags="covid"),
        "members": await upload(lib, "Appel réservé aux adhérents", "members",
                                tags="appels-a-projets"),
        "staff": await upload(lib, "Note interne", "staff", tags="appels-a-projets"),
    }
    await drain(lib.settings)
    return ids


def parse(response) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    return root


def check_rfc4287(feed) -> None:
    """The MUSTs of RFC 4287 that a feed and its entries carry."""
    for parent, children in [(feed, ("id", "title", "updated"))] + [
            (e, ("id", "title", "updated")) for e in feed.findall(f"{ATOM}entry")]:
        for name in children:
            assert len(parent.findall(f"{ATOM}{name}")) == 1, name
        datetime.fromisoformat(parent.find(f"{ATOM}updated").text.replace("Z", "+00:00"))
    assert feed.find(f"{ATOM}author/{ATOM}name").text
    self_link = feed.find(f"{ATOM}link[@rel='self']").get("href")
    assert self_link == feed.find(f"{ATOM}id").text
    assert self_link.startswith("http://kitlib.test/feeds/resources.atom")
    ids = [e.find(f"{ATOM}id").text for e in feed.findall(f"{ATOM}entry")]
    assert len(ids) == len(set(ids))
    for entry in feed.findall(f"{ATOM}entry"):
        assert entry.find(f"{ATOM}link[@rel='alternate']") is not None


async def test_the_feed_is_valid_atom_and_shows_only_public_items(lib, library):
    feed = parse(await lib.client.get("/feeds/resources.atom"))
    check_rfc4287(feed)
    titles = [e.find(f"{ATOM}title").text for e in feed.findall(f"{ATOM}entry")]
    assert set(titles) == {"Appel à projets <Relance> & \"industrie\"", "Guide de reprise"}
    entry = next(e for e in feed.findall(f"{ATOM}entry") if "Relance" in
                 e.find(f"{ATOM}title").text)
    assert entry.find(f"{ATOM}summary").text == "Date limite : 30 juin & après"
    enclosure = entry.find(f"{ATOM}link[@rel='enclosure']")
    assert enclosure.get("type") == "application/pdf" and int(enclosure.get("length")) > 0
    downloaded = await lib.client.get(enclosure.get("href").replace("http://kitlib.test", ""))
    assert downloaded.status_code == 200


async def test_credentials_never_widen_a_feed(lib, library):
    """A feed URL is shared and cached: staff fetching it get the public feed too."""
    for headers in ({}, lib.member, lib.staff):
        feed = parse(await lib.client.get("/feeds/resources.atom", headers=headers,
                                          params={"tag": "appels-a-projets"}))
        check_rfc4287(feed)
        entries = feed.findall(f"{ATOM}entry")
        assert [e.find(f"{ATOM}id").text.rsplit("/", 1)[1] for e in entries] == [
            str(library["call"])]
        body = ET.tostring(feed, encoding="unicode")
        assert "adhérents" not in body and "Note interne" not in body


async def test_a_filter_matching_nothing_is_an_empty_valid_feed(lib, library):
    feed = parse(await lib.client.get("/feeds/resources.atom", params={"tag": "nothing-here"}))
    check_rfc4287(feed)
    assert feed.findall(f"{ATOM}entry") == []


def test_characters_xml_cannot_hold_are_dropped():
    """The API refuses control characters, but text also comes from imports and extraction."""
    from kitlib.services.feeds import xml_text

    assert xml_text("Plan\x0b de reprise\x00\ufffe") == "Plan de reprise"
    assert xml_text("Tab\tnew\nline\r") == "Tab\tnew\nline\r"


async def test_a_bad_filter_gets_a_400(lib):
    response = await lib.client.get("/feeds/resources.atom", params={"kind": "banana"})
    assert response.status_code == 400
    assert "kind: &#39;banana&#39; is not" in response.text or "kind: 'banana' is not" in \
        response.text


async def test_a_personal_feed_token_shows_what_its_member_may_open_and_nothing_else(lib,
                                                                                    library):
    created = await lib.client.post("/api/feed-token", headers=lib.member)
    assert created.status_code == 201, created.text
    token, url = created.json()["token"], created.json()["url"]
    assert token.startswith("kf_") and url == f"/feeds/resources.atom?token={token}"
    response = await lib.client.get("/feeds/resources.atom",
                                    params={"token": token, "tag": "appels-a-projets"})
    assert response.headers["cache-control"].startswith("private")
    feed = parse(response)
    check_rfc4287(feed)
    ids = {e.find(f"{ATOM}id").text.rsplit("/", 1)[1] for e in feed.findall(f"{ATOM}entry")}
    assert ids == {str(library["call"]), str(library["members"])}  # never the staff note
    # It opens nothing but the feed: not the API, and an API token is no feed token.
    as_bearer = await lib.client.get("/api/resources",
                                     headers={"Authorization": f"Bearer {token}"})
    assert as_bearer.status_code == 401
    api_token = lib.member["Authorization"].split()[1]
    wrong_scope = await lib.client.get("/feeds/resources.atom", params={"token": api_token})
    assert wrong_scope.status_code == 401
    # A new token replaces the old one; deleting it ends the personal feed.
    again = (await lib.client.post("/api/feed-token", headers=lib.member)).json()["token"]
    assert (await lib.client.get(url)).status_code == 401
    assert (await lib.client.get("/feeds/resources.atom",
                                 params={"token": again})).status_code == 200
    assert (await lib.client.delete("/api/feed-token", headers=lib.member)).status_code == 204
    assert (await lib.client.get("/feeds/resources.atom",
                                 params={"token": again})).status_code == 401


async def test_feed_tokens_need_a_signed_in_user(lib):
    assert (await lib.client.post("/api/feed-token")).status_code == 401
    assert (await lib.client.delete("/api/feed-token")).status_code == 401
    bad = await lib.client.get("/feeds/resources.atom", params={"token": "kf_forged"})
    assert bad.status_code == 401
