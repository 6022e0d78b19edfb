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
from graph.coverage import AreaCoverage, CoverageReport, coverage
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
assert tuple(KIND_SHEET) == GAP_KINDS
assert len({*KIND_SHEET.values(), SUMMARY_SHEET}) == len(KIND_SHEET) + 1
assert all(len(s) <= 31 and not set(s) & set("[]:*?/\\") for s in KIND_SHEET.values())

COVERAGE_LEAD = ("层级 level", "区域编码 code", "区域名称 name")
FIGURE_COLUMNS = ("应覆盖 units", "已覆盖 covered", "覆盖率 rate")
COUNT_HEADER = ("空白点 gap", "数量 count", "类型 kind")
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
class AuditReport:
    """What the audit workbook shows: the scope's coverage and all its gaps, judged on `as_of`."""

    scope: Scope
    name: str
    as_of: str
    coverage: CoverageReport
    gaps: dict[str, list[Gap]]

    @property
    def heading(self) -> str:
        """`街道 古城街道(420602001000)`."""
        return f"{LEVEL_ZH[self.scope.level]} {self.name}({self.scope.code})"


async def build_audit(graph: Graph, scope: Scope, as_of: str, *, allowed: Scope | None = None) -> AuditReport:
    """Read the report of `scope` on `as_of` (ISO date); `allowed` is the widest scope the caller may read.

    Raises `OutsideScope` when `scope` is not inside `allowed`, `graph.scope.AreaNotFound` when no area
    has its code.
    """
    if allowed is not None and not scope.within(allowed):
        raise OutsideScope(
            f"无权查看该范围 / {scope.code} is outside the area you may read ({allowed.code})"
        )  # the API's FORBIDDEN message
    figures = await coverage(graph, scope, as_of)
    found: dict[str, list[Gap]] = {kind: [] for kind in GAP_KINDS}
    async for gap in all_gaps(graph, scope, as_of):
        found[gap.rule.kind].append(gap)
    return AuditReport(scope, redact(figures.scope.name), as_of, figures, found)  # its title, file name


def sheets(report: AuditReport) -> list[Sheet]:
    """The workbook: the summary, then one sheet per gap kind (in GapKind order)."""
    out = [_summary(report)]
    for kind in GAP_KINDS:
        name = KIND_SHEET[kind]
        out.append(Sheet(name, [_gap_table(name, report.gaps[kind])], page_header=_page_header(report, name)))
    return out


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


def _gap_table(name: str, gaps: list[Gap]) -> Table:
    rows = []
    for number, g in enumerate(gaps, start=1):
        org = g.responsible or {}
        rows.append((
            number, _place(g.street), _place(g.community), _place(g.grid), _place(g.compound),
            _type_zh(g.label), g.code, redact(g.name), g.rule.zh, g.rule.source,
            _type_zh(org.get("label")), org.get("code"), redact(org.get("name")),
        ))  # fmt: skip
    return Table(name, GAP_HEADER, rows, wrapped=GAP_WRAPPED)


def file_stem(report: AuditReport) -> tuple[str, str]:
    """The download's name without suffix: (Chinese, ASCII fallback)."""
    name = re.sub(r'[\\/:*?"<>|\s]+', "_", report.name)
    return f"审计报告-{name}-{report.scope.code}-{report.as_of}", f"audit-{report.scope.code}-{report.as_of}"
