"""Bundle throughput: a kit's ZIP (`GET /api/bundles?kit=…`) against downloading the same
files one by one, in one run, from the same kitlib server.

Creates ``--files`` files of random bytes (``--size`` in all, ≥ 2 GiB by default), uploads
them, puts them in a kit, then measures, interleaved and after one warm-up each:

(a) the kit's files downloaded one after the other by one curl (``-o /dev/null`` each);
(b) the kit's bundle by curl (``-o /dev/null``);

with the server's VmRSS sampled every 10 ms during (b), then the time to the first body
byte of a resume at 90 % of the bundle (``Range: bytes=N-`` with ``If-Range``), whose bytes
appended to the first 90 % must hash like the whole. With ``--zip64-size`` (default 4.5GiB)
a sparse file larger than 4 GiB goes into a kit of its own, and its bundle, written to
disk, must pass ``python -m zipfile -t`` and ``unzip -t``.

    .venv/bin/python -m bench.bundle [--size 2GiB] [--files 4] [--runs 3]
        [--zip64-size 4.5GiB] [--no-docs]

Needs curl and unzip; installs nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import subprocess
import sys
import time
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from bench._report import machine_note, table, today, update_docs
from bench.harness import (
    MIB,
    NO_WORKERS,
    PDF_HEADER,
    Bench,
    ProcStat,
    RssSampler,
    bench_session,
    human,
    median,
    parse_size,
    require,
    warm_page_cache,
    write_test_file,
)
from bench.servers import Kitlib


def api(kitlib: Kitlib, method: str, path: str, body: Any | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{kitlib.base}{path}", data=data, method=method, headers={
        "Authorization": f"Bearer {kitlib.token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as response:
        return json.loads(response.read() or b"null")


def curl_seconds(urls: list[str], expected: int) -> float:
    """Wall time of one curl fetching every URL to /dev/null (one connection, kept alive)."""
    argv = ["curl", "-sS", "--fail", "--max-time", "900", "-w", "%{size_download}\n"]
    for url in urls:
        argv += ["-o", "/dev/null", url]
    t0 = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=960)
    seconds = time.perf_counter() - t0
    got = sum(int(n) for n in done.stdout.split())
    if done.returncode != 0 or got != expected:
        raise RuntimeError(f"curl got {got} of {expected} bytes: {done.stderr}")
    return seconds


def fetch(url: str, headers: dict[str, str], digest: Any | None = None,
          limit: int | None = None) -> tuple[int, http.client.HTTPMessage, float, int]:
    """(status, headers, seconds to the first body byte, bytes read), hashing the body."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.netloc, timeout=600)
    t0 = time.perf_counter()
    conn.request("GET", f"{parts.path}?{parts.query}", headers=headers)
    response = conn.getresponse()
    first = response.read(1)
    ttfb = time.perf_counter() - t0
    got = len(first)
    if digest is not None:
        digest.update(first)
    while limit is None or got < limit:
        chunk = response.read(min(8 * MIB, limit - got) if limit is not None else 8 * MIB)
        if not chunk:
            break
        got += len(chunk)
        if digest is not None:
            digest.update(chunk)
    conn.close()
    return response.status, response.headers, ttfb, got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="2GiB", help="the kit's total size (default 2GiB)")
    parser.add_argument("--files", type=int, default=4, help="files in the kit (default 4)")
    parser.add_argument("--runs", type=int, default=3, help="measured runs of each (>=3)")
    parser.add_argument("--zip64-size", default="4.5GiB",
                        help="sparse file for the ZIP64 check (0: skip)")
    parser.add_argument("--max-seconds", type=int, default=1800, help="hard time bound")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args()
    for tool in ("curl", "unzip"):
        require(tool, tool)
    with bench_session(args.max_seconds, keep=args.keep) as bench:
        run(bench, args)


