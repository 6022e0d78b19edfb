"""Reading input: an `.xlsx` workbook (one sheet per entity) or a folder of CSV files (UTF-8, BOM or not).

Reading only maps sheets and headers to the model and yields raw text cells with their row
numbers; judging values is `loaders.validate`'s job. Structural problems (not a workbook, an
unknown or duplicate sheet, a missing or unknown header, an empty sheet) are reported as
`Problem`s like any bad cell, all at once.
"""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from xml.etree import ElementTree

from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries
from openpyxl.utils.exceptions import InvalidFileException

from core.model import SHEETS, Column, Link, Sheet
from loaders.problems import Problem

INSTRUCTIONS = {"说明", "instructions", "readme"}
EXCEL_MAX_ROWS = 1_048_576


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


def read_input(path: Path) -> Input:
    """Read a workbook or a CSV folder; never raises for bad content, returns problems instead."""
    path = Path(path)
    if path.is_dir():
        return _read_folder(path)
    if not path.exists():
        return Input(path, [], [Problem(path.name, 0, "", "", "文件不存在", "the file does not exist")])
    if path.suffix.lower() == ".csv":
        problems: list[Problem] = []
        sheets = _read_csv_files([path], problems)
        return Input(path, sheets, problems)
    return _read_workbook(path)


# ---------------------------------------------------------------- CSV
def _read_folder(folder: Path) -> Input:
    problems: list[Problem] = []
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".csv")
    if not files:
        problems.append(Problem(folder.name, 0, "", "", "文件夹中没有 CSV 文件", "the folder holds no .csv files"))
    return Input(folder, _read_csv_files(files, problems), problems)


def _read_csv_files(files: list[Path], problems: list[Problem]) -> list[RawSheet]:
    seen: dict[str, str] = {}
    out: list[RawSheet] = []
    for file in files:
        sheet = _match_sheet(file.stem, file.name, seen, problems)
        if sheet is None:
            continue
        try:
            with file.open(encoding="utf-8-sig", newline="") as fh:
                header = next(csv.reader(fh), [])
        except UnicodeDecodeError as exc:
            problems.append(_not_utf8(file, exc))
            continue
        raw = _make_sheet(sheet, file.name, header, problems)
        if raw is not None:
            raw.rows = CsvRows(file, problems)
            out.append(raw)
    return out


class CsvRows:
    """A CSV file's data rows, (row number, cells), read from disk each time they are iterated.

    A city's household file has millions of rows: validation streams them instead of holding them.
    A byte that is not UTF-8 ends the file with a problem (reported once).
    """

    def __init__(self, file: Path, problems: list[Problem]) -> None:
        self.file = file
        self._problems = problems
        self._reported = False

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        try:
            with self.file.open(encoding="utf-8-sig", newline="") as fh:
                reader = csv.reader(fh)
                next(reader, None)
                for number, cells in enumerate(reader, start=2):
                    if "".join(cells).strip():  # not a blank row
                        yield number, cells
        except UnicodeDecodeError as exc:
            if not self._reported:
                self._reported = True
                self._problems.append(_not_utf8(self.file, exc))


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
def _read_workbook(path: Path) -> Input:
    problems: list[Problem] = []
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
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
    merges, formulas = _scan_sheets(path)
    seen: dict[str, str] = {}
    out: list[RawSheet] = []
    try:
        for ws in wb.worksheets:
            sheet = _match_sheet(ws.title, ws.title, seen, problems)
            if sheet is None:
                continue
            grid = [[_cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
            _fill_merged(grid, merges.get(ws.title, []), ws.title, problems)
            for row, col in formulas.get(ws.title, []):
                if row - 1 < len(grid) and col - 1 < len(grid[row - 1]) and grid[row - 1][col - 1] == "":
                    problems.append(
                        Problem(
                            ws.title,
                            row,
                            col_letter(col),
                            "",
                            "公式没有保存计算结果,请在 Excel 中打开并保存,或粘贴为数值",
                            "a formula with no saved result: open and save the file in Excel, or paste values",
                        )
                    )
            raw = _make_sheet(sheet, ws.title, grid[0] if grid else [], problems)
            if raw is not None:
                raw.rows = [(i + 2, cells) for i, cells in enumerate(grid[1:]) if any(c for c in cells)]
                out.append(raw)
    finally:
        wb.close()
    return Input(path, out, problems)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "是" if value else "否"
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


def _scan_sheets(path: Path) -> tuple[dict[str, list[str]], dict[str, list[tuple[int, int]]]]:
    """Merged ranges and formula cells of every sheet, streamed from the XML in one pass.

    openpyxl's read-only mode shows neither: merged cells read as empty, formulas as their saved values.
    """
    merges: dict[str, list[str]] = {}
    formulas: dict[str, list[tuple[int, int]]] = {}
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    cell_tag, formula_tag, merge_tag, row_tag = main + "c", main + "f", main + "mergeCell", main + "row"
    try:
        parts = _sheet_parts(path)
        with zipfile.ZipFile(path) as z:
            for title, part in parts.items():
                with z.open(part) as fh:
                    for _, elem in ElementTree.iterparse(fh, events=("end",)):
                        tag = elem.tag
                        if tag == cell_tag:
                            if elem.find(formula_tag) is not None:
                                col, row, _, _ = range_boundaries(elem.get("r", "A1"))
                                formulas.setdefault(title, []).append((row, col))
                        elif tag == row_tag:
                            elem.clear()
                        elif tag == merge_tag:
                            merges.setdefault(title, []).append(elem.get("ref", ""))
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError):
        return {}, {}
    return merges, formulas


def _fill_merged(grid: list[list[str]], ranges: list[str], title: str, problems: list[Problem]) -> None:
    """A merged range in the data fills every cell with its top-left value; a merged header is an error."""
    for ref in ranges:
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        if min_row == 1 and (max_col > min_col or max_row > 1):
            problems.append(
                Problem(title, 1, ref, "", "表头不能合并单元格", "header cells must not be merged: unmerge them")
            )
            continue
        value = (
            grid[min_row - 1][min_col - 1] if min_row - 1 < len(grid) and min_col - 1 < len(grid[min_row - 1]) else ""
        )
        for r in range(min_row - 1, min(max_row, len(grid))):
            row = grid[r]
            row.extend([""] * (max_col - len(row)))
            for c in range(min_col - 1, max_col):
                row[c] = value


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
        if not text:
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

    The instructions sheet is skipped quietly. `seen` maps sheet keys to the names already taken.
    """
    sheet = _SHEET_NAMES.get(_norm(name))
    if sheet is None:
        if _norm(name) not in INSTRUCTIONS:
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
