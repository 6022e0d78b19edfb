"""Reading input: an `.xlsx` workbook (one sheet per entity) or a folder of CSV files (UTF-8, BOM or not).

Reading only maps sheets and headers to the model and yields raw text cells with their row
numbers (blank rows and example rows, `EXAMPLE_MARKER`, are passed over); judging values is `loaders.cells`' and
`loaders.validate`'s job. A workbook cell Excel stored as a number stays marked as one (`NumberCell`, text all the
same): digits that must be text (an ID number) are judged by how they arrived (`loaders.hints`). The error
workbook's own additions — its summary sheet (`SUMMARY_SHEET`) and its problems column (`PROBLEMS_HEADER`) — are
skipped quietly, exactly those names, so a corrected error workbook loads again. Structural problems (not a
workbook, an unknown or duplicate sheet, a missing or unknown header, an empty sheet) are reported as `Problem`s
like any bad cell, all at once.

Reading is bounded (`loaders.bounds`): a file is measured before it is opened, a workbook's zip before
openpyxl opens it, a sheet's declared dimension and its counted rows and columns before its rows are read;
then rows stream, a sheet or CSV file re-read from disk each time its rows are iterated — never a whole
grid in memory. Past a limit, a fatal problem refuses the whole input.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from xml.etree import ElementTree

from openpyxl import load_workbook
from openpyxl.utils.cell import column_index_from_string, range_boundaries
from openpyxl.utils.exceptions import InvalidFileException

from core.model import SHEETS, Column, Link, Sheet
from loaders.bounds import (
    ImportLimits,
    cell_too_long,
    check_file_size,
    check_unzipped,
    refusal,
    too_many_columns,
    too_many_rows,
)
from loaders.problems import Problem

INSTRUCTIONS = {"说明", "instructions", "readme"}
#: The error workbook's sheet listing every problem, and the column it adds to each sheet: ignored when read.
SUMMARY_SHEET = "问题汇总"
PROBLEMS_HEADER = "错误原因(导入时忽略)/ problems (ignored on load)"
EXCEL_MAX_ROWS = 1_048_576
#: A data row whose first cell starts with this is an example (the template's row 2): never loaded, in .xlsx and
#: CSV alike, wherever it stands. The template writes it (`loaders.examples`); docs/import.md explains it.
EXAMPLE_MARKER = "【示例】"


def is_example(cells: list[str]) -> bool:
    """True for an example row: its first cell (column A) starts with `EXAMPLE_MARKER`, spaces aside."""
    return bool(cells) and cells[0].strip().startswith(EXAMPLE_MARKER)


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-()()]+", "", str(text)).lower()


_SHEET_NAMES: dict[str, Sheet] = {}
for _s in SHEETS:
    _SHEET_NAMES[_norm(_s.key)] = _s
    _SHEET_NAMES[_norm(_s.zh)] = _s


@dataclass
class RawSheet:
    """One sheet as read: its model sheet, where it came from, and column positions of every header."""

    sheet: Sheet
    source: str  # the sheet name or CSV file name as the user wrote it
    columns: dict[str, int]  # header key (Column.name or Link.en) -> position
    rows: Iterable[tuple[int, list[str]]] = field(default_factory=list)  # (1-based row number, cells)


@dataclass
class Input:
    """Everything read from one workbook or folder."""

    path: Path
    sheets: list[RawSheet]
    problems: list[Problem]


def header_keys(sheet: Sheet) -> dict[str, Column | Link]:
    """Accepted header spellings (Chinese, English, normalised) → the column or link they name."""
    out: dict[str, Column | Link] = {}
    for item in sheet.items:
        out[_norm(item.zh)] = item
        out[_norm(item.en)] = item
    return out


def item_key(item: Column | Link) -> str:
    """The key a column or link is known by in a row dict."""
    return item.name if isinstance(item, Column) else item.en


def required_items(sheet: Sheet) -> list[Column | Link]:
    """Headers a sheet must have."""
    return [item for item in sheet.items if item.required]


def read_input(path: Path, limits: ImportLimits | None = None) -> Input:
    """Read a workbook or a CSV folder; never raises for bad content, returns problems instead.

    `limits`: the import's bounds (default: the settings' GRASSROOTS_IMPORT_…)."""
    path = Path(path)
    limits = limits or ImportLimits.from_settings()
    if path.is_dir():
        return _read_folder(path, limits)
    if not path.exists():
        return Input(path, [], [Problem(path.name, 0, "", "", "文件不存在", "the file does not exist")])
    if path.suffix.lower() == ".csv":
        problems: list[Problem] = []
        sheets = _read_csv_files([path], problems, limits)
        return Input(path, sheets, problems)
    return _read_workbook(path, limits)


# ---------------------------------------------------------------- CSV
def _read_folder(folder: Path, limits: ImportLimits) -> Input:
    problems: list[Problem] = []
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".csv")
    if not files:
        problems.append(Problem(folder.name, 0, "", "", "文件夹中没有 CSV 文件", "the folder holds no .csv files"))
    return Input(folder, _read_csv_files(files, problems, limits), problems)


def _read_csv_files(files: list[Path], problems: list[Problem], limits: ImportLimits) -> list[RawSheet]:
    seen: dict[str, str] = {}
    out: list[RawSheet] = []
    for file in files:
        sheet = _match_sheet(file.stem, file.name, seen, problems)
        if sheet is None:
            continue
        too_big = check_file_size(file, limits)
        if too_big is not None:
            problems.append(too_big)
            continue
        try:
            with file.open(encoding="utf-8-sig", newline="") as fh, _field_limit(limits.cell_chars):
                header = next(csv.reader(fh), [])
        except UnicodeDecodeError as exc:
            problems.append(_not_utf8(file, exc))
            continue
        except csv.Error as exc:
            problems.append(_csv_error(file, 1, exc, limits))
            continue
        if len(header) > limits.columns:
            problems.append(too_many_columns(file.name, file.name, len(header), limits, row=1))
            continue
        raw = _make_sheet(sheet, file.name, header, problems)
        if raw is not None:
            raw.rows = CsvRows(file, problems, limits)
            out.append(raw)
    return out


@contextlib.contextmanager
def _field_limit(chars: int) -> Iterator[None]:
    """`csv.field_size_limit` (process-wide in the csv module) set to `chars` while a file is read."""
    before = csv.field_size_limit(chars)
    try:
        yield
    finally:
        csv.field_size_limit(before)


def _csv_error(file: Path, row: int, exc: csv.Error, limits: ImportLimits) -> Problem:
    """A CSV file the reader gave up on: a field past GRASSROOTS_IMPORT_MAX_CELL_CHARS, or broken quoting."""
    if "field larger than field limit" in str(exc):
        return cell_too_long(file.name, file.name, row, "", None, limits)
    return refusal(file.name, "CSV 文件格式错误,无法读取", f"the CSV file cannot be read: {exc}", row=row)


class CsvRows:
    """A CSV file's data rows, (row number, cells), read from disk each time they are iterated.

    A city's household file has millions of rows: validation streams them instead of holding them.
    A byte that is not UTF-8, a row past the row or column limit, a field past the cell limit each end the
    file with a problem (reported once; past a limit, a fatal one).
    """

    def __init__(self, file: Path, problems: list[Problem], limits: ImportLimits | None = None) -> None:
        self.file = file
        self.limits = limits or ImportLimits.from_settings()
        self._problems = problems
        self._reported = False

    def _report(self, problem: Problem) -> None:
        if not self._reported:
            self._reported = True
            self._problems.append(problem)

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        max_rows, max_columns, name = self.limits.rows, self.limits.columns, self.file.name
        number = 1
        try:
            with self.file.open(encoding="utf-8-sig", newline="") as fh, _field_limit(self.limits.cell_chars):
                reader = csv.reader(fh)
                next(reader, None)
                for number, cells in enumerate(itertools.islice(reader, max_rows - 1), start=2):  # header: row 1
                    if len(cells) > max_columns:
                        self._report(too_many_columns(name, name, len(cells), self.limits, row=number))
                        return
                    if "".join(cells).strip() and not is_example(cells):  # not a blank or an example row
                        yield number, cells
                if next(reader, None) is not None:  # a row past the limit
                    self._report(too_many_rows(name, name, None, self.limits))
        except UnicodeDecodeError as exc:
            self._report(_not_utf8(self.file, exc))
        except csv.Error as exc:
            self._report(_csv_error(self.file, number + 1, exc, self.limits))


def _not_utf8(file: Path, exc: UnicodeDecodeError) -> Problem:
    return Problem(
        file.name,
        0,
        "",
        "",
        "文件不是 UTF-8 编码(请另存为 UTF-8 CSV)",
        f"the file is not UTF-8 (save it as 'CSV UTF-8'): byte {exc.start}",
    )


# ---------------------------------------------------------------- XLSX
def _read_workbook(path: Path, limits: ImportLimits) -> Input:
    too_big = check_file_size(path, limits) or check_unzipped(path, limits)  # before openpyxl opens it
    if too_big is not None:
        return Input(path, [], [too_big])
    problems: list[Problem] = []
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
        parts = _sheet_parts(path)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, ElementTree.ParseError) as exc:
        reason = type(exc).__name__
        return Input(
            path,
            [],
            [
                Problem(
                    path.name,
                    0,
                    "",
                    "",
                    "不是有效的 Excel 工作簿(.xlsx)",
                    f"not a valid Excel workbook (.xlsx): {reason}",
                )
            ],
        )
    seen: dict[str, str] = {}
    out: list[RawSheet] = []
    try:
        for ws in wb.worksheets:
            sheet = _match_sheet(ws.title, ws.title, seen, problems)
            if sheet is None:
                continue
            # The declared dimension first (openpyxl's read-only mode reads it from <dimension ref>) ...
            refused = _past_limits(path.name, ws.title, ws.max_row, ws.max_column, limits, declared=True)
            if refused is None:  # ... then the rows and columns counted in the sheet's XML, streamed
                scan = _scan_sheet(path, parts.get(ws.title, ""), limits)
                refused = _past_limits(path.name, ws.title, scan.rows, scan.columns, limits, declared=False)
            if refused is not None:
                problems.append(refused)
                continue
            for ref in scan.merges:
                min_col, min_row, max_col, max_row = range_boundaries(ref)
                if min_row == 1 and (max_col > min_col or max_row > 1):
                    reason = ("表头不能合并单元格", "header cells must not be merged: unmerge them")
                    problems.append(Problem(ws.title, 1, ref, "", *reason))
            rows = XlsxRows(path, ws.title, scan, problems, limits)
            header = next(iter(list(rows.numbered(header=True))), (1, []))[1]
            raw = _make_sheet(sheet, ws.title, header, problems)
            if raw is not None:
                raw.rows = rows
                out.append(raw)
    finally:
        wb.close()
    return Input(path, out, problems)


def _past_limits(
    file: str, title: str, rows: int | None, columns: int | None, limits: ImportLimits, *, declared: bool
) -> Problem | None:
    """The sheet's rows or columns (declared or counted; None: not declared) past the import limits."""
    if columns is not None and columns > limits.columns:
        return too_many_columns(file, title, columns, limits, declared=declared)
    if rows is not None and rows > limits.rows:  # counting stops past the limit: "more than" it
        return too_many_rows(file, title, rows if declared else None, limits, declared=declared)
    return None


