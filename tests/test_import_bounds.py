"""Imports are bounded (issue 22): an input past the import limits is refused, quickly, before it is read.

The headline case is the 4.9 KB workbook whose last cell is XFD1048576 (it made `grassroots load` use 2.9 GB,
then MemoryError): the real CLI refuses it in seconds with a bilingual message, its memory measured, and
nothing is written. The other limits — file size, unzipped size (a zip bomb), declared and counted rows,
columns, a cell's length, a CSV field's length — each refuse a crafted input with the limit named.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from core.model import SHEET_BY_LABEL
from graph.driver import Graph
from graph.migrations import migrate
from graph.settings import Settings
from loaders.bounds import MIB, ImportLimits
from loaders.demo import PROFILES, dataset_to_xlsx, generate, headers
from loaders.load import load_file, validate_file
from loaders.problems import InvalidInput, Problem
from loaders.read import read_input
from tests.helpers import GRASSROOTS, TEST_PASSWORD, graph_counts

DEFAULTS = ImportLimits.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
SHEET = "社区"  # the Community sheet
HEADER = [zh for _, zh in headers("Community")][:4]  # code, name, central city, street: the dates are optional


def _workbook(out: Path, rows: list[list[str]], dimension: str | None = None, sheet_data: str | None = None) -> Path:
    """A one-sheet workbook (the Community sheet) with `rows`; then, by hand in its XML, its <dimension ref>
    replaced by `dimension` and its <sheetData> by `sheet_data`, when given."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    for row in rows:
        ws.append(row)
    wb.save(out)
    if dimension is None and sheet_data is None:
        return out
    with zipfile.ZipFile(out) as z:
        parts = {info: z.read(info.filename) for info in z.infolist()}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in parts.items():
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                if dimension is not None:
                    text = re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{dimension}"/>', text)
                if sheet_data is not None:
                    text = re.sub(r"<sheetData\s*/>|<sheetData>.*</sheetData>", sheet_data, text, flags=re.S)
                data = text.encode()
            z.writestr(info, data)
    return out


