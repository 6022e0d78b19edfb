"""What is in force on a day: one Cypher condition per node label and for relationships, from the model.

The rule every as-of read relies on: a node or a dated relationship is in force on the day `date($asOf)` when
each of its start dates (`since`, and a member's `joinedAt`, a report's `date`, a need's `raisedAt`, a service's
`date`: `core.model.Sheet.starts`) is empty or on or before that day, and its `until` is empty or on or after it
(both ends inclusive). A relationship written in a node sheet's link column carries no dates of its own until a
load or an edit closes it (`until`): it is in force when both its ends are, which every pattern here checks. On a
day, what is not in force does not exist: it is no unit of a metric, no gap, and covers nothing.
"""

from __future__ import annotations

from functools import cache
from typing import LiteralString, cast

from core.model import LINK_SHEETS, SHEET_BY_LABEL

DAY: LiteralString = "date($asOf)"

#: Start properties any dated relationship may carry (a link sheet's), in a fixed order.
REL_STARTS: tuple[str, ...] = tuple(dict.fromkeys(p for s in LINK_SHEETS for p in s.starts))


def _starts(var: str, names: tuple[str, ...]) -> list[str]:
    return [f"coalesce({var}.{name} <= {DAY}, true)" for name in names]


@cache
def in_force(var: str, label: str | None) -> LiteralString:
    """True when the `label` node `var` (None: a node of any label, by `since` and `until`) is in force on $asOf."""
    sheet = SHEET_BY_LABEL[label] if label else None
    parts = _starts(var, sheet.starts if sheet else ("since",))
    if sheet is None or sheet.ended_by:
        parts.append(f"coalesce({var}.until >= {DAY}, true)")
    return cast(LiteralString, "(" + " AND ".join(parts or ["true"]) + ")")


@cache
def rel_in_force(var: str) -> LiteralString:
    """True when the relationship `var` is in force on $asOf (a link sheet's dates, or a closed link's `until`)."""
    parts = [*_starts(var, REL_STARTS), f"coalesce({var}.until >= {DAY}, true)"]
    return cast(LiteralString, "(" + " AND ".join(parts) + ")")


def all_in_force(*elements: str) -> LiteralString:
    """Every element of a pattern in force: "var:Label" for a node ("var:" for a node of any label), "var" for a
    relationship."""
    parts = []
    for element in elements:
        var, colon, label = element.partition(":")
        parts.append(in_force(var, label or None) if colon else rel_in_force(var))
    return cast(LiteralString, " AND ".join(parts))


def exists(pattern: str, *elements: str) -> LiteralString:
    """`EXISTS { pattern WHERE every element in force }` (elements as `all_in_force` takes them)."""
    return cast(LiteralString, f"EXISTS {{ {pattern} WHERE {all_in_force(*elements)} }}")
