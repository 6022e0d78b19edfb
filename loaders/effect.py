"""What a load changed for coverage and gaps in the area it loaded: each figure before → after.

The area is the narrowest one holding every area the workbook's rows lie in (`loaders.prune.prune_area`: its
highest area sheet's codes, else its rows' communities) — one community, street, district or the city. Before
the first write and after the coverage rollups are refreshed, one read transaction each counts the scope's gaps
per kind (`graph.gaps.count_query`, a count in Cypher: no gap is pulled into Python) and reads its coverage
(`graph.coverage.coverage`). A scope not in the graph yet (a first load) counts nothing before.

In a community or a street (`SPLIT_LEVELS`) the gaps are read as sets of codes per kind (`graph.gaps.codes_query`,
at most a street's entities: about 50,000 households), so the summary says how many the load opened and how many
it closed ("38 → 31: 新增 2, 消除 9"). Above a street the coverage gaps are counted from the rollups, without
reading millions of entities, and a kind's 38 → 31 is only its net change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from neo4j import AsyncManagedTransaction

from core.areas import AREA_LEVELS, area_code, level_of
from graph.coverage import coverage
from graph.driver import Graph
from graph.gaps import RULES, count_kinds, kind_codes
from graph.scope import Scope, area_query
from loaders.plan import Plan
from loaders.prune import prune_area

#: The scope levels whose gaps are read as sets, so a load's opened and closed gaps can be told apart.
SPLIT_LEVELS = frozenset({"community", "street"})


@dataclass
class Figures:
    """A scope's gap counts per kind and coverage (units, covered) per metric, on one day; in `SPLIT_LEVELS`
    also the codes of each kind's gaps (`codes`; None above a street)."""

    gaps: dict[str, int] = field(default_factory=dict)
    coverage: dict[str, tuple[int, int]] = field(default_factory=dict)
    codes: dict[str, set[str]] | None = None


@dataclass
class Effect:
    """The loaded scope's figures before and after a load."""

    scope: Scope
    before: Figures
    after: Figures

    def split(self, kind: str) -> tuple[int, int] | None:
        """How many gaps of `kind` the load opened and closed; None when the figures hold counts only."""
        if self.before.codes is None or self.after.codes is None:
            return None
        was, now = self.before.codes.get(kind, set()), self.after.codes.get(kind, set())
        return len(now - was), len(was - now)

    def split_total(self) -> tuple[int, int] | None:
        """How many gaps of every kind the load opened and closed; None when the figures hold counts only."""
        splits = [self.split(kind) for kind in {r.kind for r in RULES}]
        if any(s is None for s in splits):
            return None
        return sum(s[0] for s in splits if s), sum(s[1] for s in splits if s)


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
    read = await graph.read(_gaps, scope, day)
    if read is None:
        return Figures(codes={} if scope.level in SPLIT_LEVELS else None)
    counted, codes = read
    report = await coverage(graph, scope, day)
    return Figures(counted, {k: (f.units, f.covered) for k, f in report.scope.figures.items()}, codes)


async def _gaps(
    tx: AsyncManagedTransaction, scope: Scope, day: str
) -> tuple[dict[str, int], dict[str, set[str]] | None] | None:
    """The scope's gap counts per kind, and in `SPLIT_LEVELS` their codes; None when the scope is not in the graph."""
    params: dict[str, Any] = {"scope": scope.code, "community": scope.community, "asOf": day}
    if await (await tx.run(area_query(scope.level), params)).single() is None:
        return None
    if scope.level in SPLIT_LEVELS:
        codes = await kind_codes(tx, scope.level, params)
        return {kind: len(found) for kind, found in codes.items()}, codes
    return await count_kinds(tx, RULES, scope.level, params), None
