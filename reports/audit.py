"""The audit report of a scope: its coverage per child area and every gap, as tables for a workbook or CSV.

The figures come from the same code as the GraphQL API, so the workbook says what the API says:
`graph.coverage.coverage` (the `coverage` query) for the summary, and `graph.gaps.all_gaps` (the `gaps`
query's keyset pager, read to the end) for the gap sheets. No Cypher lives here. The caller's scope
(`allowed`, None for everything) limits what may be read, as `Context.scope` does for the API.
Free text (names: the scope's, its areas', every gap's places, entity and organization) passes `redact`, so no
ID number or phone number leaves unmasked, not even in a title, a page header or the download's file name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from core.model import GAP_KINDS, SHEET_BY_LABEL
from core.privacy import redact
from graph.coverage import AreaCoverage, CoverageReport, Figure, coverage
from graph.driver import Graph
from graph.gaps import Gap, all_gaps
from graph.metrics import METRICS
from graph.scope import LEVEL_ZH, Scope

#: The sheet of each gap kind: a short Chinese name (≤31 characters, unique, none of []:*?/\).
KIND_SHEET: dict[str, str] = {
    "compound_without_branch": "小区无党支部覆盖",
    "building_without_group": "楼栋无党小组",
    "group_without_central_household": "党小组无党员中心户",
    "household_without_central_household": "住户未联系党员中心户",
    "branch_under_three_full_members": "支部正式党员不足3名",
    "branch_without_committee": "支部未设支委会",
    "expired_committee_term": "任期届满未换届",
    "community_size_out_of_range": "社区户数超出范围",
    "compound_without_property_company": "中心城区小区无物业",
    "unit_never_reported": "成员单位未报到",
    "member_never_reported": "在职党员未报到",
    "need_unserved": "需求无人服务",
    "community_without_service_center": "社区无党群服务中心",
}
SUMMARY_SHEET = "汇总"
#: The sheets a comparison with an earlier day adds (`--compare-to`): figures then and now, gaps new and closed.
COMPARE_SHEET, NEW_SHEET, CLOSED_SHEET = "对比", "新增空白点", "已整改空白点"
assert tuple(KIND_SHEET) == GAP_KINDS
assert len({*KIND_SHEET.values(), SUMMARY_SHEET, COMPARE_SHEET, NEW_SHEET, CLOSED_SHEET}) == len(KIND_SHEET) + 4
assert all(len(s) <= 31 and not set(s) & set("[]:*?/\\") for s in KIND_SHEET.values())

COVERAGE_LEAD = ("层级 level", "区域编码 code", "区域名称 name")
FIGURE_COLUMNS = ("应覆盖 units", "已覆盖 covered", "覆盖率 rate")
COUNT_HEADER = ("空白点 gap", "数量 count", "类型 kind")
COMPARE_HEADER = (
    "层级 level", "区域编码 code", "区域名称 name", "指标 metric", "指标编码 key",
    "前期应覆盖 units then", "前期已覆盖 covered then", "前期覆盖率 rate then",
    "本期应覆盖 units now", "本期已覆盖 covered now", "本期覆盖率 rate now",
    "已覆盖变化 covered change", "覆盖率变化 rate change",
)  # fmt: skip
COMPARE_COUNT_HEADER = ("空白点 gap", "前期 then", "本期 now", "新增 new", "已整改 closed", "变化 change", "类型 kind")
GAP_HEADER = (
    "序号 no.",
    "街道 street",
    "社区 community",
    "网格 grid",
    "小区 compound",
    "实体类型 type",
    "实体编码 code",
    "实体名称 name",
    "规则 rule",
    "规则出处 source",
    "责任组织类型 org. type",
    "责任组织编码 org. code",
    "责任组织 responsible",
)
#: Columns of long text, wrapped in the workbook.
GAP_WRAPPED = frozenset({8, 9})


class OutsideScope(PermissionError):
    """The scope asked for lies outside the caller's; the message is bilingual."""


