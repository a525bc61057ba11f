"""Text analysis for the search index: analyzers, user-query parsing, snippets and cue matching."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from whoosh import query as wq  # type: ignore[import-untyped,unused-ignore]
from whoosh.analysis import (  # type: ignore[import-untyped,unused-ignore]
    Filter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.lang import stemmer_for_language  # type: ignore[import-untyped,unused-ignore]
from whoosh.lang.stopwords import stoplists  # type: ignore[import-untyped,unused-ignore]

# Bump whenever tokens produced for the same text change: the index stamp embeds it.
ANALYZER_VERSION = 1
LANGUAGES = ("fr", "en")

# Numbers keep their decimal part ("4.0", "1,5"); French words keep elisions so that
# ElisionFilter sees "l'entreprise" whole and can drop the article cleanly.
_TOKENS_FR = r"\d+(?:[.,]\d+)+|\w+(?:['’]\w+)*"
_TOKENS_EN = r"\d+(?:[.,]\d+)+|\w+"
_ELISION = re.compile(r"^(?:qu|jusqu|lorsqu|puisqu|quoiqu|presqu|[cdjlmnst])['’]")
_SPECIAL_FOLDS = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "đ": "d", "ł": "l"})
# Function words missing from the Snowball French list that only add noise.
_EXTRA_FR_STOPS = (
    "les cet cette ceux celle celles celui dont donc car ni quel quelle quels quelles lors "
    "ainsi aussi comme sans sous vers chez tres leurs tous tout toute toutes"
).split()


def fold(text: str) -> str:
    """Lowercase and strip accents: "Sécurité" -> "securite", "cœur" -> "coeur"."""
    low = text.lower()
    if low.isascii():
        return low
    decomposed = unicodedata.normalize("NFKD", low.translate(_SPECIAL_FOLDS))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# Tokens repeat endlessly; long texts must not be cached.
_fold_token = lru_cache(maxsize=100_000)(fold)


def _stops(lang: str) -> frozenset[str]:
    words = set(stoplists[lang]) | (set(_EXTRA_FR_STOPS) if lang == "fr" else set())
    return frozenset(fold(w) for w in words)


STOPWORDS = {lang: _stops(lang) for lang in LANGUAGES}
_FR_STEM = stemmer_for_language("fr")
_EN_STEM = stemmer_for_language("en")


def stem_fr(word: str) -> str:
    """Snowball French on folded text, minus the final "e" left by folded "-ée" endings."""
    stem: str = _FR_STEM(word)
    # Folding turns "désinfectée" into "desinfectee", which Snowball only trims to
    # "desinfecte"; dropping one trailing e reunites it with "desinfect".
    return stem[:-1] if len(stem) > 4 and stem.endswith("e") else stem


def stem_en(word: str) -> str:
    """Snowball English (Porter2)."""
    return str(_EN_STEM(word))


class FoldFilter(Filter):  # type: ignore[misc]
    """Lowercases and folds accents before stop words and stemming."""

    def __call__(self, tokens: Iterable[Any]) -> Iterator[Any]:
        for t in tokens:
            t.text = _fold_token(t.text)
            yield t


class ElisionFilter(Filter):  # type: ignore[misc]
    """Drops French elided articles: l'entreprise -> entreprise, d'activité -> activite."""

    def __call__(self, tokens: Iterable[Any]) -> Iterator[Any]:
        for t in tokens:
            m = _ELISION.match(t.text)
            if m and len(t.text) > m.end():
                t.text = t.text[m.end() :]
                if getattr(t, "chars", False):
                    t.startchar += m.end()
            if "'" in t.text or "’" in t.text:
                t.text = t.text.replace("'", "").replace("’", "")
            yield t


def _build(lang: str) -> Any:
    if lang == "fr":
        chain = RegexTokenizer(_TOKENS_FR) | FoldFilter() | ElisionFilter()
        stemfn = stem_fr
    else:
        chain = RegexTokenizer(_TOKENS_EN) | FoldFilter()
        stemfn = stem_en
    return chain | StopFilter(stoplist=STOPWORDS[lang], minsize=1) | StemFilter(stemfn=stemfn)


ANALYZERS: dict[str, Any] = {lang: _build(lang) for lang in LANGUAGES}
# Names, organisations and titles for autocomplete: folded but never stemmed.
PLAIN_ANALYZER: Any = RegexTokenizer(_TOKENS_FR) | FoldFilter() | ElisionFilter()
# Vocabulary for "did you mean" and term completion: real words, no stop words.
WORDS_ANALYZER: Any = PLAIN_ANALYZER | StopFilter(
    stoplist=STOPWORDS["fr"] | STOPWORDS["en"], minsize=3
)


def analysis_language(language: str) -> str:
    """Map a document language to one of the analysed languages (French or English)."""
    return "fr" if language.lower().startswith("fr") else "en"


def analyze(text: str, analyzer: Any) -> list[str]:
    """Index-time tokens of text for an analyzer."""
    return [t.text for t in analyzer(text)]


def prefix_stem(prefix: str, lang: str | None) -> str:
    """The form of a typed prefix to look up among a field's (stemmed) terms."""
    folded = fold(prefix)
    if lang is None:
        return folded
    stem = stem_fr(folded) if lang == "fr" else stem_en(folded)
    # "securite*" must reach the stem "securit": keep what prefix and stem share.
    n = 0
    while n < min(len(stem), len(folded)) and stem[n] == folded[n]:
        n += 1
    return folded[:n] if n >= MIN_PREFIX else folded


