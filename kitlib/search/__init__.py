"""Full-text search: the only package that imports Whoosh; it never touches the database.

From the bottom up: ``analysis`` (French and English tokens, folding, stems), ``schema``
(documents, fields, errors), ``query`` (reading what people type; Whoosh queries and
did-you-mean), ``highlight`` (snippets and matching transcript cues), ``store`` (the index on
disk: open, stamp, rebuild and swap, writes), ``view`` (document sets as bitmaps),
``postings`` (decoded posting lists, cached across commits, and exact BM25F) and ``searcher``
(ranking, facets, suggestions: one self-refreshing searcher per index folder).
Callers import the names below from ``kitlib.search``, each taken from the module that
defines it. Imports nothing of kitlib but ``settings``, ``errors`` and ``formats``.
"""

from __future__ import annotations

from kitlib.search.analysis import tag_key
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
    "tag_key",
    "to_fields",
    "weighting",
    "writer",
]