@dataclass
class Table:
    """One table: a header row (with optional group headers spanning columns above it) and rows."""

    name: str  # the CSV file's stem
    header: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    groups: tuple[tuple[int, int, str], ...] = ()  # (first column, last column, text), 0-based, inclusive
    percent: frozenset[int] = frozenset()  # columns holding rates (0-1)
    wrapped: frozenset[int] = frozenset()  # columns of long text
    bold_rows: frozenset[int] = frozenset()  # rows to set in bold (totals)
    frozen_columns: int = 0  # leading columns that stay in view when scrolling right

    @property
    def flat_header(self) -> tuple[str, ...]:
        """The header in one row (group text prefixed), as a CSV file has it."""
        out = list(self.header)
        for first, last, text in self.groups:
            for i in range(first, last + 1):
                out[i] = f"{text} {out[i]}"
        return tuple(out)


@dataclass
class Sheet:
    """One worksheet: lines of title, then its tables one below the other (the first is the main one)."""

    name: str
    tables: list[Table]
    title: list[str] = field(default_factory=list)
    page_header: str = ""


@dataclass
class Earlier:
    """The same scope judged on an earlier (or any other) day, for 环比/同比: its coverage and gaps."""

    as_of: str
    coverage: CoverageReport
    gaps: dict[str, list[Gap]]


@dataclass
class AuditReport:
    """What the audit workbook shows: the scope's coverage and all its gaps, judged on `as_of` (and, with
    `earlier`, beside another day's)."""

    scope: Scope
    name: str
    as_of: str
    coverage: CoverageReport
    gaps: dict[str, list[Gap]]
    earlier: Earlier | None = None

    @property
    def heading(self) -> str:
        """`街道 古城街道(420602001000)`."""
        return f"{LEVEL_ZH[self.scope.level]} {self.name}({self.scope.code})"


async def build_audit(
    graph: Graph, scope: Scope, as_of: str, *, allowed: Scope | None = None, compare_to: str | None = None
) -> AuditReport:
    """Read the report of `scope` on `as_of` (ISO date), and on `compare_to` too when given; `allowed` is the
    widest scope the caller may read.

    Raises `OutsideScope` when `scope` is not inside `allowed`, `graph.scope.AreaNotFound` when no area
    has its code.
    """
    if allowed is not None and not scope.within(allowed):
        raise OutsideScope(
            f"无权查看该范围 / {scope.code} is outside the area you may read ({allowed.code})"
        )  # the API's FORBIDDEN message
    figures, found = await _judged(graph, scope, as_of)
    earlier = Earlier(compare_to, *await _judged(graph, scope, compare_to)) if compare_to else None
    return AuditReport(scope, redact(figures.scope.name), as_of, figures, found, earlier)  # its title, file name


async def _judged(graph: Graph, scope: Scope, as_of: str) -> tuple[CoverageReport, dict[str, list[Gap]]]:
    """The scope's coverage and its gaps by kind on one day."""
    figures = await coverage(graph, scope, as_of)
    found: dict[str, list[Gap]] = {kind: [] for kind in GAP_KINDS}
    async for gap in all_gaps(graph, scope, as_of):
        found[gap.rule.kind].append(gap)
    return figures, found


def sheets(report: AuditReport) -> list[Sheet]:
    """The workbook: the summary, with an earlier day the comparison and the gaps new and closed since, then one
    sheet per gap kind (in GapKind order)."""
    out = [_summary(report)]
    if report.earlier is not None:
        out += _comparison(report, report.earlier)
    for kind in GAP_KINDS:
        name = KIND_SHEET[kind]
        out.append(Sheet(name, [_gap_table(name, report.gaps[kind])], page_header=_page_header(report, name)))
    return out


def _key(gap: Gap) -> tuple[str, str]:
    return gap.rule.kind, gap.code


