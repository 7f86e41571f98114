"""One form of a username, used wherever a typed name meets the accounts.

NFKC folds compatibility characters (full-width letters, the Kelvin sign, the long s's ligatures)
onto their plain letters; casefold() then folds case more thoroughly than lower() (ß, ſ). The
second NFKC pass keeps the result stable (casefolding can undo a normalised form). Accounts are
stored under this form, looked up by exact match on it, and the lockout counter is keyed on it:
every way of typing a name reaches the same account and the same counter.
"""

from __future__ import annotations

import unicodedata


def username_normalize(value: str) -> str:
    folded = unicodedata.normalize("NFKC", value.strip()).casefold()
    return unicodedata.normalize("NFKC", folded)
