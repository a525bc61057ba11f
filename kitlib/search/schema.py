"""What the search index holds: its documents, the schema and the errors it raises.

Part of the search package: with ``store``, ``searcher``, ``view`` and
``postings``, the only code that knows Whoosh.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from whoosh import fields as wf  # type: ignore[import-untyped,unused-ignore]
from whoosh.analysis import RegexTokenizer  # type: ignore[import-untyped,unused-ignore]

from kitlib.search.analysis import (
    ANALYZERS,
    LANGUAGES,
    PLAIN_ANALYZER,
    WORDS_ANALYZER,
    analysis_language,
    tag_key,
)

SCHEMA_VERSION = 1
# The text fields, one per analysis language: title_fr, body_fr, title_en, body_en; and the
# words of tags, speakers and organisations.
TITLE = {lang: f"title_{lang}" for lang in LANGUAGES}
BODY = {lang: f"body_{lang}" for lang in LANGUAGES}
META = "meta"
SNIPPET_SOURCE_CHARS = 100_000  # stored text for snippets; matches beyond still rank
FACETS = ("kind", "tag", "language", "kit", "year", "webinar")
Sort = Literal["relevance", "newest", "downloads"]
# What an autocomplete proposal is: a document's title or a word of the vocabulary.
CompletionKind = Literal["title", "term"]


class SearchIndexError(Exception):
    """Base of the search index errors."""


class IndexUnavailable(SearchIndexError):
    """The index at a path cannot be served as is: rebuild it from the database."""


class IndexCorrupt(IndexUnavailable):
    """The index exists but cannot be read; it is left untouched for inspection."""


class IndexOutdated(IndexUnavailable):
    """The index was built by another schema or analyzer version (or has no stamp)."""


class IndexBusy(SearchIndexError):
    """Another writer or rebuild holds the index lock."""


@dataclass(frozen=True, slots=True)
class IndexDoc:
    """What the index needs to know about one document or webinar."""

    id: int
    title: str
    language: str = "fr"
    kind: str = "document"
    visibility: str = "public"
    summary: str = ""
    body: str = ""
    cues: tuple[tuple[float, str], ...] = ()
    tags: tuple[str, ...] = ()
    kits: tuple[int, ...] = ()
    webinar_id: int | None = None
    speakers: tuple[str, ...] = ()
    organisation: str = ""
    published: date | None = None
    download_count: int = 0
    fingerprint: str = ""  # e.g. updated_at: lets a caller diff index against database


@dataclass(frozen=True, slots=True)
class Filters:
    """Facet filters: values within one facet are OR-ed, facets are AND-ed."""

    kinds: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    kits: tuple[int, ...] = ()
    years: tuple[int, ...] = ()
    webinars: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Access:
    """Who may see what, as the database says: visibilities, plus allowed and denied ids."""

    visibilities: frozenset[str] = frozenset({"public"})
    allow_ids: frozenset[int] = frozenset()
    deny_ids: frozenset[int] = frozenset()  # wins over everything else
    everything: bool = False  # staff: every visibility

    @classmethod
    def unrestricted(cls) -> Access:
        """Access to every document (administrators, benchmarks)."""
        return cls(everything=True)


@dataclass(frozen=True, slots=True)
class CueHit:
    """A transcript cue that matches the query."""

    start: float
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class Hit:
    """One result on the returned page."""

    id: int
    score: float
    title_html: str
    snippet_html: str
    transcript_hits: list[CueHit] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SearchResult:
    """A page of results, totals and facet counts over what the user may see."""

    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]]
    suggestion: str | None = None


@dataclass(frozen=True, slots=True)
class Completion:
    """An autocomplete proposal: a document title (with its id) or a vocabulary term."""

    text: str
    kind: CompletionKind
    id: int | None = None


# --------------------------------------------------------------------------- schema

_SEP = "\x1f"


def build_schema() -> Any:
    """The index schema (its shape is versioned by SCHEMA_VERSION)."""
    multi = RegexTokenizer(r"[^\x1f]+")
    text: dict[str, Any] = {}
    for lang in LANGUAGES:
        text[TITLE[lang]] = wf.TEXT(analyzer=ANALYZERS[lang])
        text[BODY[lang]] = wf.TEXT(analyzer=ANALYZERS[lang])
    return wf.Schema(
        id=wf.ID(unique=True, stored=True, sortable=True),
        fingerprint=wf.ID(sortable=True),
        meta=wf.TEXT(analyzer=PLAIN_ANALYZER),
        speaker=wf.TEXT(analyzer=PLAIN_ANALYZER),
        organisation=wf.TEXT(analyzer=PLAIN_ANALYZER),
        title_ac=wf.TEXT(analyzer=PLAIN_ANALYZER, phrase=False),
        words=wf.TEXT(analyzer=WORDS_ANALYZER, phrase=False),
        kind=wf.ID(),
        language=wf.ID(),
        visibility=wf.ID(),
        tag=wf.KEYWORD(analyzer=multi),
        kit=wf.KEYWORD(analyzer=multi),
        webinar=wf.ID(),
        year=wf.ID(),
        published=wf.NUMERIC(int, bits=64, sortable=True, signed=False),
        downloads=wf.NUMERIC(int, bits=64, sortable=True, signed=False),
        title=wf.STORED(),
        lang=wf.STORED(),
        snippet=wf.STORED(),
        cues=wf.STORED(),
        tags=wf.STORED(),
        **text,
    )


SCHEMA = build_schema()


def to_fields(doc: IndexDoc) -> dict[str, Any]:
    """Whoosh field values of a document."""
    lang = analysis_language(doc.language)
    cue_text = "\n".join(" ".join(text.split()) for _, text in doc.cues)
    body = "\n".join(p for p in (doc.title, doc.summary, doc.body, cue_text) if p)
    # Each document goes into the fields of its own language only: indexing it into
    # both would count every match twice, mix French stop words into English
    # statistics and distort IDF; queries are analysed for both languages instead.
    values: dict[str, Any] = {
        "id": str(doc.id),
        "fingerprint": doc.fingerprint,
        TITLE[lang]: doc.title,
        BODY[lang]: body,
        META: "\n".join([*doc.speakers, doc.organisation, *doc.tags]),
        "speaker": "\n".join(doc.speakers),
        "organisation": doc.organisation,
        "title_ac": doc.title,
        "words": "\n".join([doc.title, *doc.tags, body]),
        "kind": doc.kind.lower(),
        "language": doc.language.lower(),
        "visibility": doc.visibility,
        "tag": _SEP.join(tag_key(t) for t in doc.tags),
        "kit": _SEP.join(str(k) for k in doc.kits),
        "published": doc.published.toordinal() if doc.published else 0,
        "downloads": max(0, doc.download_count),
        "title": doc.title,
        "lang": lang,
        "snippet": "\n".join(p for p in (doc.summary, doc.body) if p)[:SNIPPET_SOURCE_CHARS],
        "cues": ([s for s, _ in doc.cues], cue_text) if doc.cues else None,
        "tags": list(doc.tags),
    }
    if doc.webinar_id is not None:
        values["webinar"] = str(doc.webinar_id)
    if doc.published:
        values["year"] = str(doc.published.year)
    return values


