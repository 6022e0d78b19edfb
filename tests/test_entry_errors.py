"""Errors that say how to fix them (issue 25): digits Excel stored as numbers, a column letter in every problem,
and an error workbook a person corrects in place and loads again.

Expected values come from the generated demo rows (`loaders.demo.generate`) and the model; the workbooks are
real files read back with openpyxl, the loads run on the suite's Neo4j.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from core.model import SHEETS, SHEETS_BY_KEY
from core.privacy import HIDDEN
from graph.driver import Graph
from graph.migrations import migrate
from loaders.demo import Dataset, dataset_to_xlsx, generate, headers
from loaders.hints import masked_reason, stored_as_number
from loaders.load import load_file, validate_file
from loaders.read import PROBLEMS_HEADER, SUMMARY_SHEET, col_letter
from loaders.workbooks import FIX_FILL, RETYPE_FILL, write_error_workbook
from tests.helpers import clear

SEED = 11
MEMBERS = SHEETS_BY_KEY["PartyMember"]
ID = next(c for c in MEMBERS.columns if c.name == "idNumber")
PHONE = next(c for c in MEMBERS.columns if c.name == "phone")


@pytest.fixture
async def emptied(graph: Graph) -> Graph:
    """The suite's graph, migrated and emptied."""
    await migrate(graph)
    await clear(graph)
    return graph


def _demo(tmp_path: Path) -> tuple[Dataset, Path]:
    ds = generate("small", SEED)
    path = tmp_path / "city.xlsx"
    dataset_to_xlsx(ds, path)
    return ds, path


def _col(ws: Worksheet, zh: str) -> int:
    """A header's 1-based column in a sheet as written."""
    return [c.value for c in ws[1]].index(zh) + 1


def _digit_members(ds: Dataset) -> list[int]:
    """Indexes of generated members whose ID number is all digits (an X cannot be typed as a number)."""
    return [i for i, m in enumerate(ds.rows["PartyMember"]) if str(m.get("id_number", "")).isdigit()]


async def test_digits_typed_as_numbers_say_how_to_fix(tmp_path: Path) -> None:
    """An ID number that arrived as a number (exact, rounded to Excel's 15 digits, or pasted as 1.1E+17) is
    refused with "format the column as text", its value hidden, its column named by letter and header; a phone
    that survives as a number (11 digits) is accepted."""
    ds, path = _demo(tmp_path)
    members = ds.rows["PartyMember"]
    exact, rounded, pasted = _digit_members(ds)[:3]
    phoned = next(i for i, m in enumerate(members) if m.get("phone") and i not in (exact, rounded, pasted))
    wb = load_workbook(path)
    ws = wb[MEMBERS.zh]
    id_col, phone_col = _col(ws, ID.zh), _col(ws, PHONE.zh)
    ws.cell(exact + 2, id_col).value = int(members[exact]["id_number"])
    ws.cell(rounded + 2, id_col).value = float(members[rounded]["id_number"])
    ws.cell(pasted + 2, id_col).value = f"{float(members[pasted]['id_number']):.5E}"
    ws.cell(phoned + 2, phone_col).value = int(members[phoned]["phone"])
    wb.save(path)
    plan = await validate_file(path, None)
    try:
        problems = plan.problems
    finally:
        plan.close()
    stored = [p for p in problems if p.reason_zh == stored_as_number(ID)[0]]
    assert {p.row for p in stored} == {exact + 2, rounded + 2, pasted + 2}
    assert all(p.sheet == MEMBERS.zh for p in stored)
    letter = col_letter(id_col)
    for p in stored:
        assert p.value == HIDDEN
        assert f"{letter}列 {ID.zh} / column {letter}" in str(p)
        assert "format the column as text" in str(p)
    shown = "\n".join(map(str, problems))
    for i in (exact, rounded, pasted):
        assert members[i]["id_number"][:15] not in shown
    assert not [p for p in problems if p.row == phoned + 2]  # an 11-digit phone is exact as a number
    assert len(problems) == 3


def _value(value: Any) -> Any:
    """A generated value as typed into a cell: dates as YYYY-MM-DD, empty as nothing."""
    if isinstance(value, date):
        return value.isoformat()
    return None if value == "" else value


def _rows_back(ws: Worksheet) -> dict[int, int]:
    """An error sheet's rows: the input row number each holds (from its problems column) → its row in the sheet."""
    last = ws.max_column
    assert ws.cell(1, last).value == PROBLEMS_HEADER
    out = {}
    for n in range(2, ws.max_row + 1):
        text = str(ws.cell(n, last).value)
        out[int(text.split("原第", 1)[1].split("行", 1)[0])] = n
    return out


def _marked(ws: Worksheet, fill: str) -> set[tuple[int, int]]:
    """The (row, column) of every cell filled `fill`, but the header."""
    return {(c.row, c.column) for row in ws.iter_rows(min_row=2) for c in row if c.fill and c.fill.fgColor.rgb == fill}


