"""Relevance of kitlib's search on a BEIR collection (default: SciFact), as trec_eval scores it.

Indexes the corpus through kitlib.search (same analyzers, ranking and query reading as
production, documents in English), runs every query that has judgements and prints, last,
``nDCG@10 0.xxxx`` and ``Recall@100 0.xxxx``. Also reports indexing speed and the latency of
full searches (facets, snippets, suggestion) on stderr-free stdout lines before those two.

    python -m bench.relevance [--corpus DIR] [--index DIR] [--set NAME=VALUE ...]

``--set`` overrides a ranking constant of kitlib.search.searcher or kitlib.search.query for
experiments only (e.g. ``--set K1=0.9 --set TITLE_BOOST=0.5``); reported figures use the
defaults.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench.search_corpus import CORPUS_ENV, corpus_file, scifact_dir
from kitlib import search as si
from kitlib.search import query as sq
from kitlib.search import searcher as ss


def read_jsonl(path: Path) -> Iterator[dict[str, str]]:
    """Rows of a JSON-lines file."""
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """query id -> {doc id: relevance}; a header line, if any, is skipped."""
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or not parts[2].strip().lstrip("-").isdigit():
                continue  # header ("query-id corpus-id score") or blank
            qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    return qrels


def ndcg_at(ranked: list[str], rel: dict[str, int], k: int) -> float:
    """nDCG@k with binary gains, as trec_eval's ndcg_cut on binary judgements."""
    dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(ranked[:k]) if rel.get(d, 0) > 0)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, sum(v > 0 for v in rel.values()))))
    return dcg / ideal if ideal else 0.0


def recall_at(ranked: list[str], rel: dict[str, int], k: int) -> float:
    """Share of the relevant documents found in the first k."""
    relevant = {d for d, v in rel.items() if v > 0}
    return len(relevant.intersection(ranked[:k])) / len(relevant) if relevant else 0.0


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def main() -> None:
    """Index, query, score."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None,
                        help="a BEIR-format folder (default: $" + CORPUS_ENV
                        + ", else ../shared/corpus/scifact beside the checkout)")
    parser.add_argument("--index", type=Path, default=None, help="reuse/keep this index folder")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    for item in args.set:
        name, _, value = item.partition("=")
        owners = [m for m in (ss, sq) if name.isupper() and name in vars(m)]
        if not owners:
            parser.error(f"--set {name}: not a ranking constant of kitlib.search")
        setattr(owners[0], name, type(getattr(owners[0], name))(value))

    folder = scifact_dir(args.corpus)
    corpus, queries_file, qrels_file = (
        corpus_file(folder, name) for name in ("corpus.jsonl", "queries.jsonl", "qrels.tsv"))
    docs = list(read_jsonl(corpus))
    # BEIR ids are strings ("MED-10" in some sets); the index wants ints.
    names = [str(d["_id"] if "_id" in d else d["id"]) for d in docs]
    queries = {
        str(q.get("_id", q.get("id"))): q["text"] for q in read_jsonl(queries_file)
    }
    qrels = read_qrels(qrels_file)

    tmp = tempfile.TemporaryDirectory(prefix="kitlib-bench-")
    path = args.index or Path(tmp.name) / "index"
    if args.index is None or si.needs_rebuild(path):
        start = time.perf_counter()
        count = si.rebuild(
            path,
            (
                si.IndexDoc(id=i, title=d.get("title", ""), language="en", body=d.get("text", ""))
                for i, d in enumerate(docs)
            ),
        )
        took = time.perf_counter() - start
        print(f"indexed {count} docs in {took:.1f} s ({count / took:.0f} docs/s)")

    searcher = si.Searcher(path)
    everyone = si.Access.unrestricted()
    ndcgs: list[float] = []
    recalls: list[float] = []
    start = time.perf_counter()
    judged = [q for q in queries if any(v > 0 for v in qrels.get(q, {}).values())]
    for qid in judged:
        hits = searcher.rank(queries[qid], access=everyone, limit=100)
        # trec_eval order: score descending, then document name descending.
        hits.sort(key=lambda h: names[h[0]], reverse=True)
        hits.sort(key=lambda h: h[1], reverse=True)
        ranked = [names[i] for i, _ in hits]
        ndcgs.append(ndcg_at(ranked, qrels[qid], 10))
        recalls.append(recall_at(ranked, qrels[qid], 100))
    rank_time = (time.perf_counter() - start) / max(1, len(judged))

    latencies = []
    for qid in judged:
        t0 = time.perf_counter()
        searcher.search(queries[qid], access=everyone, per_page=10)
        latencies.append((time.perf_counter() - t0) * 1000)
    searcher.close()
    tmp.cleanup()
    print(f"queries {len(judged)}; ranking only {rank_time * 1000:.1f} ms/query")
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    print(
        "search with facets+snippets+suggestion, per_page=10:"
        f" p50 {p50:.1f} ms, p95 {p95:.1f} ms, mean {statistics.mean(latencies):.1f} ms"
    )
    print(f"nDCG@10 {statistics.mean(ndcgs):.4f}")
    print(f"Recall@100 {statistics.mean(recalls):.4f}")


if __name__ == "__main__":
    main()
