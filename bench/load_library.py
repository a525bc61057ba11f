"""The library the load benchmark runs against: the demo, generated Markdown documents, a
recording made with ffmpeg and a kit, served by kitlib (or nginx in front of it), and the
URLs each type of client asks, checked once before the load starts."""

from __future__ import annotations

import argparse
import json
import random
import re
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.harness import MIB, Bench, human
from bench.servers import Kitlib, Nginx

RANGE = MIB
BUNDLE_RANGE = 64 * 1024

WORDS_FR = ("reprise activité sécurité hygiène télétravail protocole masque distanciation "
            "nettoyage désinfection fournisseur chaîne approvisionnement salarié entreprise "
            "atelier production formation prévention risque plan continuité crise "
            "webinaire cluster industrie laboratoire école innovation financement").split()
WORDS_EN = ("return business safety hygiene remote work protocol mask distancing cleaning "
            "supplier supply chain employee company workshop production training prevention "
            "risk continuity plan crisis webinar cluster industry laboratory school "
            "innovation funding").split()
QUERIES = ("reprise", "sécurité", "télétravail", "masque", "nettoyage", "supply chain",
           "remote work", "safety", "hygiene", "continuité", "fournisseur", "training",
           "risk", "webinaire", "industrie", "laboratory", "financement", "prevention",
           "protocole désinfection", "return to business", "covid", "plan", "crise",
           "salarié", "innovation", "atelier", "distancing", "workshop", "reprize", "securty")


@dataclass
class Library:
    kitlib: Kitlib
    member_token: str
    entries: dict[str, list[str]] = field(default_factory=dict)
    recording_size: int = 0
    documents: int = 0
    base: str = ""  # where the clients go: kitlib itself, or nginx in front of it


def make_corpus(folder: Path, documents: int, recording_seconds: int) -> None:
    """Markdown documents with a manifest, and an H.264/AAC recording made with ffmpeg."""
    rng = random.Random(6)
    folder.mkdir()
    rows: list[dict[str, Any]] = []
    for i in range(documents):
        language = "fr" if i % 2 == 0 else "en"
        words = WORDS_FR if language == "fr" else WORDS_EN
        title = " ".join(rng.choice(words) for _ in range(4)).capitalize()
        paragraphs = [" ".join(rng.choice(words) for _ in range(60)) + "." for _ in range(4)]
        name = f"doc-{i:04d}.md"
        (folder / name).write_text(f"# {title}\n\nloadcorpus document {i}.\n\n"
                                   + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
        rows.append({"file": name, "title": f"{title} ({i})", "language": language,
                     "kind": "document", "tags": [rng.choice(("covid-19", "reprise", "rh",
                                                              "achats"))],
                     "visibility": "members" if i % 4 == 3 else "public",
                     "published_at": f"2020-{1 + i % 12:02d}-{1 + i % 28:02d}"})
    recording = folder / "load-recording.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=440", "-t", str(recording_seconds),
         "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "1000k", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-b:a", "64k", "-y", str(recording)],
        check=True, timeout=600)
    rows.append({"file": recording.name, "title": "Load test recording", "language": "en",
                 "kind": "recording", "visibility": "public"})
    (folder / "manifest.json").write_text(json.dumps({"resources": rows}), encoding="utf-8")