def run(bench: Bench, args: argparse.Namespace) -> None:
    total = parse_size(args.size)
    print(f"temporary folder {bench.root}; {machine_note()}")
    kitlib = Kitlib(bench, NO_WORKERS)
    ids, urls, sizes = [], [], []
    for i in range(args.files):
        source = bench.root / f"part{i}.pdf"
        write_test_file(source, total // args.files)
        body, seconds = kitlib.upload(source, title=f"Partie {i + 1}")
        source.unlink()
        ids.append(body["id"])
        urls.append(f"{kitlib.base}{body['files'][0]['url']}")
        sizes.append(body["files"][0]["size"])
        print(f"uploaded part {i + 1}: {human(sizes[-1])} in {seconds:.1f}s")
    api(kitlib, "POST", "/api/kits", {"slug": "bench-kit", "title": "Bench", "items": ids})
    kit = api(kitlib, "GET", "/api/kits/bench-kit")
    bundle_url = f"{kitlib.base}{kit['bundle']['url']}"
    bundle_size = int(kit["bundle"]["size"])
    files_size = sum(sizes)
    subprocess.run(["sync"], check=True, timeout=300)
    for blob in sorted((kitlib.uploads).glob("??/??/*")):
        warm_page_cache(blob)

    proc = ProcStat(kitlib.pid)
    rss_before = proc.status().get("VmRSS", 0)
    singles: list[float] = []
    bundles: list[float] = []
    peaks: list[int] = []
    curl_seconds(urls, files_size)
    curl_seconds([bundle_url], bundle_size)
    cpu = {"files": 0.0, "bundle": 0.0}
    for i in range(args.runs):
        # Which goes first alternates, so drift and the previous transfer hit both alike.
        for kind in ("files", "bundle") if i % 2 == 0 else ("bundle", "files"):
            cpu0 = proc.cpu()
            if kind == "files":
                singles.append(files_size / MIB / curl_seconds(urls, files_size))
            else:
                with RssSampler(kitlib.pid) as sampler:
                    bundles.append(bundle_size / MIB / curl_seconds([bundle_url], bundle_size))
                peaks.append(sampler.peak)
            cpu[kind] += proc.cpu() - cpu0
        print(f"  run {i + 1}: files one by one {singles[-1]:6.0f} MiB/s, bundle "
              f"{bundles[-1]:6.0f} MiB/s, server VmRSS peak {human(sampler.peak)}")
    rss_after = proc.status().get("VmRSS", 0)

    # Resume at 90 %: time to the first body byte, and the bytes must join up.
    whole = hashlib.sha256()
    status, headers, _, _ = fetch(bundle_url, {}, whole)
    cut = bundle_size * 9 // 10
    joined = hashlib.sha256()
    fetch(bundle_url, {}, joined, limit=cut)
    t0 = time.perf_counter()
    status, _, ttfb, got = fetch(bundle_url, {"Range": f"bytes={cut}-",
                                              "If-Range": headers["etag"]}, joined)
    resume_seconds = time.perf_counter() - t0
    if status != 206 or joined.digest() != whole.digest() or cut + got != bundle_size:
        raise RuntimeError("the resumed bundle does not join up with its first 90 %")
    print(f"  resume at 90 %: first byte after {ttfb:.2f}s, rest in {resume_seconds:.2f}s "
          "(sha256 of the joined bytes = sha256 of the whole)")

    zip64 = zip64_check(bench, kitlib, parse_size(args.zip64_size)) if args.zip64_size != "0" \
        else None
    per_gib = {k: v / args.runs / (files_size / 1024**3) for k, v in cpu.items()}
    report(args, files_size, bundle_size, singles, bundles, peaks, rss_before, rss_after,
           ttfb, resume_seconds, zip64, per_gib)


def zip64_check(bench: Bench, kitlib: Kitlib, size: int) -> str:
    """A sparse file over 4 GiB in a kit of its own: its bundle must be a valid ZIP64."""
    source = bench.root / "sparse.pdf"
    with source.open("wb") as out:
        out.write(PDF_HEADER)
        out.truncate(size)
    body, _ = kitlib.upload(source, title="Sparse")
    source.unlink()
    api(kitlib, "POST", "/api/kits", {"slug": "zip64", "title": "ZIP64", "items": [body["id"]]})
    kit = api(kitlib, "GET", "/api/kits/zip64")
    target = bench.root / "zip64.zip"
    t0 = time.perf_counter()
    done = subprocess.run(["curl", "-sS", "--fail", "-o", str(target),
                           f"{kitlib.base}{kit['bundle']['url']}"], timeout=900)
    seconds = time.perf_counter() - t0
    if done.returncode != 0 or target.stat().st_size != kit["bundle"]["size"]:
        raise RuntimeError("the ZIP64 bundle did not arrive whole")
    for argv in ([sys.executable, "-m", "zipfile", "-t", str(target)],
                 ["unzip", "-tq", str(target)]):
        checked = subprocess.run(argv, capture_output=True, text=True, timeout=900)
        if checked.returncode != 0:
            raise RuntimeError(f"{argv[0]} rejects the ZIP64 bundle: {checked.stdout}")
    with target.open("rb") as f:
        f.seek(-200, 2)
        is_zip64 = b"PK\x06\x06" in f.read()
    target.unlink()
    note = (f"ZIP64: a {human(size)} sparse file's bundle ({human(kit['bundle']['size'])}, "
            f"Content-Length exact) arrived in {seconds:.1f}s "
            f"({kit['bundle']['size'] / MIB / seconds:.0f} MiB/s, to disk); "
            f"{'ZIP64 end record present; ' if is_zip64 else 'NO ZIP64 record; '}"
            "`python -m zipfile -t` and `unzip -t` pass.")
    print("  " + note)
    return note


def report(args: argparse.Namespace, files_size: int, bundle_size: int, singles: list[float],
           bundles: list[float], peaks: list[int], rss_before: int, rss_after: int,
           ttfb: float, resume_seconds: float, zip64: str | None,
           cpu: dict[str, float]) -> None:
    single, bundle = median(singles), median(bundles)
    ratio = bundle / single
    growth = max(peaks) - rss_before
    rows = [
        ["test", "MiB/s (median)", "runs", "server CPU s/GiB", "bundle/files", "target",
         "met"],
        [f"{args.files} files one by one, {human(files_size)}", f"{single:.0f}",
         " ".join(f"{s:.0f}" for s in singles), f"{cpu['files']:.2f}", "", "", ""],
        [f"kit bundle, {human(bundle_size)}", f"{bundle:.0f}",
         " ".join(f"{s:.0f}" for s in bundles), f"{cpu['bundle']:.2f}", f"{ratio:.2f}",
         "≥ 0.80", "yes" if ratio >= 0.8 else "NO"],
    ]
    text = table(rows)
    memory = (f"Server VmRSS {human(rss_before)} before, highest sampled during the bundles "
              f"{human(max(peaks))} (+{human(growth)}), {human(rss_after)} after: "
              f"{'flat' if growth < 64 * MIB else 'NOT flat'}.")
    resume = (f"Resume at 90 %: first body byte after {ttfb:.2f}s (the first 90 % are "
              f"regenerated and dropped), the remaining 10 % in {resume_seconds:.2f}s in all; "
              "the joined bytes hash like the whole.")
    print()
    print(text)
    print(memory)
    print(resume)
    if args.no_docs:
        return
    command = (f".venv/bin/python -m bench.bundle --size {args.size} --files {args.files} "
               f"--runs {args.runs} --zip64-size {args.zip64_size}")
    update_docs("Bundles", f"""
`python -m bench.bundle` puts {args.files} files of random bytes ({human(files_size)} in all,
uploaded through the API, in the page cache) in a kit, then downloads, interleaved (which
goes first alternates) after one warm-up each, the kit's files one after the other (one
curl, one kept-alive connection, `-o /dev/null`) and the kit's bundle
(`GET /api/bundles?kit=…`, one curl). kitlib runs as `kitlib serve` (one process); its
VmRSS is sampled every 10 ms during the bundles.

Run on {today()}; machine: {machine_note()}.

```
{command}
```

{text}

{memory}

{resume}

{zip64 or ""}

""")


if __name__ == "__main__":
    main()
