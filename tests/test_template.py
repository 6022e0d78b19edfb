"""The import template people fill (issue 25): every sheet of the model with marked headers, formats, drop-down
lists and an example row the loader skips; the 说明 sheet lists each sheet's prefix, order and required columns.

Expectations come from `core.model` (iterating `SHEETS`) and from the loader's own cell conversion
(`loaders.cells.convert`), never from a copy of the template's texts.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from core.model import NODE_SHEETS, SHEET_BY_LABEL, SHEETS, SHEETS_BY_KEY, Column, Kind, Link, Sheet
from graph.driver import Graph
from graph.migrations import migrate
from loaders.cells import convert
from loaders.load import load_file, validate_file
from loaders.read import EXAMPLE_MARKER, _cell_text
from loaders.workbooks import write_template
from tests.helpers import clear

FIRST_DATA_ROW, LAST_DATA_ROW = 3, 10_000


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("template") / "模板.xlsx"
    write_template(out)
    return out


@pytest.fixture(scope="module")
def book(template: Path) -> Workbook:
    return load_workbook(template)


def _validations(ws: Worksheet) -> dict[str, tuple[list[str], str]]:
    """Column letter → (the drop-down's listed words, the cells it covers)."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        assert dv.type == "list"
        for ref in str(dv.sqref).split():
            out[ref.split(":")[0].rstrip("0123456789")] = (dv.formula1.strip('"').split(","), ref)
    return out


def test_every_sheet_has_the_models_headers_marks_and_drop_downs(book: Workbook) -> None:
    assert book.sheetnames == ["说明", *[s.zh for s in SHEETS]]
    listed = 0
    for sheet in SHEETS:
        ws = book[sheet.zh]
        assert [c.value for c in ws[1]] == [i.zh for i in sheet.items], sheet.key  # the headers the reader maps
        found = _validations(ws)
        for i, item in enumerate(sheet.items, start=1):
            head, letter = ws.cell(row=1, column=i), get_column_letter(i)
            note = head.comment.text if head.comment else ""
            red = head.font.color is not None and head.font.color.rgb.endswith("C00000")
            assert red == item.required, (sheet.key, item.zh)
            assert note.startswith("必填 / required" if item.required else "选填 / optional"), (sheet.key, item.zh)
            if isinstance(item, Link):  # its target sheets by their Chinese names
                names = "或".join(SHEET_BY_LABEL[t].zh for t in item.targets)
                assert f"{item.zh} → {names}" in note, (sheet.key, item.zh)
            choices = _listed_choices(item)
            if choices is None:
                assert letter not in found, (sheet.key, item.zh)
                continue
            words, ref = found[letter]
            assert ref == f"{letter}{FIRST_DATA_ROW}:{letter}{LAST_DATA_ROW}"
            if isinstance(choices, tuple):
                assert tuple(words) == choices, (sheet.key, item.zh)
            else:  # yes/no: words the loader reads as yes and as no, both offered
                assert sorted(convert(item, w, sheet)[0] for w in words) == [False, True], (sheet.key, words)
            listed += 1
    enums_and_bools = sum(1 for s in SHEETS for c in s.columns if c.kind in (Kind.ENUM, Kind.BOOL))
    assert listed == enums_and_bools > 0  # every such column of the model has its list


def _listed_choices(item: Column | Link) -> tuple[str, ...] | bool | None:
    """An enum's choices, True for a yes/no column, None for a column without a drop-down."""
    if isinstance(item, Column) and item.kind is Kind.ENUM:
        return item.choices
    if isinstance(item, Column) and item.kind is Kind.BOOL:
        return True
    return None


TEXT_KINDS = (Kind.CODE, Kind.AREA_CODE, Kind.USCC, Kind.ID_NUMBER, Kind.TEXT)


def test_columns_are_formatted_as_dates_and_text(book: Workbook) -> None:
    """Dates as yyyy-mm-dd; codes, ID numbers, phones (sensitive text), credit and area codes as text ("@")."""
    seen: set[Kind] = set()
    for sheet in SHEETS:
        ws = book[sheet.zh]
        for i, item in enumerate(sheet.items, start=1):
            fmt = ws.column_dimensions[get_column_letter(i)].number_format
            kind = Kind.CODE if isinstance(item, Link) else item.kind
            if kind is Kind.DATE:
                assert fmt == "yyyy-mm-dd", (sheet.key, item.zh)
            elif kind in TEXT_KINDS:
                assert fmt == "@", (sheet.key, item.zh)
            else:
                assert fmt == "General", (sheet.key, item.zh)
            seen.add(kind)
    assert {Kind.DATE, Kind.ID_NUMBER, Kind.USCC, Kind.AREA_CODE, Kind.CODE} <= seen
    member = SHEETS_BY_KEY["PartyMember"]  # its phone and ID number columns, by name: text
    formats = {
        item.name: book[member.zh].column_dimensions[get_column_letter(i)].number_format
        for i, item in enumerate(member.items, start=1)
        if isinstance(item, Column)
    }
    assert formats["phone"] == formats["idNumber"] == "@"


def _example(ws: Worksheet, sheet: Sheet) -> list[str]:
    """Row 2's cells as the reader reads them (`_cell_text`), the example marker taken off the first."""
    cells = [_cell_text(ws.cell(row=2, column=i).value) for i in range(1, len(sheet.items) + 1)]
    assert cells[0].startswith(EXAMPLE_MARKER), sheet.key
    return [cells[0].removeprefix(EXAMPLE_MARKER), *cells[1:]]


def test_each_example_value_is_valid_for_its_column(book: Workbook) -> None:
    """Every example cell passes the loader's own conversion; a link's code is a valid code of its target sheet.
    Only the end column (`ended_by`) is left empty: the example is in force."""
    for sheet in SHEETS:
        ws = book[sheet.zh]
        for i, (item, text) in enumerate(zip(sheet.items, _example(ws, sheet), strict=True), start=1):
            cell = ws.cell(row=2, column=i)
            assert cell.font.italic, (sheet.key, item.zh)
            assert cell.font.color.rgb.endswith("808080"), (sheet.key, item.zh)
            if isinstance(item, Column) and item.name == sheet.ended_by:
                assert text == "", (sheet.key, item.zh)
                continue
            assert text, (sheet.key, item.zh)
            if isinstance(item, Link):
                target = SHEET_BY_LABEL[item.targets[0]]
                item, checked_in = next(c for c in target.columns if c.name == "code"), target
            else:
                checked_in = sheet
            value, reason = convert(item, text, checked_in)
            assert reason is None, (sheet.key, item.zh, text, reason)
            if item.kind is Kind.CODE:
                assert text.startswith(f"{checked_in.prefix}-"), (sheet.key, text)
            if item.kind is Kind.ENUM:
                assert value in item.choices


def _sheet_rows(info: Worksheet) -> dict[str, tuple[Any, ...]]:
    """The 说明 sheet's one row per sheet (Chinese name in A, key in B), by sheet key."""
    return {
        r[1]: r for r in info.iter_rows(values_only=True) if r[1] in SHEETS_BY_KEY and r[0] == SHEETS_BY_KEY[r[1]].zh
    }


def test_instructions_list_prefix_order_and_required_columns(book: Workbook) -> None:
    info = book["说明"]
    text = "\n".join(str(v) for row in info.iter_rows(values_only=True) for v in row if v)
    assert EXAMPLE_MARKER in text
    rows = _sheet_rows(info)
    assert list(rows) == [s.key for s in SHEETS]  # one row a sheet, in model order
    for position, sheet in enumerate(SHEETS):
        _, _, purpose, prefix, code_format, first, required = rows[sheet.key][:7]
        assert purpose == sheet.doc
        if sheet.prefix:
            assert prefix == sheet.prefix
            assert code_format.startswith(f"{sheet.prefix}-<12位区划代码>-<序号>"), sheet.key
        else:
            assert prefix == "—"
        named = {t for link in sheet.all_links for t in link.targets}
        earlier = [s.zh for s in SHEETS[:position] if s.label in named]
        assert first.split("(")[0] == ("、".join(earlier) or "—"), sheet.key
        later = [s.zh for s in SHEETS[position + 1 :] if s.label in named]
        for name in later:
            assert name in first.split("(", 1)[1], (sheet.key, name)
        required, _, one_of = required.partition(";")  # a sheet placed by one of several links names them after
        natural = [f"编码或自然键({'+'.join(p.zh for p in sheet.natural_parts)})"] if sheet.natural_key else []
        assert required.split("、") == [i.zh for i in sheet.items if i.required] + natural, sheet.key
        places = [lk.zh for lk in sheet.places] if len(sheet.places) > 1 else []
        assert (one_of.split("至少填一项")[0].split("、") if one_of else []) == places, sheet.key
    for sheet in SHEETS:  # the column table: each link column with its targets' Chinese names
        for link in sheet.all_links:
            names = "或".join(SHEET_BY_LABEL[t].zh for t in link.targets)
            assert f"{link.zh} → {names}" in text


def test_the_template_is_inert(book: Workbook) -> None:
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert cells
    assert all(c.data_type != "f" for c in cells)


def _filled(template: Path, out: Path) -> Path:
    """The template filled by a user below its example row: row 3 holds the example's values, marker taken off."""
    wb = load_workbook(template)
    for sheet in SHEETS:
        ws = wb[sheet.zh]
        for i in range(1, len(sheet.items) + 1):
            value = ws.cell(row=2, column=i).value
            if i == 1:
                value = value.removeprefix(EXAMPLE_MARKER)
            ws.cell(row=3, column=i, value=value)
    wb.save(out)
    return out


@pytest.fixture
async def empty(graph: Graph) -> Graph:
    await migrate(graph)
    await clear(graph)
    return graph


async def test_a_template_filled_below_its_example_row_loads(template: Path, tmp_path: Path, empty: Graph) -> None:
    """Row 2 (the example, marked) is skipped and row 3 (the same values, unmarked) loads: had the example been
    read, its marked code would be refused, or its code be a duplicate — and nothing would be written."""
    result = await load_file(_filled(template, tmp_path / "filled.xlsx"), empty)
    assert result.plan.problems == []
    assert result.plan.row_count == len(SHEETS)
    counts = await empty.read_rows(
        "MATCH (n) WHERE any(l IN labels(n) WHERE l IN $labels) UNWIND labels(n) AS label "
        "WITH label WHERE label IN $labels RETURN label, count(*) AS n",
        {"labels": [s.label for s in NODE_SHEETS]},
    )
    assert {r["label"]: r["n"] for r in counts} == {s.label: 1 for s in NODE_SHEETS}
    book = load_workbook(template)
    for sheet in SHEETS:
        if sheet.is_node:
            continue
        source, target = _example(book[sheet.zh], sheet)[:2]
        found = await empty.read_rows(
            "MATCH (a {code: $a})-[r]->(b {code: $b}) WHERE type(r) = $rel RETURN count(r) AS n",
            {"a": source, "b": target, "rel": sheet.rel},
        )
        assert found == [{"n": 1}], sheet.key


async def test_csv_files_skip_the_example_row_too(template: Path, tmp_path: Path) -> None:
    """The template's sheets saved as CSV (example row kept, the values again below it) validate clean."""
    book = load_workbook(_filled(template, tmp_path / "filled.xlsx"))
    folder = tmp_path / "csv"
    folder.mkdir()
    for sheet in SHEETS:
        ws = book[sheet.zh]
        with (folder / f"{sheet.key}.csv").open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            for row in ws.iter_rows(max_row=3, max_col=len(sheet.items), values_only=True):
                writer.writerow([_cell_text(v) for v in row])
    assert (folder / "Grid.csv").read_text(encoding="utf-8").splitlines()[1].startswith(EXAMPLE_MARKER)
    plan = await validate_file(folder, None)
    assert plan.problems == []
    assert plan.row_count == len(SHEETS)
