"""The Whoosh search index: schema, lifecycle (open, stamp, rebuild), writes and searches.

The database is the source of truth; this index is a derived cache that can always be
rebuilt. Layout on disk: ``<path>/current`` is a symlink to ``<path>/build-*/`` (a Whoosh
index plus ``kitlib-index.json``). A rebuild fills a new build folder and swaps the link
atomically, so users keep the old index until the new one is whole.

Searching leans on two helpers that, with this module, are the only code that knows
Whoosh: ``search_view`` (document sets as bitmaps: matches, visibility, facets) and
``search_postings`` (decoded posting lists, cached across commits, and exact BM25F).
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import heapq
import html
import json
import math
import os
import shutil
import threading
import time
import uuid
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from whoosh import fields as wf  # type: ignore[import-untyped,unused-ignore]
from whoosh import index as wi  # type: ignore[import-untyped,unused-ignore]
from whoosh import query as wq  # type: ignore[import-untyped,unused-ignore]
from whoosh import scoring, sorting  # type: ignore[import-untyped,unused-ignore]
from whoosh.analysis import RegexTokenizer  # type: ignore[import-untyped,unused-ignore]
from whoosh.util.text import utf8decode  # type: ignore[import-untyped,unused-ignore]

from kitlib.search_analysis import (
    ANALYZER_VERSION,
    ANALYZERS,
    BODY,
    FIELD_ALIASES,
    LANGUAGES,
    PLAIN_ANALYZER,
    TITLE,
    WORDS_ANALYZER,
    ParsedQuery,
    analysis_language,
    build_queries,
    did_you_mean,
    highlight,
    matching_cues,
    parse_query,
    prefix_tokens,
    query_terms,
    tag_key,
    text_fields,
)
from kitlib.search_postings import BlockCache, best, docnums, term_leaves
from kitlib.search_view import BitFilter, IndexView

SCHEMA_VERSION = 1
STAMP_FILE = "kitlib-index.json"
CURRENT = "current"
SNIPPET_SOURCE_CHARS = 100_000  # stored text for snippets; matches beyond still rank
MAX_CUE_HITS = 5
FACET_LIMIT = 50
PARALLEL_BATCH = 250  # documents per job file handed to a sub-process of a parallel rebuild
WARM_POSTINGS = 8_000_000  # postings Searcher.warm decodes ahead (half the block cache)
WARM_TERMS = 4000  # candidates per field for warming, by document frequency
VISIBLE_CACHE = 64  # visible-document sets kept per (access, filters)
FACETS = ("kind", "tag", "language", "kit", "year", "webinar")
Sort = Literal["relevance", "newest", "downloads"]

# BM25 parameters shared by production and bench/relevance.py (tuned on SciFact; the
# query-side settings, title boost and AND/OR reading, live in search_analysis).
K1, B = 1.2, 0.75


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
    kind: Literal["title", "term"]
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
        "meta": "\n".join([*doc.speakers, doc.organisation, *doc.tags]),
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


# --------------------------------------------------------------------------- lifecycle


def expected_stamp() -> dict[str, int]:
    """The version stamp this code writes and accepts."""
    return {"schema": SCHEMA_VERSION, "analyzer": ANALYZER_VERSION}


def _read_stamp(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_stamp(folder: Path, docs: int) -> None:
    stamp = {**expected_stamp(), "docs": docs, "built_at": datetime.now().isoformat()}
    (folder / STAMP_FILE).write_text(json.dumps(stamp), encoding="utf-8")


def _stamp_ok(stamp: dict[str, Any] | None) -> bool:
    return stamp is not None and all(stamp.get(k) == v for k, v in expected_stamp().items())


@contextlib.contextmanager
def _build_lock(path: Path) -> Iterator[None]:
    with (path / ".build.lock").open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IndexBusy(f"another build is running in {path}") from exc
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _new_build(path: Path) -> Path:
    build = path / f"build-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    build.mkdir()
    return build


def _point_current(path: Path, build: Path) -> None:
    tmp = path / f".current-{uuid.uuid4().hex}"
    tmp.symlink_to(build.name)
    tmp.replace(path / CURRENT)  # rename(2): readers see the old or the new, never none
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_stale_builds(path: Path) -> None:
    # Open searchers keep working: Whoosh segments are compound files opened (mmapped)
    # when the reader is created, and POSIX keeps unlinked open files readable.
    live = str((path / CURRENT).readlink())
    for p in path.glob("build-*"):
        if p.name != live:
            shutil.rmtree(p, ignore_errors=True)


def open_or_create(path: str | Path) -> Any:
    """Open the index at path, creating an empty one if nothing is there; never wipes."""
    return _open(Path(path))[0]


def _open(path: Path) -> tuple[Any, str]:
    """The index at path, bound to the build folder current names, and that folder's name."""
    current = path / CURRENT
    if not current.is_symlink():
        if path.exists() and any(not p.name.startswith((".", "build-")) for p in path.iterdir()):
            raise IndexCorrupt(f"{path} holds files but no '{CURRENT}' link; left untouched")
        path.mkdir(parents=True, exist_ok=True)
        with _build_lock(path):
            if not current.is_symlink():
                build = _new_build(path)
                wi.create_in(str(build), SCHEMA).close()
                _write_stamp(build, 0)
                _point_current(path, build)
                _remove_stale_builds(path)
    # Bind to the build folder, not the link: a Whoosh index read or written through the
    # link while a rebuild swaps it would mix the segments of two builds.
    name = str(current.readlink())
    build = path / name
    if not build.is_dir():
        raise IndexCorrupt(f"{current} points to a missing folder")
    if not _stamp_ok(_read_stamp(build)):
        raise IndexOutdated(f"{build} has no stamp or a stamp other than {expected_stamp()}")
    failure = ""
    # Whoosh leaks the TOC file handle when the TOC is unreadable; its ResourceWarning
    # fires when the exception is freed, inside this block, and says nothing new.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            ix = wi.open_dir(str(build), schema=SCHEMA)
            with ix.reader() as reader:
                reader.doc_count()
        except Exception as exc:  # any failure to read means corrupt; the caller rebuilds
            failure = repr(exc)
        if failure:
            gc.collect()
    if failure:
        raise IndexCorrupt(f"cannot open the index in {build}: {failure}")
    return ix, name