def _comparison(report: AuditReport, then: Earlier) -> list[Sheet]:
    """环比/同比: every area's figures then and now, the gap counts, and the gaps new and closed since."""
    now, was = report.coverage, then.coverage
    pairs: list[tuple[str, AreaCoverage | None, AreaCoverage | None]] = [
        (f"{LEVEL_ZH[now.scope.level]}(合计)", now.scope, was.scope)
    ]
    was_by_code = {a.code: a for a in was.children}
    pairs += [(LEVEL_ZH.get(c.level, c.level), c, was_by_code.pop(c.code, None)) for c in now.children]
    pairs += [(LEVEL_ZH.get(c.level, c.level), None, c) for c in was_by_code.values()]  # areas since gone
    rows = []
    for level, area_now, area_then in pairs:
        shown = area_now or area_then
        assert shown is not None
        for m in METRICS:
            f_now = area_now.figures.get(m.key) if area_now else None
            f_then = area_then.figures.get(m.key) if area_then else None
            if f_now is None and f_then is None:
                continue  # the metric does not apply at this level
            rows.append((level, shown.code, redact(shown.name), m.zh, m.key, *_figure(f_then), *_figure(f_now),
                         *_change(f_then, f_now)))  # fmt: skip
    compare = Table(f"{COMPARE_SHEET}-覆盖率", COMPARE_HEADER, rows, percent=frozenset({7, 10, 12}), frozen_columns=3)
    gaps_then = {_key(g) for gaps in then.gaps.values() for g in gaps}
    gaps_now = {_key(g) for gaps in report.gaps.values() for g in gaps}
    new = [g for kind in GAP_KINDS for g in report.gaps[kind] if _key(g) not in gaps_then]
    closed = [g for kind in GAP_KINDS for g in then.gaps[kind] if _key(g) not in gaps_now]
    counts = []
    for kind in GAP_KINDS:
        n_then, n_now = len(then.gaps[kind]), len(report.gaps[kind])
        n_new, n_closed = sum(g.rule.kind == kind for g in new), sum(g.rule.kind == kind for g in closed)
        counts.append((KIND_SHEET[kind], n_then, n_now, n_new, n_closed, n_now - n_then, kind))
    totals = [sum(row[i] for row in counts) for i in range(1, 6)]
    counts.append(("合计 total", *totals, ""))
    count_table = Table(
        f"{COMPARE_SHEET}-空白点数", COMPARE_COUNT_HEADER, counts, bold_rows=frozenset({len(counts) - 1})
    )
    title = [
        f"对比 / Comparison: {report.heading}",
        f"前期 then: {then.as_of}    本期 now: {report.as_of}",
        "各项指标前期与本期的覆盖情况及变化;新增、已整改的空白点见后两张工作表 / each figure then, now and its change; "
        "the gaps new since then and those closed since are on the next two sheets",
    ]
    since = f"{then.as_of} → {report.as_of}"
    return [
        Sheet(COMPARE_SHEET, [compare, count_table], title, page_header=_page_header(report, COMPARE_SHEET)),
        Sheet(NEW_SHEET, [_gap_table(NEW_SHEET, new, kinds=True)], [f"新增空白点 / gaps new since {since}"],
              page_header=_page_header(report, NEW_SHEET)),
        Sheet(CLOSED_SHEET, [_gap_table(CLOSED_SHEET, closed, kinds=True)],
              [f"已整改空白点 / gaps closed since {since}"], page_header=_page_header(report, CLOSED_SHEET)),
    ]  # fmt: skip


def _figure(f: Figure | None) -> tuple[Any, Any, Any]:
    return (None, None, None) if f is None else (f.units, f.covered, f.rate)


def _change(then: Figure | None, now: Figure | None) -> tuple[int | None, float | None]:
    """(covered now - then, rate now - then); None where a side is missing."""
    if then is None or now is None:
        return None, None
    rate = None if then.rate is None or now.rate is None else now.rate - then.rate
    return now.covered - then.covered, rate


