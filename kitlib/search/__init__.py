"""Full-text search: the only package that imports Whoosh; it never touches the database.

``schema`` (documents, fields, errors), ``analysis`` (French and English analyzers, query
parsing, snippets, cues), ``store`` (the index on disk: open, stamp, rebuild and swap, writes),
``searcher`` (queries, ranking, highlights, facets, suggestions), ``view`` (document sets as
bitmaps) and ``postings`` (decoded posting lists, cached across commits, and exact BM25F).
Callers import the names below from ``kitlib.search``, each taken from the module that
defines it. Imports nothing of kitlib but ``settings``, ``errors`` and ``formats``.
"""

from __future__ import annotations

from kitlib.search.schema import (
    FACETS,
    SCHEMA,
    Access,
    Completion,
    CompletionKind,
    CueHit,
    Filters,
    Hit,
    IndexBusy,
    IndexCorrupt,
    IndexDoc,
    IndexOutdated,
    IndexUnavailable,
    SearchIndexError,
    SearchResult,
    Sort,
    to_fields,
)
from kitlib.search.searcher import (
    Searcher,
    Weighting,
    weighting,
)
from kitlib.search.store import (
    CURRENT,
    STAMP_FILE,
    all_ids,
    apply,
    expected_stamp,
    needs_rebuild,
    open_or_create,
    rebuild,
    writer,
)

__all__ = [
    "CURRENT",
    "FACETS",
    "SCHEMA",
    "STAMP_FILE",
    "Access",
    "Completion",
    "CompletionKind",
    "CueHit",
    "Filters",
    "Hit",
    "IndexBusy",
    "IndexCorrupt",
    "IndexDoc",
    "IndexOutdated",
    "IndexUnavailable",
    "SearchIndexError",
    "SearchResult",
    "Searcher",
    "Sort",
    "Weighting",
    "all_ids",
    "apply",
    "expected_stamp",
    "needs_rebuild",
    "open_or_create",
    "rebuild",
    "to_fields",
    "weighting",
    "writer",
]
