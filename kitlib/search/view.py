"""One generation of the index as bitmaps: matches, visibility and facet counts without scoring.

A set of documents is a Python ``int`` used as a bitmap (bit ``d`` set: document number
``d`` is in). At 100,000 documents a bitmap is 12.5 KB; AND, OR and a population count
over it take microseconds in C, where the same operations on Python sets walk every
element. Totals, facet counts (one AND and one ``bit_count`` per facet value), visibility
filters and "did you mean" counts all come from bitmaps; only the page of hits is scored.

Only ``searcher`` uses this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import whoosh.query as wq
from whoosh.idsets import DocIdSet
from whoosh.util.text import utf8decode  # type: ignore[import-untyped,unused-ignore]

from kitlib.search.analysis import tag_key
from kitlib.search.postings import BlockCache, Postings, bits_of, docnums

DOCSET_CACHE = 2048  # term bitmaps kept per generation (12.5 KB each at 100,000 documents)


def lowest(bits: int) -> int:
    """The smallest document number in a non-empty bitmap."""
    return (bits & -bits).bit_length() - 1


class BitFilter(DocIdSet):  # type: ignore[misc]
    """A bitmap as the ``filter`` of a Whoosh search (which only asks ``in``)."""

    def __init__(self, bits: int, size: int) -> None:
        self._data = bits.to_bytes((size >> 3) + 1, "little")
        self._bits = bits

    def __contains__(self, d: object) -> bool:
        return isinstance(d, int) and 0 <= d >> 3 < len(self._data) and \
            bool(self._data[d >> 3] >> (d & 7) & 1)

    def __len__(self) -> int:
        return self._bits.bit_count()

    def __iter__(self) -> Any:
        return iter(docnums(self._bits))


class IndexView:
    """One Whoosh searcher and the bitmaps built from it, valid until the next commit."""

    def __init__(self, searcher: Any, cache: BlockCache) -> None:
        self.searcher = searcher
        self.postings = Postings(searcher, cache)
        self.size = self.postings.size
        # Per generation: a commit brings a new view, and these go with the old one.
        self._docsets: dict[tuple[str, str], int] = {}
        self._terms: dict[str, dict[str, int]] = {}
        self._tag_labels: dict[str, str] = {}
        self._all: int | None = None
        self.visible: dict[Any, int] = {}

    def all_docs(self) -> int:
        """Every live (not deleted) document."""
        if self._all is None:
            reader = self.searcher.reader()
            everything = (1 << self.size) - 1
            for leaf, offset in reader.leaf_readers():
                if leaf.has_deletions():
                    deleted = bits_of(leaf.segment().deleted_docs(), self.size)
                    everything &= ~(deleted << offset)
            self._all = everything
        return self._all

    def _list_bits(self, fieldname: str, btext: bytes) -> int:
        # Posting lists keep deleted documents until segments merge.
        return self.postings.bits(fieldname, btext) & self.all_docs()

    def term_docs(self, fieldname: str, text: str) -> int:
        """Documents whose field holds the (analysed) term."""
        key = (fieldname, text)
        found = self._docsets.get(key)
        if found is None:
            try:
                btext = self.searcher.schema[fieldname].to_bytes(text)
            except (KeyError, ValueError):  # no such field, or a value it cannot hold
                found = 0
            else:
                found = self._list_bits(fieldname, btext)
            if len(self._docsets) >= DOCSET_CACHE:
                self._docsets.clear()
            self._docsets[key] = found
        return found

    def docset(self, q: Any) -> int:
        """Documents a query matches, by bitmap algebra on postings, without scoring."""
        if isinstance(q, wq.Term):
            return self.term_docs(q.fieldname, q.text)
        if isinstance(q, wq.AndNot):
            return self.docset(q.a) & ~self.docset(q.b)
        if isinstance(q, wq.AndMaybe):
            return self.docset(q.a)
        if isinstance(q, wq.And):
            bits = self.all_docs()
            for sub in q.subqueries:
                bits &= self.docset(sub)
                if not bits:
                    break
            return bits
        if isinstance(q, wq.Or):
            bits = 0
            for sub in q.subqueries:
                bits |= self.docset(sub)
            return bits
        if isinstance(q, wq.Every):
            return self.all_docs()
        if q is wq.NullQuery:
            return 0
        # Phrases and prefixes: Whoosh's own unscored matcher.
        return bits_of(q.docs(self.searcher), self.size) & self.all_docs()

    def terms(self, fieldname: str) -> dict[str, int]:
        """Every value of a keyword field with its documents (facets, filters)."""
        if fieldname not in self._terms:
            reader = self.searcher.reader()
            table: dict[str, int] = {}
            for btext in reader.lexicon(fieldname):
                bits = self._list_bits(fieldname, btext)
                if bits:
                    table[utf8decode(btext)[0]] = bits
            self._terms[fieldname] = table
        return self._terms[fieldname]

    def docs(self, fieldname: str, value: str) -> int:
        return self.terms(fieldname).get(value, 0)

    def docs_of_ids(self, ids: Iterable[int]) -> int:
        bits = 0
        for i in ids:
            bits |= self._list_bits("id", str(i).encode())
        return bits

    def count(self, fieldname: str, text: str, allowed: int) -> int:
        """How many allowed documents hold the term."""
        return (self.term_docs(fieldname, text) & allowed).bit_count()

    def facets(self, names: Iterable[str], matched: int) -> dict[str, list[tuple[int, str]]]:
        """(count, label) of every value of each facet field among the matched documents."""
        out: dict[str, list[tuple[int, str]]] = {}
        for name in names:
            counts: list[tuple[int, str]] = []
            if matched:
                for value, bits in self.terms(name).items():
                    n = (bits & matched).bit_count()
                    if n:
                        label = self._tag_label(value, lowest(bits & matched)) \
                            if name == "tag" else value
                        counts.append((n, label))
            out[name] = counts
        return out

    def _tag_label(self, key: str, docnum: int) -> str:
        """A tag as a document wrote it ("Hygiène"), for its folded key ("hygiene")."""
        if key not in self._tag_labels:
            stored = self.searcher.stored_fields(docnum).get("tags") or []
            self._tag_labels[key] = next((t for t in stored if tag_key(t) == key), key)
        return self._tag_labels[key]
