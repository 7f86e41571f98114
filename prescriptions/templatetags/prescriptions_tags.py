"""Template filters of the prescription screens (no queries, no decisions: those are the
selectors')."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: Mapping[Any, Any] | None, key: Any) -> Any:
    if not mapping:
        return None
    return mapping.get(key)


@register.filter
def number_groups(number: str) -> str:
    """A unique number in groups of four, easier to read out on the phone."""
    return " ".join(number[i : i + 4] for i in range(0, len(number or ""), 4))
