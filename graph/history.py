"""Coverage through time: a scope's figures on a series of days (the end of every month, quarter or year).

The days: `first`, the end of every period after it, and `last` — so a series from 2025-01-01 to 2026-12-06 by
month reads 2025-01-01, 2025-01-31, …, 2026-11-30, 2026-12-06. A city, district, street or community sums its
communities' rollup timelines on every day in one read (graph/rollups.py); communities without a current rollup,
and grid scopes, are counted day by day (`graph.coverage`). Nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum
from functools import cache
from typing import Any, LiteralString, cast

from neo4j import AsyncManagedTransaction

from graph import coverage as cov
from graph import rollups
from graph.driver import Graph
from graph.metrics import METRICS
from graph.scope import AREA_PROPERTY, AreaNotFound, Scope, area_query

#: Days in one series at most (ten years by month): a longer one is refused before anything is read.
MAX_POINTS = 121


class Every(Enum):
    """How far apart a series' days are."""

    MONTH = 1
    QUARTER = 3
    YEAR = 12


class TooManyPoints(ValueError):
    """A series longer than MAX_POINTS days."""


def month_end(year: int, month: int) -> date:
    """The last day of a month (months past 12 roll into the next years)."""
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    first_of_next = date(year + (month == 12), month % 12 + 1, 1)
    return first_of_next - timedelta(days=1)


def series_days(first: date, last: date, every: Every) -> list[date]:
    """`first`, the end of every period after it and before `last`, and `last` (no day twice). Raises ValueError
    when `last` lies before `first`, TooManyPoints past MAX_POINTS days."""
    if last < first:
        raise ValueError("last before first")
    days = [first]
    month = first.month + (every.value - first.month % every.value) % every.value  # the period's last month
    end = month_end(first.year, month)
    while end < last:
        if end > first:
            days.append(end)
        if len(days) >= MAX_POINTS:
            raise TooManyPoints(f"more than {MAX_POINTS} days")
        month += every.value
        end = month_end(first.year, month)
    if last != first:
        days.append(last)
    if len(days) > MAX_POINTS:
        raise TooManyPoints(f"more than {MAX_POINTS} days")
    return days


@dataclass
class Point:
    """The scope's figures on one day."""

    day: date
    figures: dict[str, cov.Figure]


@dataclass
class History:
    """The scope's name and its figures on each day asked."""

    name: str
    points: list[Point]


@cache
def history_query(level: str, keys: tuple[str, ...]) -> LiteralString:
    """Per index into $days: the sums of the current rollups inside a scope of `level` on that day.

    Each rollup's timeline (`days`) and each metric's arrays are read once per rollup and then indexed for every
    day: read inside the per-day rows, every array was decoded again for each day (a street's year by month
    read its ~19 rollups' 17 arrays of ~600 entries 13 times each)."""
    props = [
        (f"{k}_{side}", prop)
        for k in keys
        for side, prop in (("units", rollups.units_property(k)), ("covered", rollups.covered_property(k)))
    ]
    arrays = ", ".join(f"c.{prop} AS {name}, c.now_{prop} AS now_{name}" for name, prop in props)
    carried = ", ".join(f"{name}, now_{name}" for name, _ in props)
    sums = ", ".join(f"sum({rollups.value_at(f'now_{name}', name, 'i')}) AS {name}" for name, _ in props)
    index = rollups.timeline_index("since", "until", "timeline", "day")
    return cast(
        LiteralString,
        f"""
MATCH (c:_Rollup) WHERE c.{AREA_PROPERTY[level]} = $scope AND {rollups.current("c")}
WITH c, c.days AS timeline, c.currentFrom AS since, c.currentUntil AS until
WITH [day IN [d IN $days | date(d)] | {index}] AS at, {arrays}
UNWIND range(0, size($days) - 1) AS k
WITH k, at[k] AS i, {carried}
RETURN k, {sums}
""",
    )


async def history(graph: Graph, scope: Scope, days: list[date], metrics: tuple[str, ...] | None = None) -> History:
    """The scope's figures on each of `days`, in one read transaction (a grid: one per day). Raises
    AreaNotFound."""
    keys = tuple(m.key for m in METRICS if metrics is None or m.key in metrics)
    if scope.level == "grid":  # no rollup below a community: each day counted
        reports = [await cov.coverage(graph, scope, day.isoformat(), keys) for day in days]
        return History(reports[0].scope.name, [Point(d, r.scope.figures) for d, r in zip(days, reports, strict=True)])
    return await graph.read(_history, scope, days, keys)


async def _history(tx: AsyncManagedTransaction, scope: Scope, days: list[date], keys: tuple[str, ...]) -> History:
    params: dict[str, Any] = {"scope": scope.code, "days": [d.isoformat() for d in days]}
    own = await (await tx.run(area_query(scope.level), params)).single()
    if own is None:
        raise AreaNotFound(scope.code)
    points = [Point(day, {k: cov.Figure() for k in keys}) for day in days]
    async for r in await tx.run(history_query(scope.level, keys), params):
        for k in keys:
            points[r["k"]].figures[k].units += r[f"{k}_units"] or 0
            points[r["k"]].figures[k].covered += r[f"{k}_covered"] or 0
    stale = [r["code"] async for r in await tx.run(rollups.stale_query(scope.level), params)]
    for point in points if stale else []:
        for _community, key, units, covered in await rollups.live_rows(tx, keys, stale, point.day.isoformat()):
            point.figures[key].units += units
            point.figures[key].covered += covered
    return History(own["name"], points)
