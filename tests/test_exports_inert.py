"""Exports are inert (issue 22): no cell of a file we write becomes a formula in the spreadsheet that opens it.

A small city is loaded with formula-shaped names and need titles (through the loader, from a workbook),
then the audit report is downloaded as .xlsx and as a zip of CSV files from the real app, and the loader's
error workbook is written from a workbook whose bad cells are formula-shaped. Each file is opened with
openpyxl (no cell of data type "f") and read as XML (no <f> element); every CSV field is checked against the
OWASP leads. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from openpyxl import load_workbook

from core.inert import FORMULA_LEADS, csv_field, visible
from graph.driver import Graph
from graph.migrations import migrate
from loaders.demo import Dataset, dataset_to_xlsx, generate, write_demo
from loaders.load import load_file, validate_file
from loaders.workbooks import write_error_workbook
from reports.audit import Sheet, Table
from reports.files import csv_text, write_xlsx
from tests.helpers import SUITE_CITY, clear

#: Formula-shaped text, as an attacker types it into a name.
PAYLOADS = ('=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1")
#: The same as the loader keeps it: cells are trimmed, so a leading tab or CR goes (what remains is still "=1").
LOADED = tuple(p.strip() for p in PAYLOADS)
#: Sheets whose names (or titles) the audit report shows: areas, places, entities, organizations, needs.
NAMED = {
    "Street": "name",
    "Community": "name",
    "Grid": "name",
    "Compound": "name",
    "Building": "name",
    "GridBranch": "name",
    "Unit": "name",
    "Need": "title",
}
SEED = 3


def _with_payloads(ds: Dataset) -> Dataset:
    """Every named row's name replaced by a payload, in turn."""
    for key, column in NAMED.items():
        for i, row in enumerate(ds.rows[key]):
            row[column] = PAYLOADS[i % len(PAYLOADS)]
    return ds


def _formula_elements(data: bytes) -> list[str]:
    """The worksheets of an .xlsx that hold a <f> element, read from the XML itself (not through openpyxl)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [n for n in z.namelist() if n.startswith("xl/worksheets/") and re.search(rb"<(\w+:)?f[ >/]", z.read(n))]


def _xlsx_cells(data: bytes) -> list[Any]:
    """Every cell of every sheet (openpyxl, not read-only: data types as stored)."""
    wb = load_workbook(io.BytesIO(data))
    return [cell for ws in wb.worksheets for row in ws.iter_rows() for cell in row]


def _assert_inert_xlsx(data: bytes, expected: tuple[str, ...]) -> None:
    cells = _xlsx_cells(data)
    formulas = [(c.coordinate, c.value) for c in cells if c.data_type == "f"]
    assert formulas == []
    assert _formula_elements(data) == []
    texts = {c.value for c in cells if c.data_type == "s"}
    for payload in expected:  # XML reads a stored CR back as a line feed (end-of-line handling)
        assert payload.replace("\r", "\n") in texts, f"{payload!r} is not shown as text"


@pytest.fixture(scope="module")
async def city(graph: Graph, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small city, every name formula-shaped, loaded from a workbook into an emptied graph."""
    await migrate(graph)
    await clear(graph)
    source = tmp_path_factory.mktemp("inert") / "city.xlsx"
    dataset_to_xlsx(_with_payloads(generate("small", SEED)), source)
    # The input itself holds the payloads as text (typed text, as Excel stores a typed '=…), not as formulas.
    assert _formula_elements(source.read_bytes()) == []
    result = await load_file(source, graph)
    assert result.skipped == 0
    return source


async def test_audit_workbook_shows_formula_shaped_names_as_text(city: Path, client: AsyncClient) -> None:
    response = await client.get("/reports/audit.xlsx", params={"scope": SUITE_CITY})
    assert response.status_code == 200, response.text
    _assert_inert_xlsx(response.content, LOADED)


async def test_audit_csv_fields_are_neutralised(city: Path, client: AsyncClient) -> None:
    response = await client.get("/reports/audit.zip", params={"scope": SUITE_CITY})
    assert response.status_code == 200, response.text
    fields: list[str] = []
    with zipfile.ZipFile(io.BytesIO(response.content)) as z:
        names = z.namelist()
        assert names
        assert all(n.endswith(".csv") for n in names)  # the zip holds CSV files only
        for name in names:
            for row in csv.reader(io.StringIO(z.read(name).decode("utf-8-sig"), newline="")):
                fields += row
    leading = [f for f in fields if f.startswith(FORMULA_LEADS)]
    assert leading == []
    for payload in LOADED:
        assert "'" + payload in fields, f"{payload!r} is missing from the CSV files"
    counts = [f for f in fields if re.fullmatch(r"\d+", f)]
    assert counts  # numbers are written as they are