def prefix_tokens(text: str) -> list[str]:
    """Words of a prefix clause, folded and without elided articles."""
    return [t.text for t in PLAIN_ANALYZER(text)]


# --------------------------------------------------------------------------- queries

# Field names shared with searcher (which owns the schema).
TITLE = {lang: f"title_{lang}" for lang in LANGUAGES}
BODY = {lang: f"body_{lang}" for lang in LANGUAGES}
META = "meta"
MAX_QUERY_CHARS = 1000
MAX_CLAUSES = 40
MIN_PREFIX = 3
_CLAUSE = re.compile(r'(?P<neg>-?)(?:(?P<field>[A-Za-z_]+):)?(?:"(?P<phrase>[^"]*)"|(?P<word>\S+))')
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Clause:
    """One thing the user typed: a word, "a phrase", a prefix* or field:value."""

    text: str
    kind: str  # "word" | "phrase" | "prefix"
    field: str | None = None
    negated: bool = False


@dataclass(slots=True)
class ParsedQuery:
    """A user query as groups: each inner list is an OR of clauses, groups are combined."""

    groups: list[list[Clause]] = field(default_factory=list)
    excluded: list[Clause] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """True when nothing positive was typed (browse everything allowed)."""
        return not self.groups

    def positive(self) -> list[Clause]:
        """Every clause that contributes matches (for highlighting and spelling)."""
        return [c for g in self.groups for c in g]


def parse_query(raw: str, fields: Iterable[str]) -> ParsedQuery:
    """Read what a user typed; malformed input degrades to plain words, never raises."""
    text = _CONTROL.sub(" ", raw[:MAX_QUERY_CHARS])
    if text.count('"') % 2:
        # An unbalanced quote: keep the words, forget the last quote.
        idx = text.rfind('"')
        text = text[:idx] + " " + text[idx + 1 :]
    known = set(fields)
    parsed = ParsedQuery()
    join_next = False
    negate_next = False
    for m in _CLAUSE.finditer(text):
        word, phrase, fld = m.group("word"), m.group("phrase"), m.group("field")
        if word in ("OR", "AND", "NOT") and not fld and not m.group("neg"):
            join_next = word == "OR" and bool(parsed.groups)
            negate_next = word == "NOT"
            continue
        negated = bool(m.group("neg")) or negate_next
        negate_next = False
        clauses: list[Clause] = []
        if fld is not None and fld.lower() not in known:
            # Unknown field (or a URL, "foo:bar"): the name is one more word.
            clauses.append(Clause(fld, "word", None, negated))
            fld = None
        if phrase is not None:
            clause = Clause(phrase, "phrase", fld and fld.lower(), negated)
        elif word.endswith("*") and len(word.rstrip("*")) >= MIN_PREFIX:
            clause = Clause(word.rstrip("*"), "prefix", fld and fld.lower(), negated)
        else:
            clause = Clause(word.replace("*", " "), "word", fld and fld.lower(), negated)
        for one in [*clauses, clause]:
            if not one.text.strip():
                continue
            if one.negated:
                parsed.excluded.append(one)
            elif join_next and parsed.groups:
                parsed.groups[-1].append(one)
            else:
                parsed.groups.append([one])
            join_next = False
        if len(parsed.groups) + len(parsed.excluded) >= MAX_CLAUSES:
            break
    return parsed