def needs_rebuild(path: str | Path) -> bool:
    """True if the index is missing, unreadable or stamped by another version."""
    current = Path(path) / CURRENT
    if not current.is_dir() or not _stamp_ok(_read_stamp(current)):
        return True
    try:
        open_or_create(path).close()
    except SearchIndexError:
        return True
    return False


@contextlib.contextmanager
def writer(ix: Any, *, limitmb: int = 64, timeout: float = 10.0) -> Iterator[Any]:
    """A Whoosh writer that commits on success and cancels and re-raises on error."""
    try:
        w = ix.writer(limitmb=limitmb, timeout=timeout)
    except wi.LockError as exc:
        raise IndexBusy("the index is locked by another writer") from exc
    try:
        yield w
    except BaseException:
        w.cancel()
        raise
    w.commit()


def apply(ix: Any, upserts: Iterable[IndexDoc], deletes: Iterable[int] = ()) -> None:
    """Delete and upsert documents in a single commit."""
    with writer(ix) as w:
        for doc_id in deletes:
            w.delete_by_term("id", str(doc_id))
        for doc in upserts:
            w.update_document(**to_fields(doc))


def rebuild(path: str | Path, docs: Iterable[IndexDoc], *, procs: int = 1,
            limitmb: int = 128) -> int:
    """Build a fresh index beside the live one, then swap it in atomically; returns the count.

    One writer takes every document: Whoosh bounds its memory by spilling sorted runs to
    disk (``limitmb``) and merges them once at commit. Committing a segment per batch and
    merging them at the end spent as long merging as indexing (bench/search.py). With
    ``procs > 1`` each process writes its own segment and the segments are kept apart rather
    than merged again, which nearly halves the time on two cores.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    with _build_lock(path):
        build = _new_build(path)
        count = 0
        try:
            ix = wi.create_in(str(build), SCHEMA)
            if procs > 1:
                # The memory budget is shared: each process spills its runs sooner.
                w = ix.writer(limitmb=max(16, limitmb // procs), procs=procs,
                              multisegment=True, batchsize=PARALLEL_BATCH)
            else:
                w = ix.writer(limitmb=limitmb)
            try:
                for doc in docs:
                    w.add_document(**to_fields(doc))
                    count += 1
            except BaseException:
                w.cancel()
                raise
            w.commit()
            # Whoosh's parallel writer drops a sub-process's segment without a word if the
            # process died; an index that lost documents must never be swapped in.
            if ix.doc_count() != count:
                raise IndexCorrupt(f"the new index holds {ix.doc_count()} of {count} documents")
            ix.close()
            _write_stamp(build, count)
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise
        _point_current(path, build)
        _remove_stale_builds(path)
    return count


def all_ids(ix: Any) -> dict[int, str]:
    """Every indexed id with its stored fingerprint, to diff against the database."""
    with ix.reader() as reader:
        if not reader.doc_count():
            return {}
        ids = reader.column_reader("id")
        prints = reader.column_reader("fingerprint")
        return {int(ids[d]): str(prints[d]) for d in reader.all_doc_ids()}


# --------------------------------------------------------------------------- searching


class Weighting(scoring.BM25F):  # type: ignore[misc]
    """BM25 with the Robertson/Lucene IDF, which never goes negative for common terms."""

    def idf(self, searcher: Any, fieldname: str, text: bytes) -> float:
        """Inverse document frequency, computed over the whole index."""
        parent = searcher.get_parent()
        n = parent.doc_frequency(fieldname, text)
        return math.log(1 + (parent.doc_count_all() - n + 0.5) / (n + 0.5))


def weighting() -> Any:
    """The ranking function used by every search."""
    return Weighting(B=B, K1=K1)


class Searcher:
    """A thread-safe, self-refreshing searcher over the index at a path."""

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._lock = threading.Lock()
        self._target = ""
        self._ix: Any = None
        self._view: IndexView | None = None
        self._cache = BlockCache()
        self._closed = False
        with self._lock:
            self._current()

    def close(self) -> None:
        """Release the Whoosh searcher and index."""
        with self._lock:
            self._closed = True
            if self._view is not None:
                self._view.searcher.close()
                self._view = None

    def warm(self, budget: int = WARM_POSTINGS) -> int:
        """Decode the posting lists of the commonest terms before searches need them.

        Cold, the list of a word found in most documents takes tens of milliseconds to
        decode; decoded lists stay in the block cache across commits (segments never
        change). Works term by term under the lock, so searches interleave with it. Returns
        how many postings it decoded.
        """
        with self._lock:
            if self._closed:
                return 0
            view = self._current()
            for name in FACETS:
                view.terms(name)
        common: list[tuple[int, str, bytes]] = []
        for fieldname in (*text_fields(), "words"):
            with self._lock:
                if self._closed:
                    return 0
                reader = self._current().searcher.reader()
                terms = ((info.doc_frequency(), fieldname, btext)
                         for btext, info in reader.iter_prefix(fieldname, b""))
                common += heapq.nlargest(WARM_TERMS, terms)
        spent = 0
        for df, fieldname, btext in sorted(common, reverse=True):
            if spent + df > budget:
                break
            with self._lock:
                if self._closed:
                    break
                self._current().postings.bits(fieldname, btext)
            spent += df
        return spent

    def _current(self) -> IndexView:
        link = self._path / CURRENT
        target = str(link.readlink()) if link.is_symlink() else ""
        if self._view is None or target != self._target:
            # A rebuild swapped the folder: generations restart, so reopen (~130 ms).
            ix, name = _open(self._path)
            if self._view is not None:
                self._view.searcher.close()
            self._ix, self._target = ix, name
            self._view = IndexView(ix.searcher(weighting=weighting()), self._cache)
        elif not self._view.searcher.up_to_date():
            # Not searcher.refresh(): it reuses a segment's reader by segment id and so misses
            # deletions committed into that segment since (a deleted resource kept showing).
            old = self._view.searcher
            self._view = IndexView(self._ix.searcher(weighting=weighting()), self._cache)
            old.close()
        return self._view

    def _visible(self, view: IndexView, access: Access, filters: Filters) -> int:
        if access.everything and not access.deny_ids and filters == Filters():
            return view.all_docs()
        key = (access, filters)
        found = view.visible.get(key)
        if found is None:
            if len(view.visible) >= VISIBLE_CACHE:
                view.visible.clear()
            found = view.visible[key] = self._visible_uncached(view, access, filters)
        return found

    @staticmethod
    def _visible_uncached(view: IndexView, access: Access, filters: Filters) -> int:
        if access.everything:
            allowed = view.all_docs()
        else:
            allowed = view.docs_of_ids(access.allow_ids)
            for visibility in access.visibilities:
                allowed |= view.docs("visibility", visibility)
        if access.deny_ids:
            allowed &= ~view.docs_of_ids(access.deny_ids)
        for fieldname, values in (
            ("kind", [v.lower() for v in filters.kinds]),
            ("language", [v.lower() for v in filters.languages]),
            ("tag", [tag_key(v) for v in filters.tags]),
            ("kit", [str(v) for v in filters.kits]),
            ("year", [str(v) for v in filters.years]),
            ("webinar", [str(v) for v in filters.webinars]),
        ):
            if values:
                union = 0
                for value in values:
                    union |= view.docs(fieldname, value)
                allowed &= union
        return allowed

    def _match(
        self, view: IndexView, text: str, access: Access, filters: Filters
    ) -> tuple[Any, ParsedQuery, int, int]:
        """The query to score, the parsed query, the visible matches and the visible set
        (bitmaps: see search_view)."""
        parsed = parse_query(text, FIELD_ALIASES)
        allowed = self._visible(view, access, filters)
        if not allowed:
            return wq.NullQuery, parsed, 0, allowed
        strict, loose = build_queries(parsed, lambda name: view.terms(name).keys())
        matched = view.docset(strict) & allowed
        if not matched and loose is not strict:
            strict = loose
            matched = view.docset(loose) & allowed
        return strict, parsed, matched, allowed

    @staticmethod
    def _top(view: IndexView, query: Any, matched: int, sort: Sort, parsed: ParsedQuery,
             limit: int) -> list[tuple[int, float]]:
        """The best ``limit`` (docnum, score) of the matches, in the order asked."""
        key = {"newest": "published", "downloads": "downloads"}.get(sort)
        if sort == "relevance" and parsed.is_empty:
            key = "published"  # browsing without words: newest first
        leaves = [] if parsed.is_empty else term_leaves(query)
        if leaves is not None:
            scores = view.postings.scores(leaves, matched, view.searcher.weighting)
            if key is None:
                return best(scores, limit)
            column = view.searcher.reader().column_reader(key)
            order = heapq.nsmallest(limit, docnums(matched),
                                    key=lambda d: (-column[d], -scores.get(d, 0.0), d))
            return [(d, scores.get(d, 0.0)) for d in order]
        # Phrases and prefixes: Whoosh's matchers, keeping a top-k heap, scoring only
        # visible matches (the filter).
        sortedby = None
        if key:
            first = sorting.FieldFacet(key, reverse=True)
            sortedby = sorting.MultiFacet([first, sorting.ScoreFacet()])
        results = view.searcher.search(query, filter=BitFilter(matched, view.size), limit=limit,
                                       sortedby=sortedby)
        # Sorted searches put the sort key in .score; only relevance has a score.
        return [(h.docnum, h.score if isinstance(h.score, float) else 0.0)
                for h in results[:limit]]

    def rank(self, text: str, *, access: Access, limit: int = 100) -> list[tuple[int, float]]:
        """(id, score) of the best matches, as search() orders them by relevance."""
        with self._lock:
            view = self._current()
            query, parsed, matched, _ = self._match(view, text, access, Filters())
            if not matched:
                return []
            top = self._top(view, query, matched, "relevance", parsed, limit)
            stored = view.searcher.stored_fields
            return [(int(stored(d)["id"]), score) for d, score in top]

    def search(
        self,
        text: str,
        *,
        access: Access,
        filters: Filters | None = None,
        sort: Sort = "relevance",
        page: int = 1,
        per_page: int = 20,
    ) -> SearchResult:
        """Run a user query restricted to what access allows; facets count the same set."""
        with self._lock:
            view = self._current()
            query, parsed, matched, allowed = self._match(view, text, access, filters or Filters())
            facets: dict[str, dict[str, int]] = {}
            for name, counts in view.facets(FACETS, matched).items():
                shown = heapq.nsmallest(FACET_LIMIT, counts, key=lambda c: (-c[0], c[1]))
                facets[name] = {label: n for n, label in shown}
            suggestion = None
            if allowed:
                reader = view.searcher.reader()
                suggestion = did_you_mean(
                    parsed,
                    lambda w: view.count("words", w, allowed) > 0,
                    lambda w: view.count("words", w, allowed),
                    lambda w, d: reader.terms_within("words", w, d, prefix=1),
                )
            page, per_page = max(1, page), max(1, min(per_page, 100))
            start = (page - 1) * per_page
            hits: list[Hit] = []
            total = matched.bit_count()
            if start < total:
                top = self._top(view, query, matched, sort, parsed, start + per_page)
                # Only the hits of the returned page are read and highlighted.
                hits = [self._hit(view.searcher.stored_fields(d), score, parsed)
                        for d, score in top[start : start + per_page]]
            return SearchResult(total, hits, facets, suggestion)

    @staticmethod
    def _hit(stored: dict[str, Any], score: float, parsed: ParsedQuery) -> Hit:
        lang = stored.get("lang", "en")
        terms = query_terms(parsed, lang)
        title = stored.get("title", "")
        cue_hits: list[CueHit] = []
        if stored.get("cues"):
            starts, cue_text = stored["cues"]
            found = matching_cues(starts, cue_text.split("\n"), lang, terms, MAX_CUE_HITS)
            cue_hits = [CueHit(s, t, h) for s, t, h in found]
        snippet = highlight(stored.get("snippet", ""), lang, terms)
        if snippet is None:
            snippet = cue_hits[0].html if cue_hits else _escape_head(stored.get("snippet", ""))
        return Hit(
            id=int(stored["id"]),
            score=score,
            title_html=highlight(title, lang, terms, width=len(title) + 1) or _escape_head(title),
            snippet_html=snippet,
            transcript_hits=cue_hits,
        )

    def suggest(self, prefix: str, *, access: Access, limit: int = 8) -> list[Completion]:
        """Autocomplete titles and vocabulary from documents the user may see."""
        tokens = prefix_tokens(prefix[:200])
        if not tokens or len(tokens[-1]) < 2:
            return []
        with self._lock:
            view = self._current()
            allowed = self._visible(view, access, Filters())
            if not allowed:
                return []
            head = [wq.Term("title_ac", t) for t in tokens[:-1]]
            q = wq.And([*head, wq.Prefix("title_ac", tokens[-1])])
            out: list[Completion] = []
            for h in view.searcher.search(q, filter=BitFilter(allowed, view.size), limit=limit):
                out.append(Completion(h["title"], "title", int(h["id"])))
            reader = view.searcher.reader()
            candidates = heapq.nlargest(
                64,
                (utf8decode(b)[0] for b in reader.expand_prefix("words", tokens[-1])),
                key=lambda w: reader.doc_frequency("words", w),
            )
            scored = [(view.count("words", w, allowed), w) for w in candidates]
            ranked = sorted((s for s in scored if s[0]), key=lambda s: (-s[0], s[1]))
            for _, word in ranked[:limit]:
                out.append(Completion(" ".join([*tokens[:-1], word]), "term"))
            return out


def _escape_head(text: str, chars: int = 240) -> str:
    head = " ".join(text[: chars * 2].split())
    return html.escape(head[:chars] + ("…" if len(head) > chars else ""))