def api(kitlib: Kitlib, method: str, path: str, body: Any | None = None,
        token: str | None = None) -> Any:
    """The JSON answer, as staff (``token`` None), as ``token``'s user, or anonymous ("")."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if token != "":
        headers["Authorization"] = f"Bearer {token or kitlib.token}"
    req = urllib.request.Request(f"{kitlib.base}{path}", data=data, method=method,
                                 headers=headers)
    with urllib.request.urlopen(req, timeout=120) as response:
        return json.loads(response.read() or b"null")


def wait_for_index(kitlib: Kitlib, documents: int, deadline_s: float = 600) -> float:
    """Until the search outbox is empty and every generated document is found; seconds."""
    t0 = time.monotonic()
    db = kitlib.data / "kitlib.sqlite3"
    while time.monotonic() - t0 < deadline_s:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
            pending = conn.execute(
                "SELECT count(*) FROM job WHERE state IN ('queued', 'running')").fetchone()[0]
        # No search before the queue is empty: a search with no index yet starts a rebuild,
        # which queues its changes again two minutes later (services.indexing.REPLAY_DELAY).
        if pending == 0:
            found = api(kitlib, "GET", "/api/search?q=loadcorpus&per_page=1")["total"]
            if found >= documents:
                return time.monotonic() - t0
        time.sleep(1)
    raise RuntimeError(f"the search worker did not finish within {deadline_s:.0f}s")


def build_library(bench: Bench, args: argparse.Namespace) -> Library:
    corpus = bench.root / "corpus"
    t0 = time.monotonic()
    make_corpus(corpus, args.documents, args.recording_seconds)
    print(f"corpus: {args.documents} documents and a "
          f"{human((corpus / 'load-recording.mp4').stat().st_size)} recording "
          f"in {time.monotonic() - t0:.1f}s")
    member: list[str] = []

    def prepare(kitlib: Kitlib) -> None:
        kitlib.cli("demo", timeout=300)
        kitlib.cli("import", str(corpus), timeout=600)
        kitlib.cli("user", "add", "member@example.org", "--role", "member",
                   "--password-stdin", stdin="a-long-benchmark-password\n")
        member.append(kitlib.cli("token", "create", "member@example.org")
                      .strip().splitlines()[-1])

    behind = {"KITLIB_ACCEL_REDIRECT": "/_kitlib/blobs/", "KITLIB_FORWARDED_ALLOW_IPS":
              "127.0.0.1"} if args.behind_nginx else {}
    kitlib = Kitlib(bench, behind, workers=args.workers, prepare=prepare)
    library = Library(kitlib, member[0], documents=args.documents, base=kitlib.base)
    if args.behind_nginx:
        # docs/deploy.md's set-up: nginx sends the stored files' bytes, kitlib everything else.
        library.base = Nginx(bench, kitlib.uploads, workers=args.workers,
                             front_of=f"127.0.0.1:{kitlib.port}").front_base
    resources: list[dict[str, Any]] = []
    page = 1
    while True:
        body = api(kitlib, "GET", f"/api/resources?per_page=100&page={page}")
        resources += body["items"]
        if page * 100 >= body["total"]:
            break
        page += 1
    generated = [r for r in resources if re.search(r" \(\d+\)$", r["title"])]
    recording = next(r for r in resources if r["title"] == "Load test recording")
    api(kitlib, "POST", "/api/kits", {"slug": "load-kit", "title": "Load kit",
                                      "items": [r["id"] for r in generated[:20]]})
    webinar = api(kitlib, "POST", "/api/webinars", {
        "title": "Load test webinar", "starts_at": "2020-06-01T10:00:00+02:00",
        "recording": recording["id"]})
    webinars = [w["id"] for w in api(kitlib, "GET", "/api/webinars")["items"]]
    print(f"{len(resources)} resources, kits covid-19-kit and load-kit, webinars "
          f"{webinars}; server pid {kitlib.pid}")
    print(f"search worker done after {wait_for_index(kitlib, args.documents):.1f}s more")

    def line(path: str, auth: bool = False, size: int = 0, whole: int = 0) -> str:
        return f"{path}\t{int(auth)}\t{size}\t{whole}"

    search: list[str] = []
    for i, query in enumerate(QUERIES):
        q = quote(query)
        facet = ("", "&language=fr", "&language=en", "&kind=document", "&tag=covid-19")[i % 5]
        search += [line(f"/api/search?q={q}{facet}", auth=i % 3 == 0),
                   line(f"/search?q={q}{facet}", auth=i % 3 == 1)]
    pages = [line("/"), line("/", auth=True), line("/kits/covid-19-kit"),
             line("/kits/load-kit", auth=True)]
    pages += [line(f"/webinars/{w}", auth=n % 2 == 0) for n, w in enumerate(webinars)]
    readable = [r for r in resources if r["visibility"] in ("public", "members")]
    for n, r in enumerate(readable[:80]):
        pages.append(line(f"/resources/{r['id']}",
                          auth=r["visibility"] != "public" or n % 2 == 0))
    file = recording["files"][0]
    library.recording_size = int(file["size"])
    ranges = [line(file["url"], size=RANGE, whole=library.recording_size)]
    bundles: list[str] = []
    for slug in ("covid-19-kit", "load-kit"):
        # A bundle holds what its caller may open: ranges are asked anonymously, so their
        # bounds come from the size an anonymous caller is told.
        kit = api(kitlib, "GET", f"/api/kits/{slug}", token="")
        url, size = kit["bundle"]["url"], int(kit["bundle"]["size"])
        bundles += [line(url), line(url, auth=True),
                    line(url, size=min(BUNDLE_RANGE, size // 2), whole=size)]
        print(f"bundle {slug}: {human(size)}")
    print(f"webinar {webinar['id']} plays the recording {file['url']} "
          f"({human(library.recording_size)})")
    library.entries = {"search": search, "pages": pages, "ranges": ranges, "bundles": bundles}
    check_entries(library)
    return library


def check_entries(library: Library) -> None:
    """Every URL once, as wrk will ask it: a broken set-up fails here, not as load errors."""
    for kind, lines in library.entries.items():
        for entry in lines:
            path, auth, size, whole = entry.split("\t")
            headers = {"Authorization": f"Bearer {library.member_token}"} if auth == "1" else {}
            if int(size):  # the last range wrk may ask
                headers["Range"] = f"bytes={int(whole) - int(size)}-{int(whole) - 1}"
            req = urllib.request.Request(f"{library.base}{path}", headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=60) as response:
                    response.read()
                    expected = 206 if int(size) else 200
                    if response.status != expected:
                        raise RuntimeError(f"{kind} {path}: {response.status}, not {expected}")
            except urllib.error.HTTPError as exc:
                raise RuntimeError(f"{kind} {path} (auth {auth}): {exc.code}") from None
    counts = ", ".join(f"{k} {len(v)}" for k, v in library.entries.items())
    print(f"checked every URL once ({counts})")
