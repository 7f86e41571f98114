"""Text folding shared by the drug searches (the sandbox catalogue, origami's drug memory) and
the sandbox's substance matcher."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^0-9a-z]+")


def unaccented(text: str) -> str:
    """Lower case without accents, like PostgreSQL's ``unaccent(lower(...))``."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced words.

    "Acide ACÉTYLSALICYLIQUE" -> "acide acetylsalicylique"."""
    text = text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", stripped.lower()).strip()


def words(text: str) -> list[str]:
    return fold(text).split()