class XlsxRows:
    """A sheet's data rows, (row number, cells), streamed from the workbook each time they are iterated.

    openpyxl's read-only mode shows neither merged ranges (their cells read as empty) nor formulas (they read as
    their saved values): a merged range in the data fills its cells with its top-left value as the rows pass,
    and a formula cell with no saved result (found by `_scan_sheet`) is reported. Rows are read up to the
    counted extent (`SheetScan`), never the declared one; a cell past GRASSROOTS_IMPORT_MAX_CELL_CHARS ends
    the sheet with a fatal problem. Problems are reported once, however often the rows are iterated.
    """

    def __init__(self, path: Path, title: str, scan: SheetScan, problems: list[Problem], limits: ImportLimits) -> None:
        self.path, self.title, self.scan, self.limits = path, title, scan, limits
        self._problems = problems
        self._reported = False

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        return self.numbered(header=False)

    def numbered(self, *, header: bool) -> Iterator[tuple[int, list[str]]]:
        """The header row alone (`header`), or every non-blank data row."""
        if self.scan.rows == 0:
            return
        last = 1 if header else self.scan.rows
        found: list[Problem] = []
        wb = load_workbook(self.path, read_only=True, data_only=True)
        try:
            ws = wb[self.title]
            merges = _Merges(self.scan.merges)
            values = ws.iter_rows(min_row=1, max_row=last, max_col=max(self.scan.columns, 1), values_only=True)
            for number, row in enumerate(values, start=1):
                if row.count(None) == len(row) and not merges.open_at(number):
                    continue  # a blank row (openpyxl yields one for each row the file skips)
                cells = [_cell_text(v) for v in row]
                longest = max(map(len, cells), default=0)
                if longest > self.limits.cell_chars:
                    at = next(i for i, c in enumerate(cells) if len(c) == longest)
                    found.append(
                        cell_too_long(self.path.name, self.title, number, col_letter(at + 1), longest, self.limits)
                    )
                    return
                if number == 1:
                    if header:
                        yield number, cells
                    continue
                merges.fill(number, cells)
                for col in self.scan.formulas.get(number, ()):
                    if col - 1 < len(cells) and cells[col - 1] == "":
                        found.append(_unsaved_formula(self.title, number, col))
                if any(cells) and not is_example(cells):
                    yield number, cells
        finally:
            wb.close()
            if found and not self._reported:
                self._problems.extend(found)
            if not header:
                self._reported = True


