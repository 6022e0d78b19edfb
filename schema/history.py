"""`coverageHistory(scope:)`: a scope's coverage figures on a series of days, for trend lines and period reports."""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry
from strawberry.types import Info

from graph import history as hist
from graph.metrics import METRICS
from graph.scope import AreaNotFound
from schema.common import Context, Place, area_not_found, as_of, scope_of
from schema.coverage import CoverageFigure, CoverageMetric, figures_of
from schema.errors import UserError

Period = strawberry.enum(
    Enum(  # type: ignore[misc]
        "Period",
        {
            "MONTH": strawberry.enum_value("MONTH", description="月末 / month ends"),
            "QUARTER": strawberry.enum_value("QUARTER", description="季末 / quarter ends"),
            "YEAR": strawberry.enum_value("YEAR", description="年末 / year ends"),
        },
    ),
    description="序列间隔 / How far apart a series' days are: 月末 month ends, 季末 quarter ends, 年末 year ends.",
)


@strawberry.type(description="某一日的覆盖率 / The scope's figures on one day.")
class CoveragePoint:
    as_of: date = strawberry.field(description="日期 / The day.")
    figures: list[CoverageFigure] = strawberry.field(description="各项指标 / Every requested metric on that day.")


@strawberry.type(description="覆盖率序列 / A scope's coverage on a series of days.")
class CoverageHistory:
    scope: Place = strawberry.field(description="所选范围 / The scope.")
    every: Period = strawberry.field(description="间隔 / How far apart the days are.")  # type: ignore[valid-type]
    points: list[CoveragePoint] = strawberry.field(
        description="起始日、其后每个期末、截止日 / `from`, the end of every period after it, and `to`."
    )


async def resolve_history(
    info: Info[Context, None],
    scope: str,
    metrics: list[CoverageMetric] | None,  # type: ignore[valid-type]
    first: date | None,
    last: date | None,
    every: Period,  # type: ignore[valid-type]
) -> CoverageHistory:
    """Resolver of `Query.coverageHistory`: `to` defaults to today, `from` to a year before `to`."""
    where = scope_of(info, scope)
    end = date.fromisoformat(as_of(info, last))
    start = first or end.replace(year=end.year - 1, day=min(end.day, 28) if end.month == 2 else end.day)
    try:
        days = hist.series_days(start, end, hist.Every[every.name])
    except hist.TooManyPoints:
        raise UserError(
            f"日期序列超过 {hist.MAX_POINTS} 个点,请缩短时间段或加大间隔 / more than {hist.MAX_POINTS} days in the "
            "series: shorten the period or choose a longer interval"
        ) from None
    except ValueError:
        raise UserError(f"截止日 {end} 早于起始日 {start} / `to` ({end}) lies before `from` ({start})") from None
    keys = [m.name for m in metrics] if metrics else [m.key for m in METRICS]
    try:
        made = await hist.history(info.context.graph, where, days, tuple(keys))
    except AreaNotFound:
        raise area_not_found(scope) from None
    return CoverageHistory(
        scope=Place(code=where.code, name=made.name),
        every=every,
        points=[CoveragePoint(as_of=p.day, figures=figures_of(p.figures, keys)) for p in made.points],
    )
