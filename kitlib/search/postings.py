"""Fast paths over Whoosh's posting lists: unscored docsets and exact BM25F top-k.

Whoosh's matchers step through postings one Python call at a time. At 100,000 documents a
common word has tens of thousands of postings, and a search spent most of its time there
(docs/benchmarks.md, "Search speed"). This module decodes whole posting blocks instead
(C-level ``accumulate`` over the delta-coded ids) and, for queries made only of terms,
sums BM25F per document with the very formula, statistics and length encoding Whoosh
uses, over the documents already known to match. Anything else (phrases, prefixes) is
left to Whoosh's own matchers by the caller.

It reads private attributes of the W3 codec of whoosh-reloaded 2.7.5, which pyproject pins;
``tests/test_search_index.py`` compares both paths on every kind of query, so an upgrade
that changes them fails there, not in production. Only searcher and view
import this.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate
from typing import Any

import whoosh.query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

_LENGTH_OF_BYTE = [byte_to_length(b) for b in range(256)]
CACHE_POSTINGS = 16_000_000  # decoded postings kept (8 bytes each: about 128 MB)
_BIT = [1 << j for j in range(8)]
_POSITIONS = [tuple(j for j in range(8) if byte >> j & 1) for byte in range(256)]

Leaf = tuple[str, Any, float]  # (field name, term text, query boost)


class TermList:
    """One term's postings in one segment: docnums, weights, and (built on demand) a bitmap."""

    __slots__ = ("ids", "weights", "cost", "_bits")

    def __init__(self, ids: array[int], weights: array[float]) -> None:
        self.ids = ids
        self.weights = weights
        self.cost = 0  # what the cache counted for it
        self._bits: int | None = None

    def bits(self) -> int:
        """The docnums as a bitmap (bit d set: document d of the segment holds the term)."""
        if self._bits is None:
            self._bits = bits_of(self.ids, self.ids[-1] + 1) if self.ids else 0
        return self._bits


class BlockCache:
    """Decoded posting lists, kept across index generations, least recently used first out.

    A Whoosh segment never changes once written (deletions are kept apart), so a list
    decoded for a (segment, field, term) stays true until the segment is merged away.
    Decoding is most of a search's cost (unpickling each block's positions with it), and
    the common words users type come back query after query.
    """

    def __init__(self, budget: int = CACHE_POSTINGS) -> None:
        self.budget = budget
        self._items: OrderedDict[tuple[str, str, bytes], TermList] = OrderedDict()
        self._size = 0

    def get(self, reader: Any, fieldname: str, btext: bytes) -> TermList:
        key = (reader.segment().segment_id(), fieldname, btext)
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
            return found
        found = TermList(*_decode(reader, fieldname, btext))
        # A bitmap (at most 1 bit per document) is counted as if built; one huge list
        # must not flush all the others.
        found.cost = len(found.ids) + int(reader.doc_count_all()) // 64
        if found.cost <= self.budget // 4:
            self._items[key] = found
            self._size += found.cost
            while self._size > self.budget:
                _, old = self._items.popitem(last=False)
                self._size -= old.cost
        return found


def _decode(reader: Any, fieldname: str, btext: bytes) -> tuple[array[int], array[float]]:
    """(segment docnums, weights) of one term in one segment; empty if absent."""
    ids: array[int] = array("I")
    weights: array[float] = array("f")
    try:
        m = reader.postings(fieldname, btext)
    except TermNotFound:
        return ids, weights
    if isinstance(m, W3LeafMatcher):
        while m.is_active():
            if m._data is None:
                m._read_data()
            ids.extend(accumulate(m._data[0]))  # ids are stored delta-coded
            m._read_weights()
            weights.extend(m._weights)
            m._next_block()
    else:  # a short list kept inline in the term dictionary
        while m.is_active():
            ids.append(m.id())
            weights.append(m.weight())
            m.next()
    return ids, weights


