"""Workbooks we write for people: the blank import template and the error workbook of rejected rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from core.inert import text_cell
from core.model import SHEETS, Column, Kind, Link
from core.privacy import mask, redact
from loaders.demo import headers
from loaders.plan import Plan
from loaders.problems import Problem
from loaders.validate import CASCADE_REASON

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="B22222")
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


def _shown(items: tuple[Column | Link, ...], cells: list[str]) -> list[str]:
    """A rejected row's cells as the error workbook shows them: personal columns masked, free text redacted."""
    out = []
    for item, cell in zip(items, cells, strict=False):
        if cell and isinstance(item, Column) and item.sensitive:
            out.append(mask(item, str(cell)))
        else:
            out.append(redact(cell) if isinstance(cell, str) else cell)
    return out + list(cells[len(items) :])


def _put_inert(ws: Any, row: int, values: list[Any]) -> None:
    """Write a row whose text cells stay text (`core.inert.text_cell`: openpyxl would store "=…" as a formula,
    "#N/A" as an error). The row number is the caller's count: `ws.max_row` walks every cell each time."""
    for col, value in enumerate(values, start=1):
        text_cell(ws.cell(row=row, column=col, value=value))


def write_error_workbook(plan: Plan, out: Path) -> int:
    """Rejected rows, as read, with their reasons (one sheet per input sheet); returns the row count.

    The problems' values and reasons come redacted (`loaders.problems.Problem`); the rows are the input's own
    cells, so that they can be corrected and loaded again — but a personal column's cell is masked and free text
    redacted (`core.privacy`): personal data never leaves in an error workbook (retype it from the source file).
    Every cell is inert: text that looks like a formula is stored as text.
    """
    reasons: dict[tuple[str, int], list[Problem]] = {}
    for p in plan.problems:
        reasons.setdefault((p.sheet, p.row), []).append(p)
    wb = Workbook()
    summary = wb.active
    summary.title = "问题汇总"
    summary.append(["工作表 sheet", "行 row", "列 column", "值 value", "原因 reason", "reason"])
    for n, p in enumerate(plan.problems, start=2):
        _put_inert(summary, n, [p.sheet, p.row or "", p.column, p.value, p.reason_zh, p.reason_en])
    count = 0
    for sheet in SHEETS:
        bad = plan.bad_rows(sheet.key)
        if not bad:
            continue
        ws = wb.create_sheet(bad[0].source_name[:31])
        ws.append(["原行号 row", "原因 reason", *[zh for _, zh in headers(sheet.key)]])  # our own text
        for n, r in enumerate(bad, start=2):
            own = reasons.get((r.source_name, r.number), [])
            text = "; ".join(f"{p.column}: {p.reason_zh} / {p.reason_en}" for p in own) or " / ".join(CASCADE_REASON)
            _put_inert(ws, n, [r.number, text, *_shown(sheet.items, r.cells)])
            count += 1
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return count
