"""What a load changed for coverage and gaps in the area it loaded: each figure before → after.

The area is the narrowest one holding every area the workbook's rows lie in (`loaders.prune.prune_area`: its
highest area sheet's codes, else its rows' communities) — one community, street, district or the city. Before
the first write and after the coverage rollups are refreshed, one read transaction each counts the scope's gaps
per kind (`graph.gaps.count_query`, a count in Cypher: no gap is pulled into Python) and reads its coverage
(`graph.coverage.coverage`). Counts per kind, not the sets: a kind's 38 → 31 is its net change, not how many
gaps were opened and how many closed. A scope not in the graph yet (a first load) counts nothing before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from neo4j import AsyncManagedTransaction

from core.areas import AREA_LEVELS, area_code, level_of
from graph.coverage import coverage
from graph.driver import Graph
from graph.gaps import RULES, count_query
from graph.scope import Scope, area_query
from loaders.plan import Plan
from loaders.prune import prune_area


@dataclass
class Figures:
    """A scope's gap counts per kind and coverage (units, covered) per metric, on one day."""

    gaps: dict[str, int] = field(default_factory=dict)
    coverage: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass
class Effect:
    """The loaded scope's figures before and after a load."""

    scope: Scope
    before: Figures
    after: Figures


def load_scope(plan: Plan) -> Scope | None:
    """The narrowest area holding every area the plan's rows lie in; None when they lie in none (units only)."""
    codes = sorted({code for codes in prune_area(plan).values() for code in codes})
    if not codes:
        return None
    widest = min(AREA_LEVELS.index(level_of(code)) for code in codes)
    for level in reversed(AREA_LEVELS[: widest + 1]):  # from the codes' own level up
        found = {area_code(code, level.key) for code in codes}
        if len(found) == 1:
            return Scope(level.key, found.pop())
    return None  # areas of several cities: no one scope holds them


async def measure(graph: Graph, scope: Scope, as_of: date | None = None) -> Figures:
    """The scope's gap counts per kind and coverage on `as_of` (today); nothing when the scope is not in the graph."""
    day = (as_of or date.today()).isoformat()
    counted = await graph.read(_gap_counts, scope, day)
    if counted is None:
        return Figures()
    report = await coverage(graph, scope, day)
    return Figures(counted, {k: (f.units, f.covered) for k, f in report.scope.figures.items()})


async def _gap_counts(tx: AsyncManagedTransaction, scope: Scope, day: str) -> dict[str, int] | None:
    params: dict[str, Any] = {"scope": scope.code, "community": scope.community, "asOf": day}
    if await (await tx.run(area_query(scope.level), params)).single() is None:
        return None
    counts: dict[str, int] = {}
    for index, rule in enumerate(RULES):
        record = await (await tx.run(count_query(index, scope.level), params)).single()
        counts[rule.kind] = counts.get(rule.kind, 0) + (record["n"] if record else 0)
    return counts
