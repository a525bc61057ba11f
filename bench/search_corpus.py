"""The text the search benchmarks run on: where the BEIR SciFact collection is, and the
documents and queries bench.search synthesises from it (seeded, so every run is the same)."""

from __future__ import annotations

import json
import os
import random
import re
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

# The shared corpora sit beside the checkout (../shared/corpus), not inside it.
DEFAULT_SCIFACT = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "scifact"
CORPUS_ENV = "BENCH_CORPUS"


def scifact_dir(override: Path | None = None) -> Path:
    """The collection's folder: ``override``, else $BENCH_CORPUS, else ../shared/corpus/scifact."""
    if override is not None:
        return override
    return Path(os.environ[CORPUS_ENV]) if os.environ.get(CORPUS_ENV) else DEFAULT_SCIFACT


def corpus_file(folder: Path, name: str) -> Path:
    """``folder/name``; if it is missing, exit with the path tried and how to name another."""
    path = folder / name
    if not path.is_file():
        sys.exit(f"no corpus file at {path}: put the BEIR collection there, pass --corpus DIR "
                 f"(bench.relevance) or set {CORPUS_ENV}=DIR")
    return path


SEED = 20261125

LANGS = [("en", 88), ("fr", 8), ("de", 2), ("es", 2)]
KINDS = [("document", 40), ("slides", 15), ("webinar", 12), ("report", 10), ("guide", 8),
         ("template", 6), ("video", 5), ("checklist", 4)]
VISIBILITIES = [("public", 55), ("members", 35), ("staff", 10)]
TAGS = (
    "oncology genetics immunology cardiology neurology epidemiology microbiology "
    "pharmacology nutrition metabolism diabetes obesity ageing stem-cells vaccines "
    "infectious-disease public-health clinical-trial meta-analysis cohort-study "
    "mental-health paediatrics surgery imaging biomarkers proteomics genomics "
    "bioinformatics statistics methods ethics policy guidelines training webinar-series "
    "Santé-publique Sécurité Prévention Recherche-clinique"
).split()


def _weighted(rng: random.Random, table: list[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in table], weights=[w for _, w in table])[0]


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(])")


def load_corpus() -> tuple[list[str], list[list[str]]]:
    """Titles and sentence lists of the SciFact abstracts (those with text)."""
    titles: list[str] = []
    sentences: list[list[str]] = []
    with corpus_file(scifact_dir(), "corpus.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            parts = [s.strip() for s in _SENTENCE.split(row.get("text", "")) if s.strip()]
            if row.get("title") and parts:
                titles.append(row["title"])
                sentences.append(parts)
    return titles, sentences


def make_docs(n: int, seed: int = SEED) -> Iterator[Any]:
    """n deterministic IndexDocs built from real abstracts (streamed, never all in memory)."""
    from kitlib.search import IndexDoc

    titles, sentences = load_corpus()
    rng = random.Random(seed)
    m = len(titles)
    for i in range(1, n + 1):
        t = rng.randrange(m)
        picks: list[str] = []
        for _ in range(rng.randint(3, 8)):
            a = rng.randrange(m)
            while a == t:
                a = rng.randrange(m)
            src = sentences[a]
            k = rng.randrange(len(src))
            picks.extend(src[k : k + rng.randint(1, 2)])
        year = min(2026, 2005 + int(rng.betavariate(3, 1.2) * 22))
        published = date(year, rng.randint(1, 12), rng.randint(1, 28))
        yield IndexDoc(
            id=i,
            title=titles[t],
            language=_weighted(rng, LANGS),
            kind=_weighted(rng, KINDS),
            visibility=_weighted(rng, VISIBILITIES),
            summary=picks[0],
            body=" ".join(picks[1:]),
            tags=tuple(sorted(set(rng.sample(TAGS, rng.choice((0, 1, 1, 2, 2, 3, 4)))))),
            kits=tuple(sorted({rng.randint(1, 300) for _ in range(rng.choice((0, 0, 1, 1, 2)))})),
            published=published,
            download_count=int(rng.paretovariate(1.3)) - 1,
            fingerprint=f"{i}-{year}",
        )


def make_queries(n: int, warmup: int, seed: int = SEED + 1) -> list[dict[str, Any]]:
    """n + warmup queries of 1-3 content words taken near each other in a real abstract."""
    from kitlib.search.analysis import STOPWORDS

    _, sentences = load_corpus()
    stops = STOPWORDS["en"]
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    while len(out) < n + warmup:
        words = [w for w in re.findall(r"[A-Za-z]{3,}", " ".join(rng.choice(sentences)))
                 if w.lower() not in stops]
        if len(words) < 4:
            continue
        size = rng.choice((1, 1, 2, 2, 2, 3))
        start = rng.randrange(len(words) - size)
        picked = list(dict.fromkeys(w.lower() for w in words[start : start + size + 1]))[:size]
        query: dict[str, Any] = {"text": " ".join(picked)}
        if len(out) % 4 == 3:  # one query in four narrows by a facet, as users do
            if rng.random() < 0.5:
                query["kind"] = _weighted(rng, KINDS)
            else:
                query["year"] = rng.randint(2012, 2026)
        out.append(query)
    return out
