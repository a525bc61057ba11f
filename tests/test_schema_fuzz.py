"""Schemathesis against /openapi.json, in process, once per kind of caller: no answer is a 5xx,
and every answer is one the document describes (status code, content type, body schema).

Each role gets a library of its own (fresh database, uploads and index), so a DELETE that a
staff run happens to aim at a fixture cannot starve the other roles of data.
"""

from __future__ import annotations

import io
import time
import traceback
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.python.asgi import get_client, shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kitlib.access.credentials import create_token, hash_password
from kitlib.db import close_db, open_db
from kitlib.models import Role, User
from kitlib.settings import Settings
from kitlib.web.app import create_app
from tests.conftest import run_async

# Per operation and role; negative cases cost more (bigger bodies), so fewer of them.
MAX_EXAMPLES = {"positive": 12, "negative": 6}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
ROLES = ("anonymous", "member", "staff", "attendee")

# Schemathesis's own strategies draw from `random`, which Hypothesis flags with a deprecation
# warning; that is theirs to fix, and our warnings-as-errors would turn it into a failure.
pytestmark = pytest.mark.filterwarnings(
    "ignore::hypothesis.errors.HypothesisDeprecationWarning")


@dataclass
class Tally:
    """What one role's run did, for the report in docs/reliability.md."""

    cases: int = 0
    failures: dict[str, str] = field(default_factory=dict)


def _pdf(text: str) -> bytes:
    return b"%PDF-1.4\n" + text.encode() + b"\n%%EOF\n"


def _docx(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", f"<w:document><w:t>{text}</w:t></w:document>")
    return buffer.getvalue()


async def _tokens(settings: Settings) -> dict[str, str]:
    context = await open_db(settings)
    try:
        made = {}
        for role in (Role.STAFF, Role.MEMBER):
            user = await User.create(email=f"{role.value}@example.org", role=role,
                                     password_hash=hash_password("pw-pw-pw-pw"),
                                     organisation="Cluster Lab")
            made[role.value] = await create_token(user)
        return made
    finally:
        await close_db(context)


def populate(client: Any, staff: dict[str, str]) -> str:
    """Resources of every visibility with small real files, a kit, a webinar and one of its
    attendees; returns that attendee's link token."""
    ids: dict[str, int] = {}
    for visibility, kind, name, body in (
            ("public", "document", "guide.pdf", _pdf("Guide de reprise d'activité")),
            ("members", "document", "rapport.docx", _docx("Rapport réservé aux membres")),
            ("attendees", "slides", "slides.pdf", _pdf("Diapositives du webinaire")),
            ("staff", "document", "notes.pdf", _pdf("Notes internes"))):
        response = client.post("/api/resources", headers=staff, files={"file": (name, body)},
                               data={"title": f"{kind} {visibility}", "visibility": visibility,
                                     "kind": kind, "tags": "covid-19,reprise",
                                     "language": "fr"})
        assert response.status_code == 201, response.text
        ids[visibility] = response.json()["id"]
    kit = client.post("/api/kits", headers=staff, json={
        "slug": "covid-19-kit", "title": "COVID-19 KIT", "description": "Pratique",
        "items": [ids["public"], {"resource": ids["members"], "note": "À lire"}]})
    assert kit.status_code == 201, kit.text
    webinar = client.post("/api/webinars", headers=staff, json={
        "title": "Reprise", "starts_at": "2020-05-14T10:00:00+02:00", "kit": "covid-19-kit",
        "slides": ids["attendees"], "speakers": [{"name": "Anne", "organisation": "Lab"}],
        "chapters": [{"start": 0, "title": "Intro"}, {"start": "01:30", "title": "Suite"}]})
    assert webinar.status_code == 201, webinar.text
    report = client.post(f"/api/webinars/{webinar.json()['id']}/attendees",
                         headers={**staff, "Content-Type": "text/csv"},
                         data=b"name,email,organisation\nAnne,anne@example.org,Lab\n")
    assert report.status_code == 200, report.text
    link: str = report.json()["attendees"][0]["link"]
    return link.rsplit("/", 1)[1]


@pytest.fixture
def loaded(settings: Settings) -> Iterator[tuple[Any, dict[str, dict[str, str]]]]:
    """The schema bound to a populated app, and the headers that authenticate each role."""
    settings = settings.with_overrides(index_worker=True, media_worker=True)
    tokens = run_async(_tokens(settings))
    app = create_app(settings)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    staff = {"Authorization": f"Bearer {tokens['staff']}"}
    with get_client(app) as client:
        link = populate(client, staff)
        # A fresh data folder has no index yet: the first search starts a rebuild and answers
        # 503 (documented, with Retry-After) until it is done. Fuzz the steady state.
        deadline = time.monotonic() + 30
        while client.get("/api/search", headers=staff).status_code == 503:
            assert time.monotonic() < deadline, "the index was not rebuilt within 30 s"
            time.sleep(0.1)
    headers = {"anonymous": {}, "member": {"Authorization": f"Bearer {tokens['member']}"},
               "staff": staff, "attendee": {"Authorization": f"Bearer {link}"}}
    try:
        yield schema, headers
    finally:
        # The lifespan closes the database and the index worker before the folder goes away.
        shutdown_lifespans()


def run_operation(operation: Any, headers: dict[str, str], tally: Tally,
                  mode: GenerationMode) -> None:
    """A bounded number of generated requests for one operation, each call validated."""

    @hsettings(max_examples=MAX_EXAMPLES[mode.value], deadline=None, derandomize=True,
               database=None,
               phases=[Phase.explicit, Phase.generate, Phase.shrink],
               suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def examples(case: Any) -> None:
        tally.cases += 1
        case.call_and_validate(headers=headers, checks=CHECKS)

    try:
        examples()
    except Unsatisfiable:
        pass  # nothing in this operation can be made invalid (no parameters, no body)
    # FailureGroup is a BaseExceptionGroup: every operation is tried, then all are reported.
    except (Exception, FailureGroup) as exc:
        tally.failures[f"{operation.label} ({mode.value})"] = "".join(
            traceback.format_exception(exc, limit=0))[:4000]


@pytest.mark.parametrize("role", ROLES)
def test_every_answer_is_documented_and_none_is_a_server_error(
        loaded: tuple[Any, dict[str, dict[str, str]]], role: str,
        record_property: Callable[[str, object], None]) -> None:
    schema, headers = loaded
    tally = Tally()
    started = time.monotonic()
    # Negative cases (values the document forbids) must be refused with a documented 4xx.
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        for result in schema.get_all_operations():
            run_operation(result.ok(), headers[role], tally, mode)
    record_property("cases", tally.cases)
    print(f"\n{role}: {tally.cases} cases in {time.monotonic() - started:.1f} s, "
          f"{len(tally.failures)} failing operations")
    assert not tally.failures, "\n\n".join(f"== {label}\n{text}"
                                          for label, text in tally.failures.items())