def _field_query(
    fieldname: str, tokens: Sequence[str], kind: str, lang: str | None, boost: float
) -> Any:
    if not tokens:
        return None
    if kind == "prefix":
        last = wq.Prefix(fieldname, prefix_stem(tokens[-1], lang), boost=boost)
        if len(tokens) == 1:
            return last
        return wq.And([wq.Term(fieldname, t, boost=boost) for t in tokens[:-1]] + [last])
    if len(tokens) == 1:
        return wq.Term(fieldname, tokens[0], boost=boost)
    # Several tokens from one word ("COVID-19") or a phrase: keep them adjacent.
    return wq.Phrase(fieldname, list(tokens), boost=boost)


def text_clause(clause: Clause, fields: dict[str, tuple[str | None, float]]) -> tuple[Any, bool]:
    """Whoosh query of a clause over {field: (language, boost)}, and whether it is required.

    A word that some language treats as a stop word ("the" is a French nonsense word,
    "son" an English noun) is not required, or an AND would exclude the other language.
    """
    parts: list[Any] = []
    kept: dict[str | None, bool] = {}
    for fieldname, (lang, boost) in fields.items():
        if clause.kind == "prefix":
            # Analysing "désinf" would stem a partial word; prefix_stem handles it.
            tokens = prefix_tokens(clause.text)
        else:
            tokens = analyze(clause.text, ANALYZERS[lang] if lang else PLAIN_ANALYZER)
        sub = _field_query(fieldname, tokens, clause.kind, lang, boost)
        kept[lang] = kept.get(lang, False) or sub is not None
        if sub is not None:
            parts.append(sub)
    languages = [v for k, v in kept.items() if k is not None]
    if languages and not any(languages):
        return None, False
    if not parts:
        return None, False
    return (parts[0] if len(parts) == 1 else wq.Or(parts)), all(languages)


def any_of(queries: Sequence[Any]) -> Any:
    """An OR query summing the scores of its matching parts."""
    q = wq.Or(list(queries))
    # Whoosh picks a binary tree of union matchers for indexes over 5,000 documents;
    # accumulating scores in an array is several times faster for our wide ORs.
    q.matcher_type = wq.Or.ARRAY_MATCHER
    return q


# --------------------------------------------------------------------------- matching


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


_TOKEN_RE = {"fr": re.compile(_TOKENS_FR), "en": re.compile(_TOKENS_EN)}


def _matching_spans(text: str, lang: str, terms: TermSet) -> list[tuple[int, int]]:
    """(start, end) of the words of text that analyse to a query term.

    Only words whose folded form contains a probe go through the analyzer (a word's
    analysis does not depend on its neighbours), which spares stemming the whole text.
    """
    probes = terms.probes()
    analyzer = ANALYZERS[lang]
    spans = []
    for m in _TOKEN_RE[lang].finditer(text):
        folded = _fold_token(m.group())
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


# --------------------------------------------------------------------------- query building

# Query-side ranking configuration shared by production and bench/relevance.py (tuned on
# SciFact: a full-weight separate title field over-counts titles, which the body repeats).
TITLE_BOOST = 0.3
META_BOOST = 1.0
# Up to this many required words, all must match (falling back to any word when that
# finds nothing): short queries get precise totals and facets. Longer queries read as
# descriptions and are ranked by BM25 over any word, as AND would find nothing.
AND_MAX_WORDS = 3

FIELD_ALIASES = {
    "title": "title", "tag": "tag", "tags": "tag", "kind": "kind", "language": "language",
    "lang": "language", "speaker": "speaker", "org": "organisation",
    "organisation": "organisation", "organization": "organisation", "year": "year",
    "kit": "kit", "webinar": "webinar",
}  # fmt: skip


