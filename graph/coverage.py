"""Coverage: for a scope and each of its child areas, how many entities a rule applies to and how many meet it.

City, district and street scopes sum their communities' rollups (`graph.rollups`); community and grid
scopes run the metrics' queries live. Either way one read transaction answers the whole report.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, LiteralString, cast

from neo4j import AsyncManagedTransaction

from graph import rollups
from graph.driver import Graph
from graph.metrics import GRID_OF, METRIC_BY_KEY, METRICS, metric_query
from graph.scope import AREA_PROPERTY, LEVEL_LABEL, AreaNotFound, Scope, area_query

ROLLED_UP = ("city", "district", "street")


@cache
def children_query(level: str) -> LiteralString:
    """The child areas of a scope, with names (grids of a community; else areas one level down)."""
    child = Scope(level, "").child_level
    if child is None:
        return "UNWIND [] AS x RETURN x AS code, x AS name"
    label = LEVEL_LABEL[child]
    parent = "communityCode" if child == "grid" else AREA_PROPERTY[level]
    return cast(
        LiteralString,
        f"MATCH (c:{label}) WHERE c.{parent} = $scope AND c.code <> $scope RETURN c.code AS code, c.name AS name",
    )


@dataclass
class Figure:
    """units, covered and rate for one metric in one area."""

    units: int = 0
    covered: int = 0

    @property
    def rate(self) -> float | None:
        """covered / units, or None when no unit exists."""
        return self.covered / self.units if self.units else None


@dataclass
class AreaCoverage:
    """Every metric's figure for one area (the scope or one of its children)."""

    code: str | None
    name: str
    level: str
    figures: dict[str, Figure]


@dataclass
class CoverageReport:
    """The scope's coverage and its children's."""

    scope: AreaCoverage
    children: list[AreaCoverage]


@cache
def rollup_sum_query(level: str, keys: tuple[str, ...]) -> LiteralString:
    """Sum the communities' rollups on $asOf inside a city, district or street scope, per child area."""
    child = Scope(level, "").child_level
    assert level in ROLLED_UP
    assert child is not None
    sums = ", ".join(
        f"sum({rollups.at_day('c', rollups.units_property(k), 'i')}) AS {k}_units, "
        f"sum({rollups.at_day('c', rollups.covered_property(k), 'i')}) AS {k}_covered"
        for k in keys
    )
    return cast(
        LiteralString, f"MATCH (c:_Rollup) WHERE c.{AREA_PROPERTY[level]} = $scope AND {rollups.current('c')} "
        f"WITH c, {rollups.day_index('c')} AS i RETURN c.{AREA_PROPERTY[child]} AS child, {sums}",
    )  # fmt: skip


async def coverage(graph: Graph, scope: Scope, as_of: str, metrics: tuple[str, ...] | None = None) -> CoverageReport:
    """Coverage for `scope` and each child area, in one read transaction.

    City, district and street scopes sum the communities' rollups on `as_of` and count the communities without
    a current one themselves; community and grid scopes run one live query per metric. Nothing is written.
    """
    keys = tuple(m.key for m in METRICS if metrics is None or m.key in metrics)
    return await graph.read(_coverage, scope, as_of, keys)


async def _rows(tx: AsyncManagedTransaction, scope: Scope, keys: tuple[str, ...], params: dict[str, Any]) -> list[Any]:
    """(child, metric key, units, covered) rows: from rollups or from live queries."""
    out: list[Any] = []
    if scope.level in ROLLED_UP:
        async for r in await tx.run(rollup_sum_query(scope.level, keys), params):
            out += [(r["child"], k, r[f"{k}_units"], r[f"{k}_covered"]) for k in keys]
        child_of = {r["code"]: r["child"] async for r in await tx.run(rollups.stale_query(scope.level), params)}
        live = await rollups.live_rows(tx, keys, sorted(child_of), params["asOf"])
        out += [(child_of[community], key, units, covered) for community, key, units, covered in live]
        return out
    for key in keys:
        async for r in await tx.run(metric_query(key, scope.level), params):
            out.append((r["child"], key, r["units"], r["covered"]))
    return out


async def _coverage(tx: AsyncManagedTransaction, scope: Scope, as_of: str, keys: tuple[str, ...]) -> CoverageReport:
    params: dict[str, Any] = {"scope": scope.code, "community": scope.community, "asOf": as_of}
    own = await (await tx.run(area_query(scope.level), params)).single()
    if own is None:
        raise AreaNotFound(scope.code)
    child_level = scope.child_level
    names = {r["code"]: r["name"] async for r in await tx.run(children_query(scope.level), params)}
    per_child: dict[str | None, dict[str, Figure]] = {code: {} for code in sorted(names)}
    total: dict[str, Figure] = {}
    for key in keys:
        total[key] = Figure()
    for child, key, units, covered in await _rows(tx, scope, keys, params):
        total[key].units += units
        total[key].covered += covered
        if child_level is not None and (child_level != "grid" or METRIC_BY_KEY[key].label in GRID_OF):
            per_child.setdefault(child, {})[key] = Figure(units, covered)
    children = []
    for code, figures in per_child.items():
        for key in keys:
            if child_level != "grid" or METRIC_BY_KEY[key].label in GRID_OF:
                figures.setdefault(key, Figure())  # an area with none of these entities: 0 of 0
        name = names.get(code) if code is not None else None
        children.append(AreaCoverage(code, name or ("(无网格 / no grid)" if code is None else code), child_level or "",
                                     figures))  # fmt: skip
    return CoverageReport(AreaCoverage(scope.code, own["name"], scope.level, total), children)
