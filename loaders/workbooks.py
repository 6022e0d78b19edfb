"""Workbooks we write for people: the blank import template and the error workbook of rejected rows to correct."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter

from core.inert import text_cell
from core.model import SHEETS, Column, Kind, Link
from core.privacy import mask, redact
from loaders.demo import headers
from loaders.plan import Plan
from loaders.problems import Problem
from loaders.read import PROBLEMS_HEADER, SUMMARY_SHEET, item_key
from loaders.validate import CASCADE_REASON

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="B22222")
FIX_FILL = PatternFill("solid", fgColor="FFC7CE")  # an error workbook's refused cell
RETYPE_FILL = PatternFill("solid", fgColor="FFEB9C")  # an error workbook's masked cell
RETYPE = "个人信息已遮盖,请从原始资料重新输入 / personal data masked: type it again from your source"
KIND_HINTS = {
    Kind.TEXT: "文本 / text",
    Kind.INT: "整数 / whole number",
    Kind.FLOAT: "数字 / number",
    Kind.BOOL: "是/否 (yes/no)",
    Kind.DATE: "日期 YYYY-MM-DD / date",
    Kind.AREA_CODE: "12位统计用区划代码 / 12-digit area code",
    Kind.USCC: "18位统一社会信用代码 / unified social credit code",
    Kind.ID_NUMBER: "18位身份证号 / ID number (sensitive)",
    Kind.CODE: "编码 PREFIX-区划代码-序号 / own code",
    Kind.ENUM: "选项 / one of",
}


def write_template(out: Path) -> None:
    """The blank import workbook: an instructions sheet, then one sheet per entity with its headers."""
    wb = Workbook()
    info = wb.active
    info.title = "说明"
    info.append(["基层党建组织网络 导入模板 / Grassroots Graph import template"])
    info["A1"].font = Font(bold=True, size=14)
    info.append([])
    for line in (
        "每个工作表对应一类实体,每行一条记录;第一行是表头(中文或英文列名均可)。"
        "/ One sheet per entity, one row per record; row 1 holds the headers (Chinese or English).",
        "每行都有稳定的编码和上级编码;上级可以在本工作簿中,也可以已在数据库中。"
        "/ Every row carries its code and its parent's code; the parent may be in this workbook or in the graph.",
        "多个编码用分号分隔。/ Separate several codes with ';'.",
        "导入前先校验全部数据:有任何错误则不写入任何数据,并列出所有问题。"
        "/ All is validated before any write: with any problem nothing is written, and every problem is listed.",
        "也可用同名 CSV 文件(UTF-8)组成的文件夹导入。/ A folder of UTF-8 CSV files named like the sheets loads too.",
        "命令 / command: grassroots load 文件.xlsx [--skip-invalid] [--prune]",
    ):
        info.append([line])
    info.append([])
    info.append(
        [
            "工作表 / sheet",
            "列 / column",
            "英文列名 / English header",
            "必填 / required",
            "格式 / format",
            "说明 / notes",
        ]
    )
    for cell in info[info.max_row]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    for sheet in SHEETS:
        for item in sheet.items:
            fmt, required, notes = _describe(item)
            info.append([f"{sheet.zh} {sheet.key}", item.zh, item.en, "是" if required else "", fmt, notes])
    for col, width in zip("ABCDEF", (26, 24, 24, 10, 40, 60), strict=True):
        info.column_dimensions[col].width = width
    for sheet in SHEETS:
        ws = wb.create_sheet(sheet.zh)
        cols = headers(sheet.key)
        ws.append([zh for _, zh in cols])
        for i, _ in enumerate(cols, start=1):
            c = ws.cell(row=1, column=i)
            c.font = HEADER_FONT
            c.fill = HEADER_FILL
            c.alignment = Alignment(wrap_text=True)
            ws.column_dimensions[get_column_letter(i)].width = 22
        ws.freeze_panes = "A2"
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)


def _describe(item: Column | Link) -> tuple[str, bool, str]:
    if isinstance(item, Column):
        fmt = KIND_HINTS[item.kind]
        if item.choices:
            fmt += ": " + "、".join(item.choices)
        if item.minimum is not None or item.maximum is not None:
            low = "" if item.minimum is None else f"{item.minimum:g}"
            high = "" if item.maximum is None else f"{item.maximum:g}"
            fmt += f" [{low}–{high}]"
        return fmt, item.required, item.doc
    targets = " / ".join(item.targets)
    fmt = f"编码 → {targets}" + (" (可多个 / several)" if item.many else "")
    return fmt, item.required, item.doc


def _shown(item: Column | Link | None, cell: str) -> str:
    """A rejected row's cell as the error workbook shows it: a personal column's masked, free text redacted."""
    if cell and isinstance(item, Column) and item.sensitive:
        return mask(item, str(cell))
    return redact(str(cell))


def _put_inert(ws: Any, row: int, values: list[Any]) -> None:
    """Write a row whose text cells stay text (`core.inert.text_cell`: openpyxl would store "=…" as a formula,
    "#N/A" as an error). The row number is the caller's count: `ws.max_row` walks every cell each time."""
    for col, value in enumerate(values, start=1):
        text_cell(ws.cell(row=row, column=col, value=value))


