"""Reading what people type into a search box: clauses, fields, prefixes, and the Whoosh
queries and did-you-mean suggestions built from them."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from whoosh import query as wq  # type: ignore[import-untyped,unused-ignore]

from kitlib.search.analysis import (
    ANALYZERS,
    LANGUAGES,
    MIN_PREFIX,
    PLAIN_ANALYZER,
    WORDS_ANALYZER,
    analyze,
    prefix_stem,
    prefix_tokens,
    tag_key,
)
from kitlib.search.schema import BODY, META, TITLE

MAX_QUERY_CHARS = 1000
MAX_CLAUSES = 40
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