def _unsaved_formula(title: str, row: int, col: int) -> Problem:
    return Problem(
        title,
        row,
        col_letter(col),
        "",
        "公式没有保存计算结果,请在 Excel 中打开并保存,或粘贴为数值",
        "a formula with no saved result: open and save the file in Excel, or paste values",
    )


class _Merges:
    """Merged ranges of the data (below the header), filling their cells as the rows stream past in order."""

    def __init__(self, refs: list[str]) -> None:
        self._starting: dict[int, list[tuple[int, int, int]]] = {}  # first row -> (first col, last col, last row)
        for ref in refs:
            min_col, min_row, max_col, max_row = range_boundaries(ref)
            if min_row > 1:
                self._starting.setdefault(min_row, []).append((min_col, max_col, max_row))
        self._open: list[tuple[int, int, int, str]] = []  # (first col, last col, last row, top-left value)

    def open_at(self, number: int) -> bool:
        """True when a range covers (or starts at) this row."""
        return number in self._starting or any(m[2] >= number for m in self._open)

    def fill(self, number: int, cells: list[str]) -> None:
        if not self._starting and not self._open:
            return
        for min_col, max_col, max_row in self._starting.pop(number, ()):
            value = cells[min_col - 1] if min_col - 1 < len(cells) else ""
            self._open.append((min_col, max_col, max_row, value))
        self._open = [m for m in self._open if m[2] >= number]
        for min_col, max_col, _, value in self._open:
            if len(cells) < max_col:
                cells.extend([""] * (max_col - len(cells)))
            for c in range(min_col - 1, max_col):
                cells[c] = value


