"""Value-based scrubbing of patient data in text bound for Sentry or the logs.

Key-based filtering (origami/settings/sentry.py) misses a NIR under an unlisted key or inside a
message built before it was logged. This looks at the values: NIR / NIA (which are also the INS
matricule), dates (a date of birth cannot be told from another date, so every calendar date in
free text goes), and the names of the patients loaded during the current request or task
(registered by the Patient model as it is read: "known in the scope"). No Django import: the
settings use it before the apps are ready.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any

FILTERED = "[filtré]"

# NIR / NIA: sex (1-4, 7, 8), year, month (01-12, 20-99 for unknown), department (2 digits or
# 2A/2B), commune, order, optional key; spaces, dots or dashes between groups as people type it.
_SEP = r"[\s.\-]?"
NIR_RE = re.compile(
    rf"(?<![0-9A-Za-z])[1-478]{_SEP}\d{{2}}{_SEP}\d{{2}}{_SEP}(?:\d{{2}}|2[ABab])"
    rf"{_SEP}\d{{3}}{_SEP}\d{{3}}(?:{_SEP}\d{{2}})?(?![0-9A-Za-z])"
)
DATE_RES = [
    re.compile(r"(?<!\d)\d{1,2}[/.\-]\d{1,2}[/.\-](?:19|20)\d{2}(?!\d)"),  # 12/03/1950
    re.compile(r"(?<!\d)(?:19|20)\d{2}-\d{2}-\d{2}(?!\d)"),  # 1950-03-12
    re.compile(r"(?<!\d)(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d)"),  # 19500312
]

# Names of the patients read in this request or task, most recent last (bounded: a long task
# reading thousands of patients keeps the last ones).
MAX_NAMES = 200
patient_names_var: ContextVar[tuple[str, ...]] = ContextVar("patient_names", default=())


# Particles of compound names, too common in text to be scrubbed on their own.
_PARTICLES = {"des", "del", "van", "von", "der", "den", "dos", "das"}


def patient_names_add(names: Iterable[str]) -> None:
    """Remember names to scrub for the rest of the request or task: each whole value, and each
    of its words of three letters or more ("Hélène Marie" → "Marie" too)."""
    current = patient_names_var.get()
    candidates: set[str] = set()
    for name in names:
        words = str(name).split()
        candidates.add(" ".join(words))
        candidates.update(w for w in words if len(w) >= 3 and w.lower() not in _PARTICLES)
    fresh = tuple(n for n in candidates if len(n) >= 2 and n not in current)
    if fresh:
        patient_names_var.set((current + fresh)[-MAX_NAMES:])


def patient_names_reset() -> Any:
    """Start a request or task with no patient in scope; returns the token to restore."""
    return patient_names_var.set(())


def _names_re() -> re.Pattern[str] | None:
    names = patient_names_var.get()
    if not names:
        return None
    # Longest first, so "Martin-Dupont" goes whole before "Martin" does.
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def scrub_text(text: str, names: re.Pattern[str] | None = None) -> str:
    text = NIR_RE.sub(FILTERED, text)
    for pattern in DATE_RES:
        text = pattern.sub(FILTERED, text)
    if names is None:
        names = _names_re()
    if names is not None:
        text = names.sub(FILTERED, text)
    return text


def scrub_values(value: Any, names: re.Pattern[str] | None = None) -> Any:
    """Every string inside `value` (dicts, lists, tuples), scrubbed; keys are kept."""
    if names is None:
        names = _names_re()
    if isinstance(value, str):
        return scrub_text(value, names)
    if isinstance(value, dict):
        return {k: scrub_values(v, names) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_values(v, names) for v in value]
    return value
