"""A guess at a text's language (French or English) from its common function words."""

from __future__ import annotations

import re

_FR_WORDS = frozenset(
    "le la les des du un une et est dans pour que qui sur avec pas au aux ce cette sont nous vous "
    "par plus".split()
)
_EN_WORDS = frozenset(
    "the and of to is in that for with are this be by from it was not you have or".split()
)


def guess_language(text: str) -> str | None:
    """'fr' or 'en' from common function words, or None when unsure."""
    words = re.findall(r"[a-zà-ÿœ]+", text[:100_000].lower())
    french = sum(word in _FR_WORDS for word in words)
    english = sum(word in _EN_WORDS for word in words)
    if french + english < 3:
        return None
    if french >= 2 * english:
        return "fr"
    if english >= 2 * french:
        return "en"
    return None