def _summary(report: AuditReport) -> Sheet:
    groups = []
    header = list(COVERAGE_LEAD)
    percent = set()
    for m in METRICS:
        first = len(header)
        header += FIGURE_COLUMNS
        groups.append((first, first + 2, f"{m.zh} {m.key}"))
        percent.add(first + 2)
    cov = report.coverage
    scope_level = f"{LEVEL_ZH[cov.scope.level]}(合计)"
    rows = [_coverage_row(cov.scope, scope_level)]
    rows += [_coverage_row(child, LEVEL_ZH.get(child.level, child.level)) for child in cov.children]
    coverage_table = Table(
        f"{SUMMARY_SHEET}-覆盖率",
        tuple(header),
        rows,
        tuple(groups),
        frozenset(percent),
        bold_rows=frozenset({0}),
        frozen_columns=len(COVERAGE_LEAD),
    )
    counts = [(KIND_SHEET[k], len(report.gaps[k]), k) for k in GAP_KINDS]
    counts.append(("合计 total", sum(len(g) for g in report.gaps.values()), ""))
    count_table = Table(f"{SUMMARY_SHEET}-空白点数", COUNT_HEADER, counts, bold_rows=frozenset({len(counts) - 1}))
    title = [
        f"基层党建组织网络审计报告 / Audit report: {report.name}({report.scope.code})",
        f"范围 scope: {report.heading}    判定日期 as of: {report.as_of}",
        "覆盖率:首行为所选范围合计,其下为各下级区域;空白点明细见各工作表 / coverage: the scope's total first, "
        "then each child area; every gap is listed on the sheet of its kind",
    ]
    return Sheet(SUMMARY_SHEET, [coverage_table, count_table], title, page_header=_page_header(report, SUMMARY_SHEET))


def _page_header(report: AuditReport, sheet: str) -> str:
    """What every printed page of a sheet says on top: the scope, the sheet, the date."""
    return f"{report.heading} · {sheet} · 判定日期 {report.as_of}"


def _coverage_row(area: AreaCoverage, level: str) -> tuple[Any, ...]:
    cells: list[Any] = [level, area.code, redact(area.name)]
    for m in METRICS:
        f = area.figures.get(m.key)
        cells += [None, None, None] if f is None else [f.units, f.covered, f.rate]  # None: not at this level
    return tuple(cells)


def _place(place: dict[str, Any] | None) -> str | None:
    return None if place is None else redact(place.get("name") or place.get("code"))


def _type_zh(label: str | None) -> str | None:
    return SHEET_BY_LABEL[label].zh if label in SHEET_BY_LABEL else label


def _gap_table(name: str, gaps: list[Gap], kinds: bool = False) -> Table:
    """A gap list; with `kinds`, each row names its kind's sheet too (a list of many kinds)."""
    rows = []
    for number, g in enumerate(gaps, start=1):
        org = g.responsible or {}
        rows.append((
            number, *([KIND_SHEET[g.rule.kind]] if kinds else []), _place(g.street), _place(g.community),
            _place(g.grid), _place(g.compound), _type_zh(g.label), g.code, redact(g.name), g.rule.zh, g.rule.source,
            _type_zh(org.get("label")), org.get("code"), redact(org.get("name")),
        ))  # fmt: skip
    if kinds:
        return Table(name, (GAP_HEADER[0], "空白点 gap", *GAP_HEADER[1:]), rows,
                     wrapped=frozenset(i + 1 for i in GAP_WRAPPED))  # fmt: skip
    return Table(name, GAP_HEADER, rows, wrapped=GAP_WRAPPED)


def file_stem(report: AuditReport) -> tuple[str, str]:
    """The download's name without suffix: (Chinese, ASCII fallback)."""
    name = re.sub(r'[\\/:*?"<>|\s]+', "_", report.name)
    day = report.as_of if report.earlier is None else f"{report.earlier.as_of}-vs-{report.as_of}"
    return f"审计报告-{name}-{report.scope.code}-{day}", f"audit-{report.scope.code}-{day}"
