"""`coverage(scope:)`: the scope's coverage figures and each child area's, in one request."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from graph import coverage as cov
from graph.metrics import METRIC_BY_KEY, METRICS
from graph.scope import AreaNotFound
from schema.common import Context, GapKind, Place, area_not_found, as_of, scope_of

CoverageMetric = strawberry.enum(
    Enum("CoverageMetric", {m.key: strawberry.enum_value(m.key, description=f"{m.zh} / {m.en}") for m in METRICS}),  # type: ignore[misc]
    description="覆盖率指标 / Coverage metrics.",
)


@strawberry.type(description="一项覆盖率 / One coverage figure: how many units, how many covered, the rate.")
class CoverageFigure:
    metric: CoverageMetric = strawberry.field(description="指标 / The metric.")  # type: ignore[valid-type]
    description: str = strawberry.field(description="指标含义 / What it counts (中文 / English).")
    units: int = strawberry.field(description="应覆盖数 / Units the rule applies to.")
    covered: int = strawberry.field(description="已覆盖数 / Units that meet it.")
    uncovered: int = strawberry.field(description="未覆盖数 / units - covered (the gaps of `gapKind`).")
    rate: float | None = strawberry.field(description="覆盖率 0–1 / covered / units; null when units is 0.")
    gap_kind: GapKind | None = strawberry.field(  # type: ignore[valid-type]
        description="未覆盖者对应的空白点类型 / The gap kind listing the uncovered units, if any."
    )


@strawberry.type(description="一个区域的覆盖率 / Coverage of one area.")
class AreaCoverage:
    area: Place = strawberry.field(description="区域 / The area (code null: entities in no grid).")
    level: str = strawberry.field(description="层级 / Level: city, district, street, community or grid.")
    figures: list[CoverageFigure] = strawberry.field(
        description="各项指标 / Every requested metric (a grid has no community-level metrics)."
    )

    @strawberry.field(description="某一项指标 / One metric's figure (null when it does not apply here).")
    def figure(
        self,
        metric: Annotated[CoverageMetric, strawberry.argument(description="指标 / The metric.")],  # type: ignore[valid-type]
    ) -> CoverageFigure | None:
        return next((f for f in self.figures if f.metric == metric), None)


@strawberry.type(description="覆盖率报告 / Coverage of a scope and of each of its child areas.")
class Coverage:
    scope: AreaCoverage = strawberry.field(description="所选范围合计 / The scope as a whole.")
    children: list[AreaCoverage] = strawberry.field(
        description="下级区域(市→区→街道→社区→网格),合计等于上级 / Child areas; their sums equal the scope's."
    )
    as_of: date = strawberry.field(description="判定日期 / The date the rules were judged on.")


def figures_of(figures: dict[str, cov.Figure], keys: list[str]) -> list[CoverageFigure]:
    """The requested metrics' figures, in the metrics' order (those that do not apply left out)."""
    out = []
    for key in keys:
        f = figures.get(key)
        if f is None:
            continue
        m = METRIC_BY_KEY[key]
        out.append(
            CoverageFigure(
                metric=CoverageMetric[key],
                description=f"{m.zh} / {m.en}",
                units=f.units,
                covered=f.covered,
                uncovered=f.units - f.covered,
                rate=f.rate,
                gap_kind=GapKind[m.gap] if m.gap else None,
            )
        )
    return out


def _area(area: cov.AreaCoverage, keys: list[str]) -> AreaCoverage:
    place = Place(code=area.code, name=area.name)
    return AreaCoverage(area=place, level=area.level, figures=figures_of(area.figures, keys))


async def resolve_coverage(
    info: Info[Context, None],
    scope: str,
    metrics: list[CoverageMetric] | None = None,  # type: ignore[valid-type]
    as_of_date: date | None = None,
) -> Coverage:
    """Resolver of `Query.coverage`."""
    where = scope_of(info, scope)
    day = as_of(info, as_of_date)
    keys = [m.name for m in metrics] if metrics else [m.key for m in METRICS]
    try:
        report = await cov.coverage(info.context.graph, where, day, tuple(keys))
    except AreaNotFound:
        raise area_not_found(scope) from None
    return Coverage(
        scope=_area(report.scope, keys),
        children=[_area(c, keys) for c in report.children],
        as_of=date.fromisoformat(day),
    )