class NumberCell(str):
    """The text of a cell Excel stored as a number (an int or a float: "110105199001011000", "1.5").

    A `str` like any other cell; its type says how it arrived, which a column of digits needs (`loaders.hints`:
    an ID number typed as a number has lost its last digits). Methods returning a new string (`strip`) return
    a plain `str`: test the cell as read."""

    __slots__ = ()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return NumberCell(int(value))
    if isinstance(value, int | float):
        return NumberCell(value)
    return str(value).strip()


def col_letter(col: int) -> str:
    """Spreadsheet column letters of a 1-based column number (1 → A, 28 → AB)."""
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _sheet_parts(path: Path) -> dict[str, str]:
    """Sheet title → its XML part inside the .xlsx package."""
    ns = {
        "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    }
    with zipfile.ZipFile(path) as z:
        book = ElementTree.fromstring(z.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    out = {}
    for s in book.iterfind("m:sheets/m:sheet", ns):
        target = targets.get(s.get(f"{{{ns['r']}}}id"), "")
        out[s.get("name", "")] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    return out


@dataclass
class SheetScan:
    """What one streamed pass over a sheet's XML counts: its extent, merged ranges, unsaved formulas."""

    rows: int = 0  # the last row's number
    columns: int = 0  # the widest row's last column
    merges: list[str] = field(default_factory=list)
    formulas: dict[int, list[int]] = field(default_factory=dict)  # row -> columns of formulas with no saved value


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_CELL, _FORMULA, _VALUE, _INLINE = _MAIN + "c", _MAIN + "f", _MAIN + "v", _MAIN + "is"
_ROW, _MERGE, _DATA = _MAIN + "row", _MAIN + "mergeCell", _MAIN + "sheetData"


def _column(ref: str | None, position: int) -> int:
    """A cell's column: from its reference ("AB12" → 28), or its position in the row when it has none."""
    return column_index_from_string(ref.rstrip("0123456789")) if ref else position


def _scan_sheet(path: Path, part: str, limits: ImportLimits) -> SheetScan:
    """Count a sheet's rows and columns, and find its merged ranges and unsaved formulas, in one streamed pass.

    Each row is dropped once passed, so memory stays flat whatever the sheet's size; the pass stops as soon as
    the rows or columns go past the limits (the counts then say by how much, at least). A part that cannot be
    parsed gives an empty scan (openpyxl reports the workbook as invalid).
    """
    scan = SheetScan()
    row, cells = 0, 0  # the current row's number, and how many cells of it have passed
    data: ElementTree.Element | None = None
    try:
        with zipfile.ZipFile(path) as z, z.open(part) as fh:
            for event, elem in ElementTree.iterparse(fh, events=("start", "end")):
                tag = elem.tag
                if event == "start":
                    if tag == _ROW:
                        number = elem.get("r")
                        row, cells = (int(number) if number else row + 1), 0
                    elif tag == _DATA:
                        data = elem
                    continue
                if tag == _CELL:
                    cells += 1
                    if elem.find(_FORMULA) is not None and not elem.findtext(_VALUE) and elem.find(_INLINE) is None:
                        scan.formulas.setdefault(row, []).append(_column(elem.get("r"), cells))
                elif tag == _ROW:
                    scan.rows = max(scan.rows, row)
                    if cells:
                        scan.columns = max(scan.columns, _column(elem[-1].get("r"), cells))
                    elem.clear()
                    if data is not None:
                        data.remove(elem)
                    if scan.rows > limits.rows or scan.columns > limits.columns:
                        break
                elif tag == _MERGE:
                    scan.merges.append(elem.get("ref", ""))
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError, ValueError):
        return SheetScan()
    return scan


# ---------------------------------------------------------------- headers
def _make_sheet(sheet: Sheet, source: str, header: list[str], problems: list[Problem]) -> RawSheet | None:
    if not any(str(h).strip() for h in header):
        problems.append(Problem(source, 1, "", "", "工作表为空或缺少表头", "the sheet is empty or has no header row"))
        return None
    accepted = header_keys(sheet)
    columns: dict[str, int] = {}
    ok = True
    for pos, text in enumerate(header):
        text = str(text).strip()
        if not text or text == PROBLEMS_HEADER:
            continue
        item = accepted.get(_norm(text))
        letter = col_letter(pos + 1)
        if item is None:
            problems.append(
                Problem(
                    source,
                    1,
                    letter,
                    text,
                    f"未知的列名;可用列名:{'、'.join(i.zh for i in sheet.items)}",
                    f"unknown column; accepted: {', '.join(i.en for i in sheet.items)}",
                )
            )
            ok = False
            continue
        key = item_key(item)
        if key in columns:
            problems.append(Problem(source, 1, letter, text, "列名重复", "this column appears twice"))
            ok = False
            continue
        columns[key] = pos
    for item in required_items(sheet):
        if item_key(item) not in columns:
            problems.append(
                Problem(source, 1, "", "", f"缺少必填列「{item.zh}」", f"the required column '{item.en}' is missing")
            )
            ok = False
    return RawSheet(sheet, source, columns) if ok else None


def _match_sheet(name: str, shown: str, seen: dict[str, str], problems: list[Problem]) -> Sheet | None:
    """The model sheet a sheet (or CSV file) name means; None, with a problem, if unknown or a duplicate.

    The instructions sheet and the error workbook's summary are skipped quietly. `seen` maps sheet keys to the
    names already taken.
    """
    sheet = _SHEET_NAMES.get(_norm(name))
    if sheet is None:
        if _norm(name) not in INSTRUCTIONS and name != SUMMARY_SHEET:
            problems.append(_unknown_sheet(shown))
        return None
    if sheet.key in seen:
        problems.append(_duplicate_sheet(shown, seen[sheet.key]))
        return None
    seen[sheet.key] = shown
    return sheet


def _unknown_sheet(name: str) -> Problem:
    known = "、".join(s.zh for s in SHEETS)
    return Problem(name, 0, "", name, f"未知的工作表;可用:{known}", "unknown sheet: see the template's sheet names")


def _duplicate_sheet(name: str, first: str) -> Problem:
    return Problem(name, 0, "", name, f"与工作表「{first}」重复", f"the same entity as sheet '{first}': merge them")