class Postings:
    """Posting lists and field lengths of one Whoosh searcher (one index generation)."""

    def __init__(self, searcher: Any, cache: BlockCache) -> None:
        self.searcher = searcher
        self.cache = cache
        self._leaves = list(searcher.reader().leaf_readers())
        self.size = int(searcher.reader().doc_count_all())
        self._lengths: dict[str, bytes] = {}

    def lists(self, fieldname: str, btext: bytes) -> Iterator[tuple[int, TermList]]:
        """(docnum offset, postings) of a term, segment by segment.

        Postings still list deleted documents; callers intersect with live ones.
        """
        for reader, offset in self._leaves:
            found = self.cache.get(reader, fieldname, btext)
            if found.ids:
                yield offset, found

    def bits(self, fieldname: str, btext: bytes) -> int:
        """Every docnum whose field holds the term, as a bitmap, deleted ones included."""
        bits = 0
        for offset, found in self.lists(fieldname, btext):
            bits |= found.bits() << offset if offset else found.bits()
        return bits

    def _field_lengths(self, fieldname: str) -> bytes:
        """One length byte per docnum, as Whoosh stores (and scores) them."""
        found = self._lengths.get(fieldname)
        if found is None:
            parts = []
            for reader, _ in self._leaves:
                count = reader.doc_count_all()
                column = reader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
                raw = b"" if column is None else column._dbfile.get(column._basepos,
                                                                     column._count)
                parts.append(raw[:count] + bytes(count - min(count, len(raw))))
            found = self._lengths[fieldname] = b"".join(parts)
        return found

    def scores(self, leaves: Sequence[Leaf], matched: int,
               weighting: Any) -> dict[int, float]:
        """BM25F score of each matched document (a bitmap) that holds one of the terms.

        A query's score is the sum of its matching terms' scores (Whoosh's AND, OR and
        AND-MAYBE all add), so summing per term over the matched documents is exact.
        """
        searcher = self.searcher
        scores: dict[int, float] = {}
        get = scores.get
        within = _Matched(matched, self.size)
        for fieldname, text, boost in leaves:
            field = searcher.schema[fieldname]
            btext = field.to_bytes(text)
            if (fieldname, btext) not in searcher.reader():
                continue
            if not field.scorable:
                for d, w in self._matching(fieldname, btext, within):
                    scores[d] = get(d, 0.0) + (w * boost if boost != 1.0 else w)
                continue
            idf = searcher.idf(fieldname, btext)
            avgfl = searcher.avg_field_length(fieldname) or 1
            b = weighting._field_B.get(fieldname, weighting.B)
            k1 = weighting.K1
            lengths = self._field_lengths(fieldname)
            table = _LENGTH_OF_BYTE
            for d, tf in self._matching(fieldname, btext, within):
                fl = table[lengths[d]]
                # Whoosh's scoring.bm25, term for term, then the query boost.
                s = idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * fl / avgfl)))
                scores[d] = get(d, 0.0) + (s * boost if boost != 1.0 else s)
        return scores

    def _matching(self, fieldname: str, btext: bytes,
                  within: _Matched) -> Iterator[tuple[int, float]]:
        """(docnum, weight) of the term's postings in matched documents.

        A long list against few matches is searched (bisect) for each match instead of
        being read through.
        """
        for offset, found in self.lists(fieldname, btext):
            ids, weights = found.ids, found.weights
            if within.count * 16 < len(ids):
                for d in within.between(offset, offset + int(ids[-1]) + 1):
                    i = bisect_left(ids, d - offset)
                    if i < len(ids) and ids[i] == d - offset:
                        yield d, weights[i]
            else:
                member = within.bytes
                for d, w in zip(ids, weights, strict=True):
                    d += offset
                    if member[d >> 3] >> (d & 7) & 1:
                        yield d, w


class _Matched:
    """A bitmap of matched documents, as bytes for membership and as a sorted list."""

    def __init__(self, bits: int, size: int) -> None:
        self.count = bits.bit_count()
        self._bits = bits
        self.bytes = bits.to_bytes((size >> 3) + 1, "little")
        self._list: list[int] | None = None

    def between(self, lo: int, hi: int) -> list[int]:
        """Matched docnums in [lo, hi)."""
        if self._list is None:
            self._list = docnums(self._bits)
        return self._list[bisect_left(self._list, lo) : bisect_left(self._list, hi)]


def bits_of(ids: Iterable[int], size: int) -> int:
    """The bitmap of some document numbers below ``size``."""
    buf = bytearray((size >> 3) + 1)
    for d in ids:
        buf[d >> 3] |= _BIT[d & 7]
    return int.from_bytes(buf, "little")


def docnums(bits: int) -> list[int]:
    """The document numbers in a bitmap, ascending."""
    data = bits.to_bytes((bits.bit_length() + 7) >> 3, "little")
    return [(i << 3) + j for i, byte in enumerate(data) if byte for j in _POSITIONS[byte]]


def best(scores: dict[int, float], limit: int) -> list[tuple[int, float]]:
    """The ``limit`` highest (docnum, score), ties to the lower docnum as Whoosh does."""
    if len(scores) > limit:
        # The k-th best score by C-level float comparisons, then an exact sort of the few
        # at or above it (a Python key per item was a sixth of the slowest search).
        kth = heapq.nlargest(limit, scores.values())[-1]
        found = [(d, s) for d, s in scores.items() if s >= kth]
    else:
        found = list(scores.items())
    found.sort(key=lambda item: (-item[1], item[0]))
    return found[:limit]


def term_leaves(q: Any) -> list[Leaf] | None:
    """The scoring terms of a query built of Term/And/Or/AndMaybe/AndNot, else None.

    AND-NOT's excluded side never scores; anything else (a phrase, a prefix) returns None
    so the caller falls back to Whoosh's matchers.
    """
    if isinstance(q, wq.Term):
        return [(q.fieldname, q.text, float(q.boost))]
    if isinstance(q, wq.AndNot):
        return term_leaves(q.a)
    if isinstance(q, (wq.And, wq.Or, wq.AndMaybe)) and float(q.boost) == 1.0 \
            and getattr(q, "scale", None) is None:
        found: list[Leaf] = []
        for sub in q.subqueries:
            leaves = term_leaves(sub)
            if leaves is None:
                return None
            found += leaves
        return found
    if q is wq.NullQuery:
        return []
    return None