def tag_key(tag: str) -> str:
    """Normalised form of a tag used for filtering: "Cybersécurité " -> "cybersecurite"."""
    return " ".join(fold(tag).split())


def text_fields() -> dict[str, tuple[str | None, float]]:
    """Fields a plain word is searched in, with their language and query-time boost."""
    return {
        **{TITLE[lang]: (lang, TITLE_BOOST) for lang in LANGUAGES},
        **{BODY[lang]: (lang, 1.0) for lang in LANGUAGES},
        META: (None, META_BOOST),
    }


def clause_query(clause: Clause, keywords: Callable[[str], Iterable[str]]) -> tuple[Any, bool]:
    """Whoosh query of one clause and whether it must match; keywords lists a field's values."""
    name = FIELD_ALIASES.get(clause.field or "", None)
    if name is None:
        return text_clause(clause, text_fields())
    if name == "title":
        fields = {f: v for f, v in text_fields().items() if f.startswith("title_")}
        return text_clause(clause, fields)
    if name in ("speaker", "organisation"):
        return text_clause(clause, {name: (None, 1.0)})
    value = tag_key(clause.text) if name == "tag" else clause.text.strip().lower()
    if clause.kind == "prefix":
        keys = [k for k in keywords(name) if k.startswith(value)]
        return (any_of([wq.Term(name, k) for k in keys]) if keys else wq.NullQuery), True
    return wq.Term(name, value), True


def build_queries(parsed: ParsedQuery, keywords: Callable[[str], Iterable[str]]) -> tuple[Any, Any]:
    """The strict (AND for short queries) and loose (OR) Whoosh queries of a parsed query."""
    required: list[Any] = []
    optional: list[Any] = []
    for group in parsed.groups:
        subs = [clause_query(c, keywords) for c in group]
        parts = [q for q, _ in subs if q is not None]
        if parts:
            target = required if all(r for _, r in subs) else optional
            target.append(parts[0] if len(parts) == 1 else any_of(parts))
    excluded = [clause_query(c, keywords)[0] for c in parsed.excluded]
    excluded = [q for q in excluded if q is not None]
    if not required and not optional:
        strict = loose = wq.Every() if not parsed.groups else wq.NullQuery
    elif len(required) > AND_MAX_WORDS or not required:
        strict = loose = any_of(required + optional)
    else:
        core = wq.And(required)
        strict = wq.AndMaybe(core, any_of(optional)) if optional else core
        loose = any_of(required + optional)
    if excluded:
        strict, loose = (wq.AndNot(q, any_of(excluded)) for q in (strict, loose))
    return strict, loose


def did_you_mean(
    parsed: ParsedQuery,
    seen: Callable[[str], bool],
    known: Callable[[str], int],
    near: Callable[[str, int], Iterable[str]],
) -> str | None:
    """The query with unknown words replaced by the best-known close word, or None.

    seen(word) tells whether a document the user may see contains word (cheap: it stops at
    the first); known(word) counts them; near(word, d) lists vocabulary within edit
    distance d. Only words with known() > 0 are proposed.
    """
    changed = False
    groups: list[str] = []
    for group in parsed.groups:
        parts: list[str] = []
        for c in group:
            if c.kind != "word" or c.field:
                parts.append(clause_text(c))
                continue
            words = []
            for w in analyze(c.text, WORDS_ANALYZER):
                if seen(w):
                    words.append(w)
                    continue
                cands = near(w, 1 if len(w) < 6 else 2)
                best = max(((known(x), x) for x in cands), default=(0, w))
                changed = changed or best[0] > 0
                words.append(best[1] if best[0] else w)
            parts.append(" ".join(words) if words else c.text)
        groups.append(" OR ".join(parts))
    groups += ["-" + clause_text(c) for c in parsed.excluded]
    return " ".join(groups) if changed else None


def clause_text(c: Clause) -> str:
    """A clause written back in the query language."""
    body = f'"{c.text}"' if c.kind == "phrase" else c.text + ("*" if c.kind == "prefix" else "")
    return f"{c.field}:{body}" if c.field else body
