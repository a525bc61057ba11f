"""Search speed of kitlib against SQLite FTS5 on the same ≥ 100,000 documents and queries.

Documents are synthesised offline, deterministically (seeded), from real text: the 5,183
abstracts of BEIR SciFact (``../shared/corpus/scifact`` beside the checkout, or
``$BENCH_CORPUS``; see bench.search_corpus). Each document
takes its title from one abstract and its summary and body from 3-8 sentences drawn from
*other*, randomly chosen abstracts, so no two documents share the same text, yet every
sentence is real English prose. Metadata are random but skewed like a real library:
language (mostly "en"), kind, visibility, year, 0-4 tags, 0-2 kits, download count.

Each phase runs in its own child process so that its peak RSS (VmHWM) is its own:

1. kitlib: ``kitlib.search.rebuild`` (the production path: one writer, ``limitmb`` default,
   ``--procs`` processes as ``kitlib reindex`` picks them) - docs/s, size, peak RSS (with
   sub-processes: the parent plus procs × the largest child's peak);
2. kitlib: ``Searcher.warm`` (what the app runs in the background once it opens an index:
   the commonest terms' posting lists decoded into the block cache), then
   ``Searcher.search`` as a member (public + members visibilities), facets,
   highlighted titles and snippets and spelling suggestion (always on), ``per_page=10``;
3. SQLite FTS5 (``porter unicode61 remove_diacritics 2``): bulk insert in one transaction
   plus ``optimize``; then per query one bm25-ranked pass over every visible match into a
   temporary table, the top 10 with ``highlight()``/``snippet()``, and facet counts (kind,
   language, year, tag, kit) by ``GROUP BY`` over the matches.

The same queries (1-3 words from the corpus vocabulary, seeded; every fourth one with a
kind or year facet filter) go to both engines after a warm-up.

    python -m bench.search [--docs 100000] [--queries 300] [--keep DIR] [--max-seconds 1800]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.search_corpus import SEED, make_docs, make_queries
from bench.search_fts import fts_index, fts_search
from bench.search_measure import (
    MEMBER_VISIBILITIES,
    WARMUP,
    Timer,
    dir_size,
    peak_rss_mib,
    rss_split_mib,
)

TARGET_P95_MS = 50.0
TARGET_RSS_MIB = 1024.0
TARGET_REINDEX_S = 600.0


# --------------------------------------------------------------------------- kitlib


def kitlib_index(path: str, n: int, procs: int) -> dict[str, Any]:
    """Child: full rebuild through the production path."""
    from kitlib import search as si
    base = peak_rss_mib()
    t0 = time.perf_counter()
    count = si.rebuild(path, make_docs(n), procs=procs)
    took = time.perf_counter() - t0
    # With sub-processes, count each at the largest one's peak: an upper bound of the sum.
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 if procs > 1 else 0
    return {"count": count, "seconds": took, "rss": peak_rss_mib() + procs * child,
            "rss_start": base,
            "size": dir_size(Path(path))}


def kitlib_search(path: str, queries: list[dict[str, Any]], deadline: float) -> dict[str, Any]:
    """Child: searches as a member with facets, highlights and suggestion."""
    from kitlib import search as si
    t0 = time.perf_counter()
    searcher = si.Searcher(path)
    open_ms = (time.perf_counter() - t0) * 1000
    # What the app does in the background once it opens an index (SearchService).
    t0 = time.perf_counter()
    warmed = searcher.warm()
    warm_s = time.perf_counter() - t0
    access = si.Access(visibilities=frozenset(MEMBER_VISIBILITIES))

    def one(q: dict[str, Any]) -> int:
        filters = si.Filters(
            kinds=(q["kind"],) if "kind" in q else (), years=(q["year"],) if "year" in q else ()
        )
        res = searcher.search(q["text"], access=access, filters=filters, per_page=10)
        assert len(res.facets) >= 5 and all(h.snippet_html for h in res.hits)
        return res.total

    out = Timer(deadline).run(queries, one)
    out.update(rss_split_mib())
    searcher.close()
    out.update(open_ms=open_ms, warm_s=warm_s, warmed=warmed, rss=peak_rss_mib())
    return out


def kitlib_profile(path: str, query: dict[str, Any]) -> str:
    """Child: cProfile of one (warm) search, top functions by cumulative time."""
    import cProfile
    import io
    import pstats

    from kitlib import search as si
    searcher = si.Searcher(path)
    access = si.Access(visibilities=frozenset(MEMBER_VISIBILITIES))
    filters = si.Filters(
        kinds=(query["kind"],) if "kind" in query else (),
        years=(query["year"],) if "year" in query else (),
    )
    for _ in range(2):
        searcher.search(query["text"], access=access, filters=filters, per_page=10)
    prof = cProfile.Profile()
    prof.enable()
    searcher.search(query["text"], access=access, filters=filters, per_page=10)
    prof.disable()
    searcher.close()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(25)
    return buf.getvalue()


# --------------------------------------------------------------------------- driver


PHASES = {f.__name__: f for f in (kitlib_index, kitlib_search, kitlib_profile, fts_index,
                                  fts_search)}


def _child(conn: Any, fn_name: str, args: tuple[Any, ...]) -> None:
    try:
        conn.send(("ok", PHASES[fn_name](*args)))
    except BaseException as exc:  # report every failure to the parent
        conn.send(("error", repr(exc)))
    finally:
        conn.close()


def in_child(fn_name: str, *args: Any, deadline: float) -> dict[str, Any] | str:
    """Run one of the PHASES in a fresh (spawned) process; its result or an error."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn_name, args))
    proc.start()
    child.close()
    remaining = max(1.0, deadline - time.time() + 30)
    if not parent.poll(remaining):
        proc.terminate()
        proc.join(10)
        return "timed out (--max-seconds)"
    status, value = parent.recv()
    proc.join()
    return value if status == "ok" else f"failed: {value}"