def _far_cell(out: Path, dimension: str = "A1:XFD1048576") -> Path:
    """The 4.9 KB workbook of the issue: a header, then one cell at XFD1048576, the dimension declaring it."""
    header = "".join(f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{h}</t></is></c>' for i, h in enumerate(HEADER))
    data = (
        f'<sheetData><row r="1">{header}</row>'
        '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    )
    return _workbook(out, [], dimension=dimension, sheet_data=data)


def _fatal(problems: list[Problem], *needles: str) -> Problem:
    """The one fatal problem, which names every needle in both languages' text."""
    fatal = [p for p in problems if p.fatal]
    assert len(fatal) == 1, [str(p) for p in problems]
    text = str(fatal[0])
    for needle in needles:
        assert needle in text, text
    assert "超过上限" in fatal[0].reason_zh  # Chinese first, then English
    return fatal[0]


def _run_measured(settings: Settings, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, float, int]:
    """`grassroots …` in a fresh wrapper process: (exit code, stderr, seconds, peak RSS in MiB of the CLI and
    its children) — the wrapper's RUSAGE_CHILDREN holds the CLI's alone."""
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "t0 = time.perf_counter()\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "seconds = time.perf_counter() - t0\n"
        "sys.stderr.write(r.stderr)\n"
        "print(r.returncode, seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    environment = {
        **os.environ,
        "NEO4J_URI": settings.neo4j_uri or "",
        "NEO4J_USER": "neo4j",
        "NEO4J_PASSWORD": TEST_PASSWORD,
        **(env or {}),
    }
    done = subprocess.run(
        [sys.executable, "-c", wrapper, str(GRASSROOTS), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    code, seconds, rss_kib = done.stdout.split()
    return int(code), done.stderr, float(seconds), int(rss_kib) // 1024


# ---------------------------------------------------------------- the CLI, on the real graph


async def test_far_last_cell_is_refused_quickly_in_little_memory(
    graph: Graph, settings: Settings, tmp_path: Path
) -> None:
    await migrate(graph)
    path = _far_cell(tmp_path / "far.xlsx")
    assert path.stat().st_size < 6_000
    before = await graph_counts(graph)
    code, stderr, seconds, rss = _run_measured(settings, "load", str(path))
    assert code != 0
    assert "GRASSROOTS_IMPORT_MAX_COLUMNS" in stderr
    assert "声明 16,384 列" in stderr
    assert "declares 16,384 columns" in stderr
    assert "far.xlsx" in stderr
    assert SHEET in stderr
    assert seconds < 30, seconds  # the CLI's start included; the old reader ran out of memory instead
    assert rss < 400, f"{rss} MiB"  # the CLI itself takes ~100-150 MiB; the old reader took 2.9 GB
    assert await graph_counts(graph) == before  # nothing written


async def test_a_limit_from_the_environment_refuses_a_csv_folder(
    graph: Graph, settings: Settings, tmp_path: Path
) -> None:
    """GRASSROOTS_IMPORT_MAX_FILE_MB reaches the CLI: a 1.5 MiB CSV file past a 1 MiB limit, refused before it
    is opened, --skip-invalid or not."""
    await migrate(graph)
    folder = tmp_path / "big"
    folder.mkdir()
    with (folder / "Community.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in range(40_000):
            w.writerow([f"4206020010{i:05d}", f"社区{i}", "是", "420602001000"])
    assert (folder / "Community.csv").stat().st_size > 1.2 * MIB
    before = await graph_counts(graph)
    env = {"GRASSROOTS_IMPORT_MAX_FILE_MB": "1"}
    code, stderr, _, _ = _run_measured(settings, "load", "--skip-invalid", str(folder), env=env)
    assert code != 0
    assert "GRASSROOTS_IMPORT_MAX_FILE_MB" in stderr
    assert "Community.csv" in stderr
    assert await graph_counts(graph) == before


async def test_a_fatal_problem_refuses_the_load_even_when_skipping_invalid_rows(graph: Graph, tmp_path: Path) -> None:
    """One overlong cell in an otherwise loadable city: nothing is written, --skip-invalid or not."""
    await migrate(graph)
    ds = generate("small", 5)
    ds.rows["Compound"][3]["address"] = "路" * 1_001
    source = tmp_path / "long.xlsx"
    dataset_to_xlsx(ds, source)
    before = await graph_counts(graph)
    with pytest.raises(InvalidInput) as refused:
        await load_file(source, graph, skip_invalid=True, limits=replace(DEFAULTS, cell_chars=1_000))
    problem = _fatal(refused.value.problems, "GRASSROOTS_IMPORT_MAX_CELL_CHARS", "1,001", "long.xlsx")
    assert (problem.sheet, problem.row, problem.column) == ("小区", 5, "C")
    assert await graph_counts(graph) == before


# ---------------------------------------------------------------- each limit, read in this process


def test_far_last_cell_without_a_dimension_is_counted(tmp_path: Path) -> None:
    """Without a declared dimension the streamed count finds the 16,384 columns, before any row is read."""
    path = _far_cell(tmp_path / "undeclared.xlsx", dimension="A1")  # declares one cell
    t0 = time.perf_counter()
    data = read_input(path)
    assert time.perf_counter() - t0 < 10
    assert data.sheets == []
    _fatal(data.problems, "holds 16,384 columns", "含有 16,384 列", "GRASSROOTS_IMPORT_MAX_COLUMNS")


def test_declared_and_counted_rows(tmp_path: Path) -> None:
    limits = replace(DEFAULTS, rows=100)
    rows = [HEADER, *[[f"4206020010{i:02d}", f"社区{i}", "是", "420602001000"] for i in range(5)]]
    declared = _workbook(tmp_path / "declared.xlsx", rows, dimension="A1:D5000")
    _fatal(read_input(declared, limits).problems, "declares 5,000 rows", "声明 5,000 行", "GRASSROOTS_IMPORT_MAX_ROWS")
    many = _workbook(tmp_path / "many.xlsx", [HEADER, *rows[1:] * 40])  # 201 rows, dimension and all
    _fatal(read_input(many, limits).problems, "declares 201 rows", "GRASSROOTS_IMPORT_MAX_ROWS")
    lying = _workbook(tmp_path / "lying.xlsx", [HEADER, *rows[1:] * 40], dimension="A1:D3")  # declares 3 rows
    _fatal(read_input(lying, limits).problems, "holds more than 100 rows", "GRASSROOTS_IMPORT_MAX_ROWS")
    fine = read_input(_workbook(tmp_path / "fine.xlsx", rows), limits)
    assert fine.problems == []
    assert [n for n, _ in fine.sheets[0].rows] == [2, 3, 4, 5, 6]  # streamed, re-readable
    assert len(list(fine.sheets[0].rows)) == 5


def test_zip_bomb_is_refused_before_openpyxl_opens_it(tmp_path: Path) -> None:
    """A workbook with a member that unzips to 64 MiB from ~64 KB, past a 16 MiB limit."""
    path = _workbook(tmp_path / "bomb.xlsx", [HEADER])
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/media/padding.bin", b"\0" * (64 * MIB))
    assert path.stat().st_size < MIB
    limits = replace(DEFAULTS, unzipped_bytes=16 * MIB)
    data = read_input(path, limits)
    assert data.sheets == []
    _fatal(data.problems, "bomb.xlsx", "unzips to 64.0 MiB", "16.0 MiB", "GRASSROOTS_IMPORT_MAX_UNZIPPED_MB")


def test_oversize_file_is_refused_before_it_is_opened(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "big.xlsx", [HEADER])
    limits = replace(DEFAULTS, file_bytes=1_000)
    _fatal(read_input(path, limits).problems, "big.xlsx", "GRASSROOTS_IMPORT_MAX_FILE_MB")


def test_overlong_xlsx_cell(tmp_path: Path) -> None:
    rows = [HEADER, ["420602001001", "社" * 50, "是", "420602001000"]]
    data = read_input(_workbook(tmp_path / "cell.xlsx", rows), replace(DEFAULTS, cell_chars=40))
    assert list(data.sheets[0].rows) == []  # the sheet stops at the cell
    problem = _fatal(data.problems, "a cell of 50 characters", "GRASSROOTS_IMPORT_MAX_CELL_CHARS")
    assert (problem.row, problem.column) == (2, "B")


def _csv_folder(folder: Path, rows: list[list[str]]) -> Path:
    folder.mkdir()
    with (folder / "Community.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *rows])
    return folder


async def test_oversize_csv_field(tmp_path: Path) -> None:
    """A field past the cell limit (and past csv's own default of 131,072): the file is refused, and the csv
    module's field limit is left as it was."""
    before = csv.field_size_limit()
    rows = [["420602001001", "社区", "是", "420602001000"], ["420602001002", "x" * 200_000, "是", "420602001000"]]
    plan = await validate_file(_csv_folder(tmp_path / "f", rows), None)
    try:
        problem = _fatal(plan.problems, "Community.csv", "GRASSROOTS_IMPORT_MAX_CELL_CHARS")
        assert problem.row == 3
    finally:
        plan.close()
    assert csv.field_size_limit() == before


def test_csv_rows_and_columns(tmp_path: Path) -> None:
    limits = replace(DEFAULTS, rows=10, columns=6)
    row = ["420602001001", "社区", "是", "420602001000"]
    data = read_input(_csv_folder(tmp_path / "rows", [row] * 20), limits)
    assert len(list(data.sheets[0].rows)) == 9  # streamed up to the limit, then refused
    _fatal(data.problems, "holds more than 10 rows", "GRASSROOTS_IMPORT_MAX_ROWS")
    data = read_input(_csv_folder(tmp_path / "wide", [row, [*row, *"abcdefg"]]), limits)
    assert len(list(data.sheets[0].rows)) == 1
    _fatal(data.problems, "holds 11 columns", "GRASSROOTS_IMPORT_MAX_COLUMNS")
    data = read_input(_csv_folder(tmp_path / "wide-header", [row]), replace(limits, columns=3))
    _fatal(data.problems, "holds 4 columns", "GRASSROOTS_IMPORT_MAX_COLUMNS")


def test_defaults_allow_the_demo_profiles_with_margin() -> None:
    """The province's biggest file (households: up to 5,000 per community) and the model's widest sheet."""
    p = PROFILES["province"]
    households = p.cities * p.communities * p.households[1]
    assert DEFAULTS.rows >= 1.5 * households
    assert DEFAULTS.columns >= 4 * max(len(s.items) for s in SHEET_BY_LABEL.values())
    assert DEFAULTS.cell_chars == 32_767  # Excel's own limit
    assert DEFAULTS.file_bytes >= 2 * 1.7e9  # a province's household CSV: ~1.7 GB (a city's: 170 MB)


def test_workbook_rows_read_as_before(tmp_path: Path) -> None:
    """Streaming changes nothing a reader sees: a merged range in the data fills its cells, blanks are skipped."""
    rows = [HEADER, ["420602001001", "甲", "是", "420602001000"], [], ["420602001002", "乙", None, None]]
    path = _workbook(tmp_path / "merged.xlsx", rows)
    wb = load_workbook(path)
    wb.active.merge_cells("C2:D4")
    wb.save(path)
    data = read_input(path)
    assert data.problems == []
    assert list(data.sheets[0].rows) == [
        (2, ["420602001001", "甲", "是", "是"]),
        (3, ["", "", "是", "是"]),
        (4, ["420602001002", "乙", "是", "是"]),
    ]