def test_numbers_stay_numbers_and_text_stays_text(tmp_path: Path) -> None:
    """The writers themselves, with every payload (tab and CR included) beside numbers, negative ones too."""
    row = (-3, -0.25, *PAYLOADS, "#N/A", "plain")
    table = Table("t", tuple(f"h{i}" for i in range(len(row))), [row], percent=frozenset({1}))
    out = io.BytesIO()
    write_xlsx([Sheet("s", [table], title=["=title"], page_header="p")], out)
    _assert_inert_xlsx(out.getvalue(), (*PAYLOADS, "#N/A", "=title"))
    cells = {c.value: c for c in _xlsx_cells(out.getvalue())}
    assert cells[-3].data_type == "n"
    assert cells[-0.25].data_type == "n"
    assert cells["#N/A"].data_type == "s"  # not the error code openpyxl would make of it

    fields = next(iter(list(csv.reader(io.StringIO(csv_text(table), newline="")))[1:]))
    assert fields[0] == "-3"  # a negative number stays a number
    assert fields[1] == "-25.0%"  # a rate as the workbook shows it
    assert fields[2 : 2 + len(PAYLOADS)] == ["'" + p for p in PAYLOADS]
    assert fields[-1] == "plain"
    assert csv_field(-7) == -7
    assert csv_field("a=b") == "a=b"  # only a leading character matters


async def test_error_workbook_keeps_bad_cells_as_text(tmp_path: Path) -> None:
    """Rejected rows whose bad cells are formula-shaped: the summary's values and the rows' cells are text."""
    ds = _with_payloads(generate("small", SEED))
    ds.rows["Compound"][0]["central_city"] = '=HYPERLINK("http://x","y")'  # a yes/no column
    ds.rows["Building"][0]["floors"] = "@SUM(A1)"  # a whole number
    ds.rows["Unit"][0]["kind"] = "+1+1"  # one of a list
    ds.rows["Grid"][0]["community_code"] = "-2+3"  # a reference to nothing
    source = tmp_path / "bad.xlsx"
    dataset_to_xlsx(ds, source)
    plan = await validate_file(source, None)
    try:
        shown = {p.value for p in plan.problems}
        assert {'=HYPERLINK("http://x","y")', "@SUM(A1)", "+1+1", "-2+3"} <= shown
        out = tmp_path / "bad.errors.xlsx"
        assert write_error_workbook(plan, out) > 0
    finally:
        plan.close()
    _assert_inert_xlsx(out.read_bytes(), (*LOADED, "@SUM(A1)"))
    summary = load_workbook(out)["问题汇总"]
    values = {row[3] for row in summary.iter_rows(min_row=2, values_only=True)}
    assert '=HYPERLINK("http://x","y")' in values


#: Text pasted from another system with a control character no xlsx cell can hold (BEL).
CONTROL = "第一\x07网格"


async def test_control_characters_are_refused_and_shown_replaced_in_the_error_workbook(tmp_path: Path) -> None:
    """The loader refuses text with a control character (saying which cell and why), and the error workbook
    that sends the row back shows the character as U+FFFD instead of failing to be written."""
    folder = tmp_path / "csv"
    write_demo("small", SEED, folder)
    grids = folder / "Grid.csv"
    lines = grids.read_text(encoding="utf-8").split("\n")
    head, first = lines[0].split(","), lines[1].split(",")
    first[head.index("名称")] = CONTROL
    lines[1] = ",".join(first)
    grids.write_text("\n".join(lines), encoding="utf-8")
    plan = await validate_file(folder, None)
    try:
        refused = [p for p in plan.problems if p.header == "名称"]
        assert [(p.sheet, p.row) for p in refused] == [("Grid.csv", 2)]
        assert "控制字符" in refused[0].reason_zh
        assert "control characters" in refused[0].reason_en
        assert refused[0].value == visible(CONTROL) == "第一\ufffd网格"
        out = tmp_path / "bad.errors.xlsx"
        assert write_error_workbook(plan, out) > 0
    finally:
        plan.close()
    shown = {c.value for c in _xlsx_cells(out.read_bytes())}
    assert "第一\ufffd网格" in shown


async def test_a_stored_control_character_does_not_stop_the_audit_workbook(
    city: Path, graph: Graph, client: AsyncClient
) -> None:
    """Data stored before the loader refused control characters: the audit workbook still builds, the character
    shown as U+FFFD."""
    code = (await graph.read_rows("MATCH (g:Grid) RETURN g.code AS code, g.name AS name ORDER BY g.code LIMIT 1"))[0]
    await graph.write_rows("MATCH (g:Grid {code: $code}) SET g.name = $name", {"code": code["code"], "name": CONTROL})
    try:
        response = await client.get("/reports/audit.xlsx", params={"scope": SUITE_CITY})
        assert response.status_code == 200, response.text
        assert "第一\ufffd网格" in {c.value for c in _xlsx_cells(response.content)}
    finally:
        await graph.write_rows(
            "MATCH (g:Grid {code: $code}) SET g.name = $name", {"code": code["code"], "name": code["name"]}
        )
