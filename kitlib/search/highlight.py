"""Where a query matches a text: the terms to look for, highlighted snippets and matching
transcript cues."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from kitlib.search.analysis import (
    ANALYZERS,
    TOKEN_RE,
    analyze,
    fold,
    fold_token,
    prefix_stem,
    prefix_tokens,
)
from kitlib.search.query import ParsedQuery


@dataclass(frozen=True, slots=True)
class TermSet:
    """Analysed query terms for one language: exact stems and stem prefixes."""

    terms: frozenset[str]
    prefixes: tuple[str, ...]

    def matches(self, token: str) -> bool:
        """True if an analysed token matches a query term or prefix."""
        return token in self.terms or any(token.startswith(p) for p in self.prefixes)

    def probes(self) -> list[str]:
        """Substrings that a folded text must contain to possibly match (cheap prefilter)."""
        # Snowball stems are nearly always prefixes of the folded word; trimming two
        # characters covers plural changes such as cheval/chevaux.
        out = [t[: max(3, len(t) - 2)] for t in self.terms]
        return out + list(self.prefixes)


def query_terms(parsed: ParsedQuery, lang: str) -> TermSet:
    """Terms of the positive clauses as the language's analyzer produces them."""
    terms: set[str] = set()
    prefixes: list[str] = []
    for c in parsed.positive():
        if c.field not in (None, "title"):
            continue
        if c.kind == "prefix":
            prefixes.extend(prefix_stem(t, lang) for t in prefix_tokens(c.text))
        else:
            terms.update(analyze(c.text, ANALYZERS[lang]))
    return TermSet(frozenset(terms), tuple(prefixes))


def _matching_spans(text: str, lang: str, terms: TermSet) -> list[tuple[int, int]]:
    """(start, end) of the words of text that analyse to a query term.

    Only words whose folded form contains a probe go through the analyzer (a word's
    analysis does not depend on its neighbours), which spares stemming the whole text.
    """
    probes = terms.probes()
    analyzer = ANALYZERS[lang]
    spans = []
    for m in TOKEN_RE[lang].finditer(text):
        folded = fold_token(m.group())
        if not any(p in folded for p in probes):
            continue
        for t in analyzer(m.group(), chars=True, removestops=False):
            if not t.stopped and terms.matches(t.text):
                spans.append((m.start() + t.startchar, m.start() + t.endchar))
    return spans


def highlight(text: str, lang: str, terms: TermSet, width: int = 240) -> str | None:
    """HTML snippet of text around the best cluster of matches, with <mark>, or None."""
    if not terms.terms and not terms.prefixes:
        return None
    folded = fold(text)
    if not any(p in folded for p in terms.probes()):
        return None
    spans = _matching_spans(text, lang, terms)
    if not spans:
        return None
    # Pick the window of `width` characters holding the most matches.
    best, best_count = 0, 0
    j = 0
    for i, (start, _) in enumerate(spans):
        while j < len(spans) and spans[j][1] <= start + width:
            j += 1
        if j - i > best_count:
            best, best_count = i, j - i
    lo = 0 if len(text) <= width else max(0, spans[best][0] - width // 4)
    hi = min(len(text), lo + width)
    if lo > 0:
        lo = text.find(" ", lo, spans[best][0]) + 1 or lo
    window = [s for s in spans if s[0] >= lo and s[1] <= hi]
    out = ["…" if lo > 0 else ""]
    pos = lo
    for start, end in window:
        out.append(html.escape(text[pos:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        pos = end
    out.append(html.escape(text[pos:hi]))
    out.append("…" if hi < len(text) else "")
    return "".join(out).strip()


def matching_cues(
    starts: Sequence[float], lines: Sequence[str], lang: str, terms: TermSet, limit: int
) -> list[tuple[float, str, str]]:
    """(start, text, html) of the transcript cues that contain a query term."""
    probes = terms.probes()
    found: list[tuple[float, str, str]] = []
    if not probes:
        return found
    for start, line in zip(starts, lines, strict=False):
        if not any(p in fold(line) for p in probes):
            continue
        marked = highlight(line, lang, terms, width=max(240, len(line)))
        if marked is not None:
            found.append((start, line, marked))
            if len(found) >= limit:
                break
    return found
