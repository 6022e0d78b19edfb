"""Writing the audit report's sheets: an .xlsx formatted to print, or a zip of UTF-8 (BOM) CSV files.

The workbook is streamed (openpyxl write-only mode: a city's gap sheets hold hundreds of thousands of
rows): bold header row, column widths fitted to the text (a CJK character counts as two), frozen header,
autofilter, header rows repeated on every printed page, landscape A4 fitted to the page width, the scope
and the page number in the page header and footer.

Both are inert (`core.inert`): every text cell of the workbook is typed as text, never a formula, and a CSV
field starting with `= + - @`, a tab or a carriage return is prefixed with `'` (numbers stay numbers).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

from core.inert import csv_field, csv_row, needs_text_type, text_cell, visible
from reports.audit import Sheet, Table

XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP_MEDIA = "application/zip"

TITLE_FONT = Font(bold=True, size=14)
BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="F2DCDB")
HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
WRAP = Alignment(vertical="top", wrap_text=True)
PERCENT = "0.0%"
MIN_WIDTH, MAX_WIDTH, WRAPPED_WIDTH = 6, 40, 36


def display_width(value: Any) -> int:
    """How many columns text takes: CJK and other wide characters count as two."""
    if value is None:
        return 0
    text = f"{value:.1%}" if isinstance(value, float) else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _header_width(text: str) -> int:
    """A header wraps between its Chinese and its English: its widest part."""
    return max(display_width(part) for part in text.split(" ", 1))


def column_widths(table: Table) -> list[float]:
    """Widths fitted to the header and every value, within bounds; group headers get room over their columns."""
    widths = [_header_width(h) for h in table.header]
    for row in table.rows:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], display_width(value))
    widths = [min(w + 2, WRAPPED_WIDTH if i in table.wrapped else MAX_WIDTH) for i, w in enumerate(widths)]
    for first, last, text in table.groups:
        need = min(display_width(text) + 2, MAX_WIDTH * (last - first + 1))
        short = need - sum(widths[first : last + 1])
        if short > 0:
            for i in range(first, last + 1):
                widths[i] += short / (last - first + 1)
    return [max(MIN_WIDTH, w) for w in widths]


#: Rows an Excel worksheet holds.
EXCEL_ROWS = 1_048_576


class TooManyRows(ValueError):
    """A sheet would not fit in Excel; the message is bilingual."""


def sheet_rows(sheet: Sheet) -> int:
    """How many worksheet rows a sheet takes."""
    rows = len(sheet.title) + (1 if sheet.title else 0)
    rows += sum(len(t.rows) + 1 + (1 if t.groups else 0) for t in sheet.tables) + len(sheet.tables) - 1
    return rows


def check_fits(sheets: list[Sheet]) -> None:
    """Raise `TooManyRows` when a sheet is longer than Excel allows (the CSV zip has no such limit)."""
    for sheet in sheets:
        rows = sheet_rows(sheet)
        if rows > EXCEL_ROWS:
            raise TooManyRows(
                f"工作表“{sheet.name}”需 {rows:,} 行,超过 Excel 上限 {EXCEL_ROWS:,} 行:请缩小范围或导出 CSV / "
                f"sheet {sheet.name} needs {rows:,} rows, more than Excel's {EXCEL_ROWS:,}: "
                "narrow the scope or ask for CSV"
            )


def write_xlsx(sheets: list[Sheet], out: IO[bytes]) -> None:
    """The workbook, streamed to `out` (`TooManyRows` before anything is written when it cannot fit)."""
    check_fits(sheets)
    wb = Workbook(write_only=True)
    for sheet in sheets:
        _write_sheet(wb.create_sheet(sheet.name), sheet)
    wb.save(out)


def _write_sheet(ws: WriteOnlyWorksheet, sheet: Sheet) -> None:
    main = sheet.tables[0]
    # Column widths and the frozen pane come before the rows in the file: lay the sheet out first.
    widths: dict[int, float] = {}
    for table in sheet.tables:
        for i, w in enumerate(column_widths(table)):
            widths[i] = max(widths.get(i, 0), w)
    for i, w in widths.items():
        ws.column_dimensions[get_column_letter(i + 1)].width = round(w, 1)
    top = len(sheet.title) + (1 if sheet.title else 0) + 1  # first row of the main table's header
    header_row = top + (1 if main.groups else 0)
    last_col = get_column_letter(len(main.header))
    ws.freeze_panes = f"{get_column_letter(main.frozen_columns + 1)}{header_row + 1}"
    ws.auto_filter.ref = f"A{header_row}:{last_col}{header_row + len(main.rows)}"
    ws.print_title_rows = f"{top}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = True
    ws.oddHeader.center.text = sheet.page_header.replace("&", "&&")  # & starts a header code (&P, &N)
    ws.oddFooter.center.text = "第 &P 页 / 共 &N 页  page &P of &N"

    def cell(value: Any, font: Font | None = None, **style: Any) -> WriteOnlyCell:
        c = WriteOnlyCell(ws, value=visible(value))
        if font is not None:
            c.font = font
        for name, v in style.items():
            setattr(c, name, v)
        return text_cell(c)

    for i, line in enumerate(sheet.title):
        ws.append([cell(line, TITLE_FONT if i == 0 else None)])
    if sheet.title:
        ws.append([])
    row = top
    for n, table in enumerate(sheet.tables):
        if n:
            ws.append([])
            row += 1
        if table.groups:
            line: list[Any] = [None] * len(table.header)
            for first, last, text in table.groups:
                line[first] = cell(text, BOLD, fill=HEADER_FILL, alignment=HEADER_ALIGN)
                for i in range(first + 1, last + 1):
                    line[i] = cell(None, fill=HEADER_FILL)
                if last > first:
                    ws.merged_cells.add(f"{get_column_letter(first + 1)}{row}:{get_column_letter(last + 1)}{row}")
            ws.append(line)
            row += 1
        ws.append([cell(h, BOLD, fill=HEADER_FILL, alignment=HEADER_ALIGN) for h in table.header])
        row += 1
        for r, values in enumerate(table.rows):
            ws.append(_styled_row(table, r, values, cell))
        row += len(table.rows)


def _styled_row(table: Table, index: int, values: Iterable[Any], cell: Callable[..., WriteOnlyCell]) -> list[Any]:
    bold = index in table.bold_rows
    out: list[Any] = []
    for i, value in enumerate(values):
        if i in table.percent:
            out.append(cell(value, BOLD if bold else None, number_format=PERCENT))
        elif i in table.wrapped:
            out.append(cell(value, BOLD if bold else None, alignment=WRAP))
        elif bold:
            out.append(cell(value, BOLD))
        elif needs_text_type(value):
            out.append(cell(value))  # typed as text: openpyxl would store "=…" as a formula
        else:
            out.append(visible(value))
    return out


def csv_text(table: Table) -> str:
    """One table as CSV text (rates as percentages, like the workbook shows them)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(csv_row(table.flat_header))
    for values in table.rows:
        writer.writerow([_csv_value(v, i in table.percent) for i, v in enumerate(values)])
    return buffer.getvalue()


def _csv_value(value: Any, percent: bool) -> Any:
    """A field as the CSV holds it: a rate as a percentage, text made inert (`core.inert.csv_field`)."""
    if value is None:
        return ""
    return f"{value:.1%}" if percent and not isinstance(value, str) else csv_field(value)


def csv_names(sheets: list[Sheet]) -> list[tuple[str, Table]]:
    """Each table's file name in the zip: `NN-<sheet>.csv` (the summary's two tables get one each)."""
    tables = [t for s in sheets for t in s.tables]
    return [(f"{n:02d}-{t.name}.csv", t) for n, t in enumerate(tables)]


def write_csv_zip(sheets: list[Sheet], out: IO[bytes]) -> None:
    """A zip of one UTF-8 CSV (with BOM, so Excel reads the Chinese) per table; the title as zip comment."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, table in csv_names(sheets):
            z.writestr(name, csv_text(table).encode("utf-8-sig"))
        z.comment = "\n".join(sheets[0].title).encode()


def save(target: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write a file whole or not at all (a temporary file beside it, renamed into place)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
