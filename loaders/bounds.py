"""Imports are bounded: what an input may hold before any of it is read, and the problems that refuse it.

The rule the reader (`loaders.read`) relies on: every input is measured before it is read, and read as a
stream, so that neither memory nor time grows with what a file *claims* to hold.

- a file's size, from the file system, before it is opened;
- an .xlsx's members unzipped, summed from the zip's directory, before openpyxl opens it (a zip bomb). The
  directory's sizes are binding: Python's `zipfile` never returns more than a member's declared size;
- a sheet's declared dimension (`<dimension ref>`), and its rows and columns counted by a streamed pass over
  its XML, before its rows are read (a 4.9 KB workbook whose last cell is XFD1048576 declares 17 billion);
- a CSV file's rows, columns and field length as it streams (`csv.field_size_limit`);
- each cell's length.

A problem made here is `fatal`: the whole input is refused, `--skip-invalid` or not, and nothing is written.
The limits come from the settings' "Bounded imports" section (GRASSROOTS_IMPORT_…).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from graph.settings import Settings, get_settings
from loaders.problems import Problem

MIB = 1024 * 1024


@dataclass(frozen=True)
class ImportLimits:
    """The bounds of one import (each a maximum)."""

    file_bytes: int
    unzipped_bytes: int
    rows: int  # rows of a sheet or CSV file, the header included
    columns: int
    cell_chars: int

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> ImportLimits:
        """The limits the settings name (the process's own settings by default)."""
        s = settings or get_settings()
        return cls(
            file_bytes=s.import_max_file_mb * MIB,
            unzipped_bytes=s.import_max_unzipped_mb * MIB,
            rows=s.import_max_rows,
            columns=s.import_max_columns,
            cell_chars=s.import_max_cell_chars,
        )


def refusal(where: str, zh: str, en: str, value: str = "", row: int = 0, column: str = "") -> Problem:
    """A fatal problem: the whole input is refused."""
    return Problem(where, row, column, value, zh, en, fatal=True)


def _mib(n: int) -> str:
    return f"{n / MIB:,.1f} MiB"


def check_file_size(path: Path, limits: ImportLimits) -> Problem | None:
    """The file is no bigger than GRASSROOTS_IMPORT_MAX_FILE_MB (checked before it is opened)."""
    size = path.stat().st_size
    if size <= limits.file_bytes:
        return None
    return refusal(
        path.name,
        f"文件「{path.name}」大小 {_mib(size)},超过上限 {_mib(limits.file_bytes)}(GRASSROOTS_IMPORT_MAX_FILE_MB)",
        f"the file {path.name} holds {_mib(size)}, more than the limit of {_mib(limits.file_bytes)} "
        "(GRASSROOTS_IMPORT_MAX_FILE_MB)",
    )


def check_unzipped(path: Path, limits: ImportLimits) -> Problem | None:
    """An .xlsx's members unzipped sum to no more than GRASSROOTS_IMPORT_MAX_UNZIPPED_MB (None when it is not a
    zip at all: openpyxl says so in its own words)."""
    try:
        with zipfile.ZipFile(path) as z:
            total = sum(info.file_size for info in z.infolist())
    except (zipfile.BadZipFile, OSError):
        return None
    if total <= limits.unzipped_bytes:
        return None
    return refusal(
        path.name,
        f"工作簿「{path.name}」解压后 {_mib(total)},超过上限 {_mib(limits.unzipped_bytes)}"
        "(GRASSROOTS_IMPORT_MAX_UNZIPPED_MB,疑似压缩炸弹)",
        f"the workbook {path.name} unzips to {_mib(total)}, more than the limit of {_mib(limits.unzipped_bytes)} "
        "(GRASSROOTS_IMPORT_MAX_UNZIPPED_MB; a zip bomb?)",
    )


def too_many_rows(file: str, sheet: str, rows: int | None, limits: ImportLimits, *, declared: bool = False) -> Problem:
    """A sheet (or CSV file) with more rows than GRASSROOTS_IMPORT_MAX_ROWS: as its dimension declares, as
    counted, or (`rows` None) found while streaming, where counting stops at the limit."""
    name = "GRASSROOTS_IMPORT_MAX_ROWS"
    if rows is None:
        zh = f"含有超过 {limits.rows:,} 行,超过上限({name})"
        en = f"holds more than {limits.rows:,} rows, the limit ({name})"
    else:
        zh = f"{'声明' if declared else '含有'} {rows:,} 行,超过上限 {limits.rows:,} 行({name})"
        en = f"{'declares' if declared else 'holds'} {rows:,} rows, more than the limit of {limits.rows:,} ({name})"
    return refusal(sheet, f"文件「{file}」工作表「{sheet}」{zh}", f"{file}, sheet {sheet} {en}")


def too_many_columns(
    file: str, sheet: str, columns: int, limits: ImportLimits, *, declared: bool = False, row: int = 0
) -> Problem:
    """A sheet (or a CSV row) with more columns than GRASSROOTS_IMPORT_MAX_COLUMNS."""
    return refusal(
        sheet,
        f"文件「{file}」工作表「{sheet}」{'声明' if declared else '含有'} {columns:,} 列,超过上限 {limits.columns:,} 列"
        "(GRASSROOTS_IMPORT_MAX_COLUMNS)",
        f"{file}, sheet {sheet} {'declares' if declared else 'holds'} {columns:,} columns, more than the limit of "
        f"{limits.columns:,} (GRASSROOTS_IMPORT_MAX_COLUMNS)",
        row=row,
    )


def cell_too_long(file: str, sheet: str, row: int, column: str, chars: int | None, limits: ImportLimits) -> Problem:
    """A cell (or CSV field) longer than GRASSROOTS_IMPORT_MAX_CELL_CHARS (`chars` None: the CSV reader stopped
    at the limit without the field's length)."""
    size_zh = f"{chars:,} 个字符" if chars is not None else "字符数"
    size_en = f"{chars:,} characters" if chars is not None else "its length"
    return refusal(
        sheet,
        f"文件「{file}」工作表「{sheet}」单元格 {size_zh},超过上限 {limits.cell_chars:,}"
        "(GRASSROOTS_IMPORT_MAX_CELL_CHARS)",
        f"{file}, sheet {sheet}: a cell of {size_en}, more than the limit of {limits.cell_chars:,} "
        "(GRASSROOTS_IMPORT_MAX_CELL_CHARS)",
        row=row,
        column=column,
    )
