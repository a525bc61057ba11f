"""Text analysis for the search index: tokenizers, folding, elision, stop words and stemming
for French and English, the same for documents and for queries."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

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
# A word cut shorter than this is not read as a prefix ("ent*" is, "en*" is not).
MIN_PREFIX = 3

# Numbers keep their decimal part ("4.0", "1,5"); French words keep elisions so that
# ElisionFilter sees "l'entreprise" whole and can drop the article cleanly.
_TOKENS_FR = r"\d+(?:[.,]\d+)+|\w+(?:['’]\w+)*"
_TOKENS_EN = r"\d+(?:[.,]\d+)+|\w+"
# The same tokenizers on raw text, for finding where a match sits (snippets, cues).
TOKEN_RE = {"fr": re.compile(_TOKENS_FR), "en": re.compile(_TOKENS_EN)}
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
fold_token = lru_cache(maxsize=100_000)(fold)


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
            t.text = fold_token(t.text)
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


def tag_key(tag: str) -> str:
    """Normalised form of a tag used for filtering: "Cybersécurité " -> "cybersecurite"."""
    return " ".join(fold(tag).split())