def _fmt(v: float | None, spec: str = ".1f") -> str:
    return "n/a" if v is None else format(v, spec)


def _get(r: dict[str, Any] | str, key: str) -> float | None:
    return r.get(key) if isinstance(r, dict) else None


def table(n: int, ki: Any, ks: Any, fi: Any, fs: Any) -> str:
    """The Markdown results table."""
    rows: list[tuple[str, float | None, float | None, str, str, bool | None]] = []

    def rate(r: Any) -> float | None:
        return r["count"] / r["seconds"] if isinstance(r, dict) else None

    def mib(r: Any, key: str) -> float | None:
        v = _get(r, key)
        return None if v is None else v / 2**20

    k_s = _get(ki, "seconds")
    k_rss = _get(ki, "rss")
    k_p95 = _get(ks, "p95")
    rows += [
        ("indexing throughput (docs/s)", rate(ki), rate(fi), ".0f", "", None),
        (f"full reindex of {n:,} docs (s)", k_s, _get(fi, "seconds"), ".1f",
         f"≤ {TARGET_REINDEX_S:.0f} s", None if k_s is None else k_s <= TARGET_REINDEX_S),
        ("index size on disk (MiB)", mib(ki, "size"), mib(fi, "size"), ".1f", "", None),
        ("peak RSS while indexing (MiB)", k_rss, _get(fi, "rss"), ".0f",
         f"< {TARGET_RSS_MIB:.0f} MiB", None if k_rss is None else k_rss < TARGET_RSS_MIB),
        ("search p50 (ms)", _get(ks, "p50"), _get(fs, "p50"), ".1f", "", None),
        ("search p95 (ms)", k_p95, _get(fs, "p95"), ".1f", f"≤ {TARGET_P95_MS:.0f} ms",
         None if k_p95 is None else k_p95 <= TARGET_P95_MS),
        ("search mean (ms)", _get(ks, "mean"), _get(fs, "mean"), ".1f", "", None),
        ("slowest query (ms)", _get(ks, "max"), _get(fs, "max"), ".0f", "", None),
        ("first query after open (ms)", _get(ks, "first_ms"), _get(fs, "first_ms"), ".0f", "",
         None),
        ("open searcher / connection (ms)", _get(ks, "open_ms"), _get(fs, "open_ms"), ".0f", "",
         None),
        ("background warm-up after open (s)", _get(ks, "warm_s"), None, ".1f", "", None),
        ("peak RSS while searching (MiB)", _get(ks, "rss"), _get(fs, "rss"), ".0f", "", None),
        ("mean matches per query", _get(ks, "mean_total"), _get(fs, "mean_total"), ".0f", "",
         None),
    ]
    lines = [
        "| measure | kitlib | SQLite FTS5 | kitlib / FTS5 | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for name, k, f, spec, target, met in rows:
        ratio = f"{k / f:.2f}" if k is not None and f else ""
        flag = "" if met is None else ("yes" if met else "NO")
        cells = [name, _fmt(k, spec), _fmt(f, spec), ratio, target, flag]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    """Build both indexes in child processes, query both, print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--keep", type=Path, default=None, help="build (and keep) indexes here")
    parser.add_argument("--max-seconds", type=float, default=1800.0)
    parser.add_argument("--procs", type=int, default=None,
                        help="rebuild processes (default: what `kitlib reindex` would use)")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile of the "
                        "slowest kitlib query")
    args = parser.parse_args()
    if args.procs is None:
        from kitlib.services.indexing import MAX_PROCS, PARALLEL_FROM

        parallel = args.docs >= PARALLEL_FROM
        args.procs = max(1, min(os.cpu_count() or 1, MAX_PROCS)) if parallel else 1
    start = time.time()
    deadline = start + args.max_seconds
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        work = args.keep
        tmp = None
    else:
        tmp = tempfile.TemporaryDirectory(prefix="kitlib-bench-search-")
        work = Path(tmp.name)
    index_path, db_path = work / "kitlib-index", work / "fts5.sqlite"
    shutil.rmtree(index_path, ignore_errors=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)

    print(f"bench/search: {args.docs:,} documents, {args.queries} queries (+{WARMUP} warm-up), "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print("documents: title of one SciFact abstract + 3-8 sentences of other random abstracts "
          f"(seed {SEED}); metadata random (88% en; kinds, visibilities, years, tags, kits)")
    queries = make_queries(args.queries, WARMUP)
    print("queries: 1-3 content words from one abstract sentence, all required (OR if none "
          "match); 1 in 4 with a kind or year filter; examples:",
          "; ".join(q["text"] for q in queries[WARMUP : WARMUP + 6]), flush=True)
    results: dict[str, Any] = {}
    try:
        for key, fn, fargs in (
            ("fts_index", "fts_index", (str(db_path), args.docs)),
            ("fts_search", "fts_search", (str(db_path), queries, deadline)),
            ("kitlib_index", "kitlib_index", (str(index_path), args.docs, args.procs)),
            ("kitlib_search", "kitlib_search", (str(index_path), queries, deadline)),
        ):
            if key.endswith("search") and not isinstance(results[key[:-6] + "index"], dict):
                results[key] = "skipped (no index)"
                continue
            if time.time() > deadline:
                results[key] = "skipped (--max-seconds)"
                continue
            t0 = time.time()
            results[key] = in_child(fn, *fargs, deadline=deadline)
            r = results[key]
            brief = {k: v for k, v in r.items() if k != "slowest"} if isinstance(r, dict) else r
            print(f"  {key}: {time.time() - t0:.1f} s {brief}", flush=True)
        ks = results["kitlib_search"]
        print()
        print(table(args.docs, results["kitlib_index"], ks, results["fts_index"],
                    results["fts_search"]))
        for key in ("kitlib_search", "fts_search"):
            r = results[key]
            if isinstance(r, dict):
                print(f"{key}: {r['queries']} measured queries, {r.get('zero', 0)} with no match;"
                      f" slowest {r.get('slowest')} ({_fmt(r.get('max'), '.0f')} ms)")
        if isinstance(ks, dict) and ks.get("slowest") and not args.no_profile:
            if time.time() < deadline:
                prof = in_child("kitlib_profile", str(index_path), ks["slowest"],
                                deadline=deadline)
                print(f"\ncProfile of the slowest kitlib query {ks['slowest']}:")
                print(prof if isinstance(prof, str) else json.dumps(prof))
        print(f"total bench time {time.time() - start:.0f} s")
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
