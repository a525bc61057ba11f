"""Load: a real ``kitlib serve`` under 200 concurrent clients for 60 s, four request types.

Builds a throw-away library: the demo (COVID-19 kit, documents, a webinar with its
transcript), ``--documents`` generated Markdown documents in French and English (a quarter
for members only) imported with ``kitlib import``, a recording of ``--recording-seconds``
made with ffmpeg (several MB) on a webinar of its own, and a kit of twenty documents. Waits
for the search worker to empty its queue, checks every URL once, then runs one wrk process
per request type at the same time, ``--connections`` split between them:

- search: ``/api/search?q=…`` and the ``/search?q=…`` page, rotating words and facets;
- pages: ``/``, ``/resources/{id}``, ``/kits/{slug}``, ``/webinars/{id}`` (members-only
  resources with a member's bearer token, the rest anonymous or as a member);
- ranges: ``Range: bytes=N-(N+1MiB-1)`` at random offsets of the recording;
- bundles: ``/api/bundles?kit=…`` whole (both kits) or a random 64 KiB range of one.

Each type gets its own latency distribution (wrk ``latency:percentile``), request count,
socket errors and a count per status (Lua ``response()``); any status >= 400 or socket error
is an error. The server's RSS (summed over its processes, from /proc) is sampled every
``--sample`` seconds. Prints a table and a JSON line per run; exits 1 on any error.

    .venv/bin/python bench/load.py [--duration 60] [--connections 200] [--runs 2]
        [--workers 1] [--documents 300] [--timeout 10] [--types search,pages,ranges,bundles]
        [--no-docs]

Needs wrk and ffmpeg; installs them with apt-get when missing and running as root
(bench/harness.require).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench._report import machine_note, table, today, update_docs
from bench.harness import (
    MIB,
    Bench,
    ProcStat,
    bench_session,
    cpu_of,
    human,
    median,
    require,
)
from bench.servers import Kitlib, Nginx

HEADING = "Load: 200 clients, 60 s"
TYPES = ("search", "pages", "ranges", "bundles")
RANGE = MIB
BUNDLE_RANGE = 64 * 1024

WRK_SCRIPT = Path(__file__).with_name("load.lua")  # one script for every type

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


def raise_fd_limit(needed: int) -> None:
    """200 client sockets, as many server sockets, files and the index: raise the soft cap."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard == resource.RLIM_INFINITY else max(soft, min(hard, 65536))
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < needed:
        sys.exit(f"the open-files limit is {target}, below the {needed} this load needs "
                 "(raise the hard limit, e.g. `ulimit -Hn 65536` as root)")


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


class RssLog:
    """Summed VmRSS of the server's processes every ``interval`` seconds, in a thread."""

    def __init__(self, kitlib: Kitlib, interval: float) -> None:
        self.kitlib = kitlib
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.t0 = time.monotonic()

    def rss(self) -> int:
        return sum(ProcStat(p).status().get("VmRSS", 0) for p in self.kitlib.pids())

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.samples.append((time.monotonic() - self.t0, self.rss()))

    def __enter__(self) -> RssLog:
        self.t0 = time.monotonic()
        self.samples.append((0.0, self.rss()))
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append((time.monotonic() - self.t0, self.rss()))


