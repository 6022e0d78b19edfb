"""What is in force on a day: one Cypher condition per node label and for relationships, from the model.

The rule every as-of read relies on: a node or a dated relationship is in force on the day `date($asOf)` when
each of its start dates (`since`, and a member's `joinedAt`, a report's `date`, a need's `raisedAt`, a service's
`date`: `core.model.Sheet.starts`) is empty or on or before that day, and its `until` is empty or on or after it
(both ends inclusive). A relationship written in a node sheet's link column (a building's grid, a group's buildings)
is dated by the load that changes it: a link a row no longer lists is closed (`until` the day before the load), a
link added to a node that existed before starts that day (`since`); a node's first links carry no dates (the node's
own do). Every read that walks a relationship checks it (`walk`) as well as the nodes it needs. On a day, what is
not in force does not exist: it is no unit of a metric, no gap, and covers nothing.

Where an entity lies is the exception: its area codes (`communityCode`…) and the path that puts a household in its
community (`walk_now`) are today's, so an entity counts in the community it lies in now on every day; below a
community, its grid is the one in force on the day.

The same rule as spans (`node_span`, `Pattern.spans`): an element is in force exactly on the days from the latest
of its starts to its `until` (`EVER` and `NEVER_ENDS` standing for the empty ends), and a pattern on the days all
its elements are — so a figure over many days is computed once, from spans, and agrees with the day-by-day rule
(graph/rollups.py).
"""

from __future__ import annotations

import itertools
import re
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


_UNNAMED_REL = re.compile(r"\[:([A-Z_|]+)\]")
#: Names of the relationships `walk` names: unique in the process, so a walk nested in another never shares one.
_WALKED = itertools.count(1)


def _walk(pattern: str, condition: str) -> tuple[LiteralString, LiteralString]:
    names: list[str] = []

    def name(match: re.Match[str]) -> str:
        names.append(f"kw{next(_WALKED)}")
        return f"[{names[-1]}:{match.group(1)}]"

    named = _UNNAMED_REL.sub(name, pattern)
    held = " AND ".join(condition.format(var=n) for n in names) or "true"
    return cast(LiteralString, named), cast(LiteralString, f"({held})")


def walk(pattern: str) -> tuple[LiteralString, LiteralString]:
    """`pattern` with each unnamed relationship (`[:IN]`) named, and the condition that every one of them is in
    force on $asOf: the form of every read that walks relationships (a building moved to another grid is in the
    old one before the move, in the new one from it)."""
    return _walk(pattern, rel_in_force("{var}"))


def walk_now(pattern: str) -> tuple[LiteralString, LiteralString]:
    """`pattern` with each unnamed relationship named, and the condition that none has been closed: the links
    as they stand (where an entity lies now; what a write replaces)."""
    return _walk(pattern, "{var}.until IS NULL")


def first_on_day(pattern: str, returns: str, where: str = "true", order: str = "") -> LiteralString:
    """`head(COLLECT { MATCH pattern WHERE <its relationships in force on $asOf> AND where RETURN returns })`,
    ordered by `order` when given: the first thing a walk reaches on the day."""
    path, held = walk(pattern)
    by = f" ORDER BY {order}" if order else ""
    return cast(LiteralString, f"head(COLLECT {{ MATCH {path} WHERE {held} AND {where} RETURN {returns}{by} }})")


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