def _retype(ds: Dataset, ws: Worksheet, cells: set[tuple[int, int]], back: dict[int, int]) -> None:
    """Type the generated value into each of `cells` (the input row behind a sheet row: `back`)."""
    key = next(s.key for s in SHEETS if s.zh == ws.title)
    number_of = {n: number for number, n in back.items()}
    columns = headers(key)
    for n, col in cells:
        ws.cell(n, col).value = _value(ds.rows[key][number_of[n] - 2].get(columns[col - 1][0], ""))


async def test_error_workbook_is_corrected_in_place_and_loads(emptied: Graph, tmp_path: Path) -> None:
    """A workbook with bad cells loads its valid rows (--skip-invalid); the error workbook keeps the input's
    sheets, headers and columns, marks each refused cell (red, with its reason) and each masked personal cell
    (yellow); once the marked cells are retyped with openpyxl it loads, whole, and the graph holds every row."""
    ds, path = _demo(tmp_path)
    members = ds.rows["PartyMember"]
    bad_member = next(i for i in _digit_members(ds) if members[i].get("phone"))
    wb = load_workbook(path)
    ws = wb[MEMBERS.zh]
    ws.cell(bad_member + 2, _col(ws, ID.zh)).value = float(members[bad_member]["id_number"])
    buildings = wb[SHEETS_BY_KEY["Building"].zh]
    buildings.cell(2, _col(buildings, "层数")).value = 0  # below the model's minimum
    grids = wb[SHEETS_BY_KEY["Grid"].zh]
    community = grids.cell(2, _col(grids, "所属社区编码"))
    community.value = str(community.value)[:-3] + "999"  # a community nowhere
    wb.save(path)

    result = await load_file(path, emptied, skip_invalid=True)
    problems = result.plan.problems
    assert problems
    assert all(p.letter for p in problems if p.column)
    out = tmp_path / "city.errors.xlsx"
    assert write_error_workbook(result.plan, out) == result.skipped
    result.plan.close()

    errors = load_workbook(out)
    assert errors.sheetnames[0] == SUMMARY_SHEET
    source = load_workbook(path, read_only=True)
    assert set(errors.sheetnames[1:]) <= set(source.sheetnames)
    assert {MEMBERS.zh, "楼栋", "网格"} <= set(errors.sheetnames)
    text = "\n".join(str(v) for s in errors for row in s.iter_rows(values_only=True) for v in row if v is not None)
    assert members[bad_member]["id_number"][:15] not in text
    assert members[bad_member]["phone"] not in text
    backs = {}
    for name in errors.sheetnames[1:]:
        ws = errors[name]
        header = [c.value for c in next(source[name].iter_rows(max_row=1))]
        assert [c.value for c in ws[1]] == [*header, PROBLEMS_HEADER]
        backs[name] = _rows_back(ws)
    for p in problems:  # each refused cell is marked where the problem says, with its reason
        cell = errors[p.sheet].cell(backs[p.sheet][p.row], _col(errors[p.sheet], p.header))
        assert f"{cell.column_letter}" == p.letter
        assert cell.fill.fgColor.rgb == FIX_FILL.fgColor.rgb
        assert p.reason_zh in cell.comment.text

    for name in errors.sheetnames[1:]:  # correct the refused cells: the masked ones are left
        _retype(ds, errors[name], _marked(errors[name], FIX_FILL.fgColor.rgb), backs[name])
    half = tmp_path / "half.xlsx"
    errors.save(half)
    plan = await validate_file(half, emptied)
    plan.close()
    masked = {(p.sheet, p.row, p.letter) for p in plan.problems}
    assert {p.reason_zh for p in plan.problems} <= {masked_reason(c)[0] for c in MEMBERS.columns if c.sensitive}
    yellow = {
        (name, n, col_letter(col))
        for name in errors.sheetnames[1:]
        for n, col in _marked(errors[name], RETYPE_FILL.fgColor.rgb)
    }
    assert masked
    assert masked == yellow

    for name in errors.sheetnames[1:]:
        _retype(ds, errors[name], _marked(errors[name], RETYPE_FILL.fgColor.rgb), backs[name])
    fixed = tmp_path / "fixed.xlsx"
    errors.save(fixed)
    again = await load_file(fixed, emptied)
    assert again.skipped == 0
    for key in ("PartyMember", "Building", "Grid", "Household"):
        label = SHEETS_BY_KEY[key].label
        rows = await emptied.read_rows("MATCH (n) WHERE $label IN labels(n) RETURN count(n) AS n", {"label": label})
        assert rows[0]["n"] == len(ds.rows[key]), key
    member = members[bad_member]
    got = await emptied.read_rows(
        "MATCH (m:PartyMember {code: $code}) RETURN m.idNumber AS id", {"code": member["code"]}
    )
    assert got[0]["id"] == member["id_number"]