def write_error_workbook(plan: Plan, out: Path) -> int:
    """The rejected rows as a workbook to correct in place and load again; returns the row count.

    Each input sheet with rejected rows comes back under its own name (a CSV file's under its sheet's Chinese
    name) with its headers in their columns, so every problem's column letter still points at its cell; each
    refused cell is filled red with a comment giving the reason, and a last column (`PROBLEMS_HEADER`) gives
    the row's original number and every reason. A first sheet (`SUMMARY_SHEET`) lists every problem, those of
    whole files and sheets too. The loader skips exactly that sheet and that column (`loaders.read`): once the
    marked cells are corrected, the workbook loads as it is — after a `--skip-invalid` load, whose valid rows
    its rows may name.

    Personal data (the rule chosen): the workbook holds no personal value, not even the one the loading person
    typed — it is a file that travels (mailed back to a community for fixing), and nothing marks who may read
    it. A personal column's cell is masked (`core.privacy.mask`) and free text is redacted; such a cell is
    filled yellow with a comment "retype it from your source", and a cell sent back still masked is refused
    (`loaders.hints`). The problems' values and reasons come redacted (`loaders.problems.Problem`). Every cell
    is inert: text that looks like a formula is stored as text.
    """
    reasons: dict[tuple[str, int], list[Problem]] = {}
    for p in plan.problems:
        reasons.setdefault((p.sheet, p.row), []).append(p)
    wb = Workbook()
    summary = wb.active
    summary.title = SUMMARY_SHEET
    summary.append(["工作表 sheet", "行 row", "列 column", "值 value", "原因 reason", "reason"])
    for n, p in enumerate(plan.problems, start=2):
        _put_inert(summary, n, [p.sheet, p.row or "", p.column, p.value, p.reason_zh, p.reason_en])
    count = 0
    for sheet in SHEETS:
        bad = plan.bad_rows(sheet.key)
        if not bad:
            continue
        raw = plan.raws.get(sheet.key)
        positions = raw.columns if raw is not None else {item_key(i): n for n, i in enumerate(sheet.items)}
        by_pos = {pos: item for item in sheet.items if (pos := positions.get(item_key(item))) is not None}
        ws = wb.create_sheet(_title(sheet.zh, bad[0].source_name))
        width = max(by_pos, default=-1) + 1
        _put_inert(ws, 1, [by_pos[i].zh if i in by_pos else None for i in range(width)] + [PROBLEMS_HEADER])
        for cell in ws[1]:
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        for n, r in enumerate(bad, start=2):
            _error_row(
                ws, n, r.number, [*r.cells, *[""] * width][:width], by_pos, reasons.get((r.source_name, r.number), [])
            )
            count += 1
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return count


def _title(zh: str, source: str) -> str:
    """The error sheet's name: the input sheet's own, or the model's Chinese one for a CSV file."""
    return zh if source.lower().endswith(".csv") else source[:31]


def _error_row(
    ws: Any, n: int, number: int, cells: list[str], by_pos: dict[int, Column | Link], problems: list[Problem]
) -> None:
    """Row `n` of an error sheet: the input row `number`'s cells (personal ones masked), its refused cells marked
    red with their reasons, masked ones yellow, and its reasons in the last column."""
    shown = [_shown(by_pos.get(i), c) for i, c in enumerate(cells)]
    why = "; ".join(f"{p.column}: {p.reason_zh} / {p.reason_en}" for p in problems) or " / ".join(CASCADE_REASON)
    _put_inert(ws, n, [*(s or None for s in shown), f"原第{number}行 / row {number}: {why}"])
    for i, (cell, show) in enumerate(zip(cells, shown, strict=True)):
        if cell and show != cell:
            _mark(ws.cell(row=n, column=i + 1), RETYPE_FILL, RETYPE)
    for p in problems:
        if p.letter and column_index_from_string(p.letter) <= len(cells):
            _mark(ws[f"{p.letter}{n}"], FIX_FILL, f"{p.reason_zh} / {p.reason_en}")


def _mark(cell: Any, fill: PatternFill, reason: str) -> None:
    """Fill a cell and add `reason` to its comment (a cell may have several)."""
    cell.fill = fill
    text = f"{cell.comment.text}\n{reason}" if cell.comment is not None else reason
    cell.comment = Comment(text, "grassroots")