def run_delay(pids: list[int]) -> float:
    """Seconds the server's event-loop threads spent runnable but waiting for a core."""
    total = 0
    for pid in pids:
        try:  # the main thread's line: run time, run delay, time slices (ns)
            total += int(Path(f"/proc/{pid}/task/{pid}/schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def run_once(bench: Bench, library: Library, args: argparse.Namespace, wrk: str,
             number: int) -> dict[str, Any]:
    kitlib = library.kitlib
    script = WRK_SCRIPT
    procs: dict[str, subprocess.Popen[str]] = {}
    server_cpu0, waited0 = cpu_of(kitlib.pids()), run_delay(kitlib.pids())
    with RssLog(kitlib, args.sample) as rss:
        for kind, connections in zip(args.types, split(args.connections, len(args.types)),
                                     strict=True):
            entries = bench.root / f"{kind}.txt"
            entries.write_text("\n".join(library.entries[kind]) + "\n")
            env = {**os.environ, "LOAD_ENTRIES": str(entries), "LOAD_TOKEN": library.member_token}
            procs[kind] = subprocess.Popen(
                [wrk, "-t1", f"-c{connections}", f"-d{args.duration}s",
                 "--timeout", f"{args.timeout}s", "-s", str(script), library.base],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        outputs = {kind: proc.communicate(timeout=args.duration + 120)[0]
                   for kind, proc in procs.items()}
    server_cpu = cpu_of(kitlib.pids()) - server_cpu0
    waited = run_delay(kitlib.pids()) - waited0
    result: dict[str, Any] = {"run": number, "workers": args.workers, "types": {}}
    for kind, connections in zip(args.types, split(args.connections, len(args.types)),
                                 strict=True):
        line = next((x for x in outputs[kind].splitlines() if x.startswith("LOAD ")), None)
        if line is None:
            raise RuntimeError(f"wrk ({kind}) printed no summary:\n{outputs[kind]}")
        stats = json.loads(line[5:])
        seconds = stats["duration_us"] / 1e6
        socket_errors = sum(stats[k] for k in ("connect", "read", "write", "timeout"))
        http_errors = sum(n for code, n in stats["statuses"].items() if int(code) >= 400)
        result["types"][kind] = {
            "connections": connections, "requests": stats["requests"],
            "rps": stats["requests"] / seconds, "mib_s": stats["bytes"] / MIB / seconds,
            "errors": socket_errors + max(http_errors, stats["status"]),
            "socket_errors": socket_errors, "statuses": stats["statuses"],
            "p50_ms": stats["p50_us"] / 1000, "p90_ms": stats["p90_us"] / 1000,
            "p99_ms": stats["p99_us"] / 1000, "max_ms": stats["max_us"] / 1000}
    result["rss_start"] = rss.samples[0][1]
    result["rss_end"] = rss.samples[-1][1]
    result["rss_peak"] = max(s for _, s in rss.samples)
    result["rss_samples"] = [[round(t, 1), s] for t, s in rss.samples]
    result["rss_end_by_pid"] = {str(p): ProcStat(p).status().get("VmRSS", 0)
                                for p in kitlib.pids()}
    result["server_cpu_pct"] = 100 * server_cpu / args.duration
    result["server_wait_pct"] = 100 * waited / args.duration
    result["errors"] = sum(t["errors"] for t in result["types"].values())
    return result


def run_table(result: dict[str, Any]) -> str:
    rows = [["type", "clients", "requests", "req/s", "MiB/s", "errors", "p50 ms", "p99 ms",
             "max ms", "statuses"]]
    for kind, t in result["types"].items():
        rows.append([kind, str(t["connections"]), str(t["requests"]), f"{t['rps']:.0f}",
                     f"{t['mib_s']:.1f}", str(t["errors"]), f"{t['p50_ms']:.1f}",
                     f"{t['p99_ms']:.1f}", f"{t['max_ms']:.0f}",
                     " ".join(f"{c}×{n}" for c, n in sorted(t["statuses"].items()))])
    return table(rows)


def median_table(results: list[dict[str, Any]], types: list[str]) -> str:
    rows = [["type", "clients", "requests", "req/s", "MiB/s", "errors", "p50 ms", "p99 ms",
             "max ms"]]
    for kind in types:
        per = [r["types"][kind] for r in results]

        def med(key: str, per: list[dict[str, Any]] = per) -> float:
            return median([float(t[key]) for t in per])

        rows.append([kind, str(per[0]["connections"]), f"{med('requests'):.0f}",
                     f"{med('rps'):.0f}", f"{med('mib_s'):.1f}",
                     str(sum(t["errors"] for t in per)), f"{med('p50_ms'):.1f}",
                     f"{med('p99_ms'):.1f}", f"{med('max_ms'):.0f}"])
    return table(rows)


def log_problems(kitlib: Kitlib) -> list[str]:
    log = kitlib.bench.root / "kitlib.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    return [x for x in text.splitlines() if "Traceback" in x or "ERROR" in x or "rror" in x[:40]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds of load (default 60)")
    parser.add_argument("--connections", type=int, default=200,
                        help="concurrent clients in all, split between the types (default 200)")
    parser.add_argument("--runs", type=int, default=2, help="runs, back to back (default 2)")
    parser.add_argument("--workers", type=int, default=1, help="kitlib serve --workers")
    parser.add_argument("--behind-nginx", action="store_true",
                        help="clients go through nginx with deploy/nginx-kitlib.conf")
    parser.add_argument("--documents", type=int, default=300, help="generated documents")
    parser.add_argument("--recording-seconds", type=int, default=60,
                        help="length of the generated recording (about 1 MB per 7 s)")
    parser.add_argument("--timeout", type=int, default=10,
                        help="seconds after which wrk counts a request as an error (default 10)")
    parser.add_argument("--types", default=",".join(TYPES),
                        help="request types to run, comma-separated (default: all four)")
    parser.add_argument("--sample", type=float, default=5.0, help="RSS sampling interval, s")
    parser.add_argument("--max-seconds", type=int, default=1800, help="hard time bound")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args()
    args.types = [t for t in args.types.split(",") if t]
    if not args.types or set(args.types) - set(TYPES):
        parser.error(f"--types takes some of {', '.join(TYPES)}")
    wrk = require("wrk", "wrk")
    require("ffmpeg", "ffmpeg")
    raise_fd_limit(4 * args.connections + 1024)
    with bench_session(args.max_seconds, keep=args.keep) as bench:
        errors = run(bench, args, wrk)
    if errors:
        sys.exit(1)


def run(bench: Bench, args: argparse.Namespace, wrk: str) -> int:
    print(f"temporary folder {bench.root}; {machine_note()}")
    library = build_library(bench, args)
    results = []
    for number in range(1, args.runs + 1):
        print(f"\nrun {number}: {args.connections} clients for {args.duration}s ...", flush=True)
        result = run_once(bench, library, args, wrk, number)
        results.append(result)
        print(run_table(result))
        print(f"server RSS {human(result['rss_start'])} at start, {human(result['rss_end'])} "
              f"at end, peak {human(result['rss_peak'])}; server CPU "
              f"{result['server_cpu_pct']:.0f}% of one core, event loop runnable but waiting "
              f"for a core {result['server_wait_pct']:.0f}% of the time")
        print("JSON " + json.dumps(result))
    problems = log_problems(library.kitlib)
    errors = int(sum(r["errors"] for r in results))
    print(f"\nserver log: {len(problems)} error lines" + "".join(
        f"\n  {x}" for x in problems[:20]))
    text = median_table(results, args.types)
    print(f"\nmedians of {len(results)} run(s):\n{text}")
    if errors:
        print(f"{errors} errors", file=sys.stderr)
    if not args.no_docs:
        write_docs(args, results, text, problems)
    return errors


def write_docs(args: argparse.Namespace, results: list[dict[str, Any]], text: str,
               problems: list[str]) -> None:
    command = (f".venv/bin/python bench/load.py --duration {args.duration} --connections "
               f"{args.connections} --runs {args.runs} --workers {args.workers} "
               f"--documents {args.documents} --timeout {args.timeout}")
    memory = "; ".join(
        f"run {r['run']}: {human(r['rss_start'])} → {human(r['rss_end'])} "
        f"(peak {human(r['rss_peak'])}), server CPU {r['server_cpu_pct']:.0f}% of one core "
        f"(event loops runnable but waiting for a core: {r['server_wait_pct']:.0f}% of the run, "
        "summed over processes)"
        for r in results)
    runs = "\n\n".join(f"Run {r['run']}:\n\n{run_table(r)}" for r in results)
    heading = HEADING if args.workers == 1 else f"{HEADING}, {args.workers} server processes"
    update_docs(heading, f"""
`bench/load.py` starts `kitlib serve --workers {args.workers}` on a library made of the demo,
{args.documents} generated Markdown documents (French and English, a quarter for members
only, imported with `kitlib import`), a {args.recording_seconds} s H.264 recording made with
ffmpeg on a webinar of its own and a kit of twenty documents; waits for the search worker to
empty its queue; then runs four wrk processes at once (1 thread each), {args.connections}
keep-alive connections in all, for {args.duration} s: search (`/api/search` and `/search`,
30 queries with facets), page views (`/`, `/resources/{{id}}`, `/kits/{{slug}}`,
`/webinars/{{id}}`, members-only resources with a member's bearer token), random 1 MiB
`Range` reads of the recording, and kit bundles (both kits whole, or a 64 KiB range).
Errors are socket errors, answers slower than {args.timeout} s (wrk `--timeout`) and statuses
≥ 400 (counted per status in Lua `response()`).
Server RSS is summed over its processes from /proc every {args.sample:.0f} s.

Run on {today()}; machine: {machine_note()}. The 2 cores are shared by the server, its
search worker and the four wrk processes, so absolute figures are low and noisy: compare
the request types with each other, not with other machines.

```
{command}
```

Medians of {len(results)} run(s) (errors: the sum):

{text}

Server RSS: {memory}. Server log: {len(problems)} error lines.

How to read it: wrk keeps every connection busy (a client asks again as soon as it has its
answer), so a type's latency is about its clients divided by its throughput: with all
types at once the p50s show how the server shares its cores between types, not how long one
request takes on an idle server. The event loops' time "runnable but waiting for a core" is
time the machine did not give them (wrk, the search worker's threads and anything else
running on these 2 cores).

{runs}
""")


if __name__ == "__main__":
    main()
