"""What is in force on a day: one Cypher condition per node label and for relationships, from the model.

The rule every as-of read relies on: a node or a dated relationship is in force on the day `date($asOf)` when
each of its start dates (`since`, and a member's `joinedAt`, a report's `date`, a need's `raisedAt`, a service's
`date`: `core.model.Sheet.starts`) is empty or on or before that day, and its `until` is empty or on or after it
(both ends inclusive). A relationship written in a node sheet's link column carries no dates of its own until a
load or an edit closes it (`until`): it is in force when both its ends are, which every pattern here checks. On a
day, what is not in force does not exist: it is no unit of a metric, no gap, and covers nothing.

The same rule as spans (`node_span`, `Pattern.spans`): an element is in force exactly on the days from the latest
of its starts to its `until` (`EVER` and `NEVER_ENDS` standing for the empty ends), and a pattern on the days all
its elements are — so a figure over many days is computed once, from spans, and agrees with the day-by-day rule
(graph/rollups.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import LiteralString, cast

from core.model import LINK_SHEETS, SHEET_BY_LABEL

DAY: LiteralString = "date($asOf)"
#: The start of a fact with no start date, and the end of one with no `until` (spans' stand-ins for "empty").
EVER, NEVER_ENDS = date(1, 1, 1), date(9999, 12, 31)
_EVER: LiteralString = "date('0001-01-01')"
_NEVER: LiteralString = "date('9999-12-31')"

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


def _ends(element: str) -> tuple[list[str], list[str]]:
    """The start and end properties of an element ("var:Label" a node, "var:" any node, "var" a relationship)."""
    name, colon, label_ = element.partition(":")
    if not colon:
        return [f"{name}.{p}" for p in REL_STARTS], [f"{name}.until"]
    sheet = SHEET_BY_LABEL[label_] if label_ else None
    starts = [f"{name}.{p}" for p in (sheet.starts if sheet else ("since",))]
    return starts, [f"{name}.until"] if sheet is None or sheet.ended_by else []


def _latest(values: list[str]) -> LiteralString:
    """The latest date among `values` (empty ones ignored), EVER when none."""
    if not values:
        return _EVER
    listed = ", ".join(values)
    return cast(LiteralString, f"reduce(ks = {_EVER}, kv IN [{listed}] | CASE WHEN kv > ks THEN kv ELSE ks END)")


def _earliest(values: list[str]) -> LiteralString:
    """The earliest date among `values` (empty ones ignored), NEVER_ENDS when none."""
    if not values:
        return _NEVER
    listed = ", ".join(values)
    return cast(LiteralString, f"reduce(ke = {_NEVER}, kv IN [{listed}] | CASE WHEN kv < ke THEN kv ELSE ke END)")


@cache
def span(*elements: str) -> tuple[LiteralString, LiteralString]:
    """The first and last day on which every element (as `all_in_force` takes them) is in force, as Cypher date
    expressions; the first after the last when they never all are."""
    starts: list[str] = []
    ends: list[str] = []
    for element in elements:
        s, e = _ends(element)
        starts += s
        ends += e
    return _latest(starts), _earliest(ends)


@dataclass(frozen=True)
class Pattern:
    """A pattern from `x` whose elements must all be in force for it to hold on a day."""

    text: str
    elements: tuple[str, ...]

    @property
    def exists(self) -> LiteralString:
        """Holds on $asOf."""
        return exists(self.text, *self.elements)

    @property
    def spans(self) -> LiteralString:
        """The list of [first, last] days of each match of the pattern (a match holds on the days of its span)."""
        first, last = span(*self.elements)
        return cast(LiteralString, f"COLLECT {{ MATCH {self.text} RETURN [{first}, {last}] }}")


def any_exists(*patterns: Pattern) -> LiteralString:
    """Any of `patterns` holds on $asOf."""
    return cast(LiteralString, "(" + " OR ".join(p.exists for p in patterns) + ")")


def all_spans(*patterns: Pattern) -> LiteralString:
    """The spans of every match of every pattern, as one list."""
    return cast(LiteralString, "(" + " + ".join(p.spans for p in patterns) + ")")
