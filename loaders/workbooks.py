"""Workbooks we write for people: the import template to fill and the error workbook of rejected rows to correct."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from core.inert import needs_text_type, text_cell, visible
from core.model import SHEETS, Column, Kind, Link, Sheet
from core.privacy import mask, redact
from loaders.examples import YES_NO, example_row
from loaders.guide import after_text, code_format, column_format, header_note, required_text
from loaders.plan import Plan
from loaders.problems import Problem
from loaders.read import EXAMPLE_MARKER, EXCEL_MAX_ROWS, PROBLEMS_HEADER, SUMMARY_SHEET, item_key
from loaders.validate import CASCADE_REASON

#: The template's header styles: a required column's header is red (and its comment says so), the rest black;
#: the header texts stay the reader's own (`loaders.read.header_keys`).
HEADER_FILL = PatternFill("solid", fgColor="E7E6E6")
HEADER_FONT = Font(bold=True, color="000000")
REQUIRED_FONT = Font(bold=True, color="C00000")
EXAMPLE_FONT = Font(italic=True, color="808080")
INFO_FILL = PatternFill("solid", fgColor="B22222")
TITLE_FONT = Font(bold=True, size=14)
INFO_FONT = Font(bold=True, color="FFFFFF")
#: Rows of a template sheet: the header, the example, then the data rows the drop-down lists cover.
EXAMPLE_ROW, FIRST_DATA_ROW, LAST_DATA_ROW = 2, 3, 10_000
TEXT_FORMAT, DATE_FORMAT = "@", "yyyy-mm-dd"
#: Kinds whose cells are text, kept as typed (leading zeros, 18 digits); link columns hold codes, text too.
TEXT_KINDS = frozenset({Kind.TEXT, Kind.CODE, Kind.AREA_CODE, Kind.USCC, Kind.ID_NUMBER})
FIX_FILL = PatternFill("solid", fgColor="FFC7CE")  # an error workbook's refused cell
RETYPE_FILL = PatternFill("solid", fgColor="FFEB9C")  # an error workbook's masked cell
RETYPE = "个人信息已遮盖,请从原始资料重新输入 / personal data masked: type it again from your source"


def write_template(out: Path) -> None:
    """The import workbook to fill: the 说明 sheet, then one sheet per model sheet (`SHEETS`, in model order).

    Each sheet has its headers (required ones red, every one with a comment: required or not, format, the sheets a
    link names), an example row (`loaders.examples`, grey italics, skipped by the loader), drop-down lists for
    enum and yes/no columns, and text or date formats on its columns. Every cell is a plain value (inert)."""
    book = TemplateBook()
    for sheet in SHEETS:
        book.sheet(sheet).close()
    book.save(out)


class TemplateBook:
    """The import workbook, streamed (openpyxl write-only mode): the 说明 sheet first, then the model's sheets as the
    caller opens them (`sheet`, in model order), each with any data rows it is given after its example row.

    Write-only sheets are written as they go: a sheet's widths, formats and frozen header are set before its first
    row, its drop-down lists (`EntitySheet.close`) after its last. `notes` are lines under the 说明 sheet's title
    (what an export holds)."""

    def __init__(self, notes: tuple[str, ...] = ()) -> None:
        self.wb = Workbook(write_only=True)
        _instructions(self.wb.create_sheet("说明"), notes)

    def sheet(self, sheet: Sheet) -> EntitySheet:
        """The next model sheet: headers and example row written, ready for data rows."""
        return EntitySheet(self.wb.create_sheet(sheet.zh), sheet)

    def save(self, out: Path | IO[bytes]) -> None:
        """Write the workbook (to a path, its folder made, or an open binary file)."""
        if isinstance(out, Path):
            out.parent.mkdir(parents=True, exist_ok=True)
        self.wb.save(out)

    def discard(self) -> None:
        """Give up a workbook that will not be saved: each sheet's stream closed and its temporary file (rows written
        so far, personal data in an export) deleted now, not when the process exits."""
        for ws in self.wb.worksheets:
            with contextlib.suppress(Exception):
                if not ws.closed:
                    ws.close()
                if ws._writer is not None:  # openpyxl's write-only sheet writes its rows to a temporary file
                    ws._writer.cleanup()


class SheetFull(ValueError):
    """A sheet given more rows than an Excel worksheet holds; the message is bilingual."""


class EntitySheet:
    """One model sheet being written: marked headers with comments, the example row, the columns' formats, then
    data rows (`append`, typed values in `Sheet.items` order: a text column's cell is text, a date a date) and,
    on `close`, the drop-down lists over every data row (rows 3 to 10000 at least)."""

    def __init__(self, ws: Any, sheet: Sheet) -> None:
        self.ws, self.sheet, self.rows = ws, sheet, 0
        self.formats = [_number_format(item) for item in sheet.items]
        for i, number_format in enumerate(self.formats, start=1):
            letter = get_column_letter(i)
            if number_format is not None:
                ws.column_dimensions[letter].number_format = number_format
            ws.column_dimensions[letter].width = 24
        ws.freeze_panes = "A2"
        _print_wide(ws)
        ws.append([_header(ws, sheet, item) for item in sheet.items])
        example = example_row(sheet)
        ws.append(
            [
                _styled(ws, value, number_format, EXAMPLE_FONT)
                for value, number_format in zip(example, self.formats, strict=True)
            ]
        )

    def append(self, values: list[Any]) -> None:
        """A data row below the example; text stays text (`core.inert`), dates are dates. `SheetFull` past the rows
        an Excel sheet holds (the file would not open)."""
        if FIRST_DATA_ROW + self.rows > EXCEL_MAX_ROWS:
            raise SheetFull(
                f"工作表「{self.sheet.zh}」超过 Excel 上限 {EXCEL_MAX_ROWS:,} 行,请缩小范围 / sheet {self.sheet.key} "
                f"holds more rows than Excel's {EXCEL_MAX_ROWS:,}: choose a narrower scope"
            )
        self.ws.append([_data_cell(self.ws, value, fmt) for value, fmt in zip(values, self.formats, strict=True)])
        self.rows += 1

    def close(self) -> int:
        """Add the drop-down lists over the data rows; the count of data rows written."""
        last = max(LAST_DATA_ROW, FIRST_DATA_ROW + self.rows - 1)
        for i, item in enumerate(self.sheet.items, start=1):
            choices = _choices(item)
            if choices:
                letter = get_column_letter(i)
                self.ws.data_validations.append(_drop_down(item, choices, f"{letter}{FIRST_DATA_ROW}:{letter}{last}"))
        return self.rows


def _header(ws: Any, sheet: Sheet, item: Column | Link) -> WriteOnlyCell:
    """A header cell: the reader's own text, red when required, with its note (required or not, format, meaning)."""
    head = _styled(ws, item.zh, None, REQUIRED_FONT if item.required else HEADER_FONT)
    head.fill = HEADER_FILL
    head.alignment = Alignment(wrap_text=True)
    head.comment = Comment(header_note(sheet, item), "grassroots", width=320, height=120)
    return head


def _styled(ws: Any, value: Any, number_format: str | None, font: Font | None = None) -> WriteOnlyCell:
    """A write-only cell with its format and font, text typed as text (`core.inert.text_cell`)."""
    cell = WriteOnlyCell(ws, value=visible(value))
    if number_format is not None:
        cell.number_format = number_format
    if font is not None:
        cell.font = font
    return text_cell(cell)


def _data_cell(ws: Any, value: Any, number_format: str | None) -> Any:
    """A data cell: empty stays empty; a value in a text or date column carries the column's format (a cell's
    own format wins over its column's, and an edited cell must stay text or a date); another value is written
    bare unless it is text openpyxl would type as a formula or an error (`core.inert.needs_text_type`)."""
    if value is None:
        return None
    value = visible(value)
    if number_format is not None or needs_text_type(value):
        return _styled(ws, value, number_format)
    return value


INSTRUCTION_LINES = (
    "每个工作表对应一类实体或关系,每行一条记录;第一行是表头(中文或英文列名均可)。"
    "/ One sheet per entity or relationship, one row per record; row 1 holds the headers (Chinese or English).",
    f"第{EXAMPLE_ROW}行是示例(灰色斜体,首格以「{EXAMPLE_MARKER}」开头):导入时跳过,可保留或删除;"
    f"从第{FIRST_DATA_ROW}行起填写。"
    f"/ Row {EXAMPLE_ROW} is an example (grey italics, its first cell starting with {EXAMPLE_MARKER}): the loader "
    f"skips it; keep or delete it, and fill from row {FIRST_DATA_ROW}.",
    "红色表头为必填列;把鼠标停在表头上可看格式与说明。/ Red headers are required; hover over a header for its format.",
    "选项列与是/否列有下拉列表;日期列为日期格式;编码、身份证号、电话等列为文本格式,保留前导0与18位数字。"
    "/ Choice and yes/no columns have drop-down lists; date columns are dates; codes, ID numbers and phones are text "
    "(leading zeros and 18 digits kept).",
    "每行都有稳定的编码和上级编码;上级可以在本工作簿中,也可以已在数据库中。按下表顺序,先填上级,再填引用它的表。"
    "/ Every row carries its code and its parent's code; the parent may be in this workbook or in the graph. "
    "Fill the sheets in the order below: a sheet after those it names.",
    "自有编码为「前缀-12位区划代码-序号」,各表的前缀与格式见下表;区划用统计用区划代码,单位用统一社会信用代码。"
    "/ Own codes are PREFIX-<12-digit area code>-<local part>, each sheet's prefix below; areas use their area code, "
    "units their credit code.",
    "多个编码用分号分隔。/ Separate several codes with ';'.",
    "导入前先校验全部数据:有任何错误则不写入任何数据,并列出所有问题。"
    "/ All is validated before any write: with any problem nothing is written, and every problem is listed.",
    "也可用同名 CSV 文件(UTF-8)组成的文件夹导入。/ A folder of UTF-8 CSV files named like the sheets loads too.",
    "命令 / command: grassroots load 文件.xlsx [--skip-invalid] [--prune]",
)
SHEET_TABLE = (
    "工作表 / sheet",
    "英文名 / key",
    "用途 / purpose",
    "编码前缀 / prefix",
    "编码格式 / code format",
    "先填 / fill first",
    "必填列 / required columns",
)
COLUMN_TABLE = (
    "工作表 / sheet",
    "列 / column",
    "英文列名 / English header",
    "必填 / required",
    "格式 / format",
    "说明 / notes",
)


#: The 说明 sheet's column widths (its lines overflow to the right; its tables' cells wrap).
INFO_WIDTHS = (26, 24, 40, 14, 44, 40, 40)


def _instructions(info: Any, notes: tuple[str, ...] = ()) -> None:
    """The 说明 sheet: how to fill, one row per sheet (`SHEET_TABLE`), then one row per column (`COLUMN_TABLE`).
    `notes`: lines under the title (an export's scope and day)."""
    for col, width in zip("ABCDEFG", INFO_WIDTHS, strict=True):
        info.column_dimensions[col].width = width
    _print_wide(info)  # its page set-up is written before the rows
    info.append([_styled(info, "基层党建组织网络 导入模板 / Grassroots Graph import template", None, TITLE_FONT)])
    for line in (*notes, "", *INSTRUCTION_LINES, ""):
        info.append([_styled(info, line, None)] if line else [])
    table = _InfoTable(info, info_row=len(notes) + len(INSTRUCTION_LINES) + 4)
    table.put(list(SHEET_TABLE), header=True)
    for sheet in SHEETS:
        table.put(
            [
                sheet.zh,
                sheet.key,
                sheet.doc,
                sheet.prefix or "—",
                code_format(sheet),
                after_text(sheet),
                required_text(sheet),
            ]
        )
    table.put([])
    table.put(list(COLUMN_TABLE), header=True)
    for sheet in SHEETS:
        for item in sheet.items:
            required = "是 / yes" if item.required else ""
            table.put([f"{sheet.zh} {sheet.key}", item.zh, item.en, required, column_format(sheet, item), item.doc])


class _InfoTable:
    """The 说明 sheet's tables, row by row: wrapped top-aligned text, each row as tall as its longest cell needs
    (set before the row is written: a write-only sheet writes a row's height with it)."""

    def __init__(self, info: Any, info_row: int) -> None:
        self.info, self.row = info, info_row

    def put(self, values: list[Any], *, header: bool = False) -> None:
        info = self.info
        info.row_dimensions[self.row].height = _wrapped_height(values)
        cells = []
        for value in values:
            cell = _styled(info, value, None, INFO_FONT if header else None)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if header:
                cell.fill = INFO_FILL
            cells.append(cell)
        info.append(cells)
        self.row += 1


def _wrapped_height(values: list[Any]) -> float:
    """A row's height (points) for its wrapped cells' lines (`INFO_WIDTHS`): neither Excel nor LibreOffice fits it
    on opening. A CJK character is two width units, any other one."""
    lines = 1
    for value, width in zip(values, INFO_WIDTHS, strict=False):
        if isinstance(value, str):
            units = sum(2 if ord(ch) >= 0x2E80 else 1 for ch in value)
            lines = max(lines, -(-units // max(width - 1, 1)))
    return 15.0 * lines


def _print_wide(ws: Any) -> None:
    """Printed (and rendered) landscape, all columns on a page's width."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _number_format(item: Column | Link) -> str | None:
    """Text for codes and text (`TEXT_KINDS`, link columns), a date format for dates, else Excel's own."""
    if isinstance(item, Link) or item.kind in TEXT_KINDS:
        return TEXT_FORMAT
    return DATE_FORMAT if item.kind is Kind.DATE else None


def _choices(item: Column | Link) -> tuple[str, ...]:
    """The drop-down list of a column: an enum's choices, the yes/no words; none for other columns."""
    if isinstance(item, Link):
        return ()
    if item.kind is Kind.ENUM:
        return item.choices
    return YES_NO if item.kind is Kind.BOOL else ()


def _drop_down(item: Column, choices: tuple[str, ...], cells: str) -> DataValidation:
    """An Excel list validation over `cells`: a value off the list is refused with the list in the message."""
    listed = "、".join(choices)
    dv = DataValidation(
        type="list",
        formula1='"' + ",".join(choices) + '"',
        allow_blank=not item.required,
        showErrorMessage=True,
        errorTitle="无效的值 / invalid value",
        error=f"应为以下之一 / one of: {listed}",
        showInputMessage=True,
        promptTitle=item.zh[:32],
        prompt=f"请选择 / choose: {listed}",
    )
    dv.add(cells)
    return dv


def _shown(item: Column | Link | None, cell: str) -> str:
    """A rejected row's cell as the error workbook shows it: a personal column's masked, free text redacted."""
    if cell and isinstance(item, Column) and item.sensitive:
        return mask(item, str(cell))
    return redact(str(cell))


def _put_inert(ws: Any, row: int, values: list[Any]) -> None:
    """Write a row whose text cells stay text (`core.inert.text_cell`: openpyxl would store "=…" as a formula,
    "#N/A" as an error). The row number is the caller's count: `ws.max_row` walks every cell each time."""
    for col, value in enumerate(values, start=1):
        text_cell(ws.cell(row=row, column=col, value=visible(value)))


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
