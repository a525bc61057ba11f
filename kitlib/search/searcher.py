"""Searching the index: one thread-safe, self-refreshing searcher per index folder.

Ranking, facets and suggestions, with snippets from ``highlight``.
"""

from __future__ import annotations

import heapq
import html
import math
import threading
from pathlib import Path
from typing import Any

from whoosh import query as wq  # type: ignore[import-untyped,unused-ignore]
from whoosh import scoring, sorting  # type: ignore[import-untyped,unused-ignore]
from whoosh.util.text import utf8decode  # type: ignore[import-untyped,unused-ignore]

from kitlib.search.analysis import prefix_tokens, tag_key
from kitlib.search.highlight import highlight, matching_cues, query_terms
from kitlib.search.postings import BlockCache, best, docnums, term_leaves
from kitlib.search.query import (
    FIELD_ALIASES,
    ParsedQuery,
    build_queries,
    did_you_mean,
    parse_query,
    text_fields,
)
from kitlib.search.schema import (
    FACETS,
    Access,
    Completion,
    CueHit,
    Filters,
    Hit,
    IndexBusy,
    SearchResult,
    Sort,
)
from kitlib.search.store import (
    CURRENT,
    open_current,
)
from kitlib.search.view import BitFilter, IndexView

# BM25 parameters shared by production and bench/relevance.py (tuned on SciFact; the
# query-side settings, title boost and AND/OR reading, live in analysis).
K1, B = 1.2, 0.75

MAX_CUE_HITS = 5
FACET_LIMIT = 50
WARM_POSTINGS = 8_000_000  # postings Searcher.warm decodes ahead (half the block cache)
WARM_TERMS = 4000  # candidates per field for warming, by document frequency
VISIBLE_CACHE = 64  # visible-document sets kept per (access, filters)


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
            return self._reopen(link, target)
        try:
            fresh = self._view.searcher.up_to_date()
        except Exception:
            # Swapped and its folder removed since the link was read just above.
            return self._reopen(link, target)
        if not fresh:
            # Not searcher.refresh(): it reuses a segment's reader by segment id and so misses
            # deletions committed into that segment since (a deleted resource kept showing).
            old = self._view.searcher
            self._view = IndexView(self._ix.searcher(weighting=weighting()), self._cache)
            old.close()
        return self._view

    def _reopen(self, link: Path, target: str) -> IndexView:
        ix, name, searcher = self._open(link, target)
        if self._view is not None:
            self._view.searcher.close()
        self._ix, self._target = ix, name
        self._view = IndexView(searcher, self._cache)
        return self._view

    def _open(self, link: Path, target: str) -> tuple[Any, str, Any]:
        """Open the build the link names. Rebuilds in quick succession may swap it and
        remove the folder between reading the link and opening it: then read it again."""
        for _attempt in range(5):
            try:
                ix, name = open_current(self._path)
                return ix, name, ix.searcher(weighting=weighting())
            except Exception:
                now = str(link.readlink()) if link.is_symlink() else ""
                if now == target:
                    raise  # the folder it names is really unreadable
                target = now
        raise IndexBusy("the index was swapped five times while it was being opened")

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
        (bitmaps: see view)."""
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

    def matching_ids(self, text: str, *, access: Access, filters: Filters | None = None,
                     limit: int) -> tuple[int, list[int]]:
        """How many documents match, and the ids of at most ``limit`` of them (unordered):
        every page of a search at once, for bundles."""
        with self._lock:
            view = self._current()
            _, _, matched, _ = self._match(view, text, access, filters or Filters())
            stored = view.searcher.stored_fields
            ids = [int(stored(d)["id"]) for d in docnums(matched)[:limit]]
            return matched.bit_count(), ids

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

