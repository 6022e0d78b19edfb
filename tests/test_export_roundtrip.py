"""Exporting a scope as the import workbook (issue 25, `grassroots template --with-data`): loading it changes nothing.

The small demo city is loaded, then loaded again changed so that the graph has history: a building moved to another
party group (the old link ended yesterday), a household ended (its members still name it), a role ended and one ending
in the future; one grid's name is formula-shaped. The city's export must be the template's workbook (sheets, headers)
with no formula cell, hold every current row, and load back with every row unchanged and the graph as it was. A
community's export, written by the command line, must be private (0600), hold that community's rows and what they
name, and load alone into an empty graph.
"""

from __future__ import annotations

import csv
import os
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from core.model import LABELS, NODE_SHEETS, SHEETS, Sheet
from graph.driver import Graph
from graph.export import NotAnArea, area_scope
from graph.migrations import migrate
from graph.scope import Scope
from graph.settings import Settings
from loaders import workbooks
from loaders.demo import write_demo
from loaders.export import SEPARATOR, export_scope
from loaders.load import LoadResult, load_file
from loaders.workbooks import write_template
from loaders.written import link_key
from tests.helpers import FINGERPRINT, SUITE_CITY, clear, graph_counts, run_cli

SEED = 3
COMMUNITY = "420602001002"
FORMULA = '=HYPERLINK("http://x","y")'
ENDED = "2025-01-01"


def _edit(folder: Path, key: str, change: Callable[[list[dict[str, str]]], None]) -> None:
    """Rewrite a CSV file of the demo (headers in Chinese) with `change` applied to its rows."""
    path = folder / f"{key}.csv"
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    header = list(rows[0])
    change(rows)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, header)
        writer.writeheader()
        writer.writerows(rows)


def _with_history(rows_of: Path) -> None:
    """A building moved from a group to another of its community; a household ended; a role ended, one ending later."""

    def move(rows: list[dict[str, str]]) -> None:
        first = next(r for r in rows if len(r["覆盖楼栋编码"].split(";")) >= 2)
        community = first["编码"].split("-")[1]
        other = next(r for r in rows if r is not first and r["编码"].split("-")[1] == community)
        *kept, moved = first["覆盖楼栋编码"].split(";")
        first["覆盖楼栋编码"] = ";".join(kept)
        other["覆盖楼栋编码"] = ";".join(c for c in (other["覆盖楼栋编码"], moved) if c)

    def end_household(rows: list[dict[str, str]]) -> None:
        rows[0]["终止日期"] = ENDED

    def end_roles(rows: list[dict[str, str]]) -> None:
        rows[0]["起始日期"], rows[0]["终止日期"] = "2020-01-01", ENDED
        rows[1]["终止日期"] = "2099-12-31"

    _edit(rows_of, "BuildingGroup", move)
    _edit(rows_of, "Household", end_household)
    _edit(rows_of, "Role", end_roles)


@pytest.fixture(scope="module")
async def city(graph: Graph, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The small city with history, its fingerprint and counts, and its city scope's export."""
    tmp = tmp_path_factory.mktemp("export")
    await migrate(graph)
    await clear(graph)
    first, second = tmp / "first", tmp / "second"
    write_demo("small", SEED, first)
    write_demo("small", SEED, second)
    _with_history(second)
    await load_file(first, graph)
    await load_file(second, graph)
    await graph.write_rows(
        "MATCH (g:Grid) WITH g ORDER BY g.code LIMIT 1 SET g.name = $name RETURN count(g) AS n", {"name": FORMULA}
    )
    before = {"fingerprint": (await graph.read_rows(FINGERPRINT))[0]["nodes"], "counts": await graph_counts(graph)}
    out = tmp / "襄阳市.xlsx"
    rows = await export_scope(graph, Scope("city", SUITE_CITY), out)
    template = tmp / "模板.xlsx"
    write_template(template)
    return {"out": out, "rows": rows, "template": template, "before": before}


def _sheet_values(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every sheet's rows (values), read-only."""
    book = load_workbook(path, read_only=True)
    try:
        return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}
    finally:
        book.close()


def _data(sheet: Sheet, values: dict[str, list[tuple[Any, ...]]]) -> list[dict[str, Any]]:
    """A sheet's data rows (below the header and the example) by header."""
    header = values[sheet.zh][0]
    return [dict(zip(header, row, strict=False)) for row in values[sheet.zh][2:]]


def test_the_export_is_the_template_with_rows_and_no_formula(city: dict[str, Any]) -> None:
    exported, template = _sheet_values(city["out"]), _sheet_values(city["template"])
    assert list(exported) == list(template) == ["说明", *[s.zh for s in SHEETS]]
    for sheet in SHEETS:
        assert exported[sheet.zh][:2] == template[sheet.zh][:2], sheet.key  # headers, then the example row
        assert len(exported[sheet.zh]) - 2 == city["rows"][sheet.key], sheet.key
    book = load_workbook(city["out"], read_only=True)
    try:
        cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    finally:
        book.close()
    assert any(c.value == FORMULA and c.data_type == "s" for c in cells)  # the grid's name, as text
    assert all(c.data_type != "f" for c in cells)
    with zipfile.ZipFile(city["out"]) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert sheets
        assert not [n for n in sheets if re.search(rb"<f[ >]", z.read(n))]


def test_text_stays_text_and_dates_are_dates(city: dict[str, Any]) -> None:
    values = _sheet_values(city["out"])
    member = next(s for s in SHEETS if s.key == "PartyMember")
    rows = _data(member, values)
    assert rows
    assert all(isinstance(r["身份证号"], str) and len(r["身份证号"]) == 18 for r in rows if r["身份证号"])
    assert all(isinstance(r["联系电话"], str) for r in rows if r["联系电话"])
    assert {r["是否在职党员"] for r in rows} <= {"是", "否", None}
    assert any(isinstance(r["入党日期"], date) for r in rows)
    branch = next(s for s in SHEETS if s.key == "GridBranch")
    assert any(SEPARATOR in (r["覆盖小区编码"] or "") or r["覆盖小区编码"] for r in _data(branch, values))


async def test_the_export_holds_every_current_row(graph: Graph, city: dict[str, Any]) -> None:
    """Every current node of the city is a row; a row beyond them is an ended node that a current row names."""
    values = _sheet_values(city["out"])
    today = date.today().isoformat()
    for sheet in NODE_SHEETS:
        found = await graph.read_rows(
            f"MATCH (n:{sheet.label}) RETURN n.code AS code, coalesce(n.until >= date($today), true) AS current",
            {"today": today},
        )
        current = {r["code"] for r in found if r["current"]}
        exported = {r[sheet.items[0].zh] for r in _data(sheet, values)}
        assert current <= exported, (sheet.key, sorted(current - exported)[:5])
        assert exported - current <= {r["code"] for r in found}, sheet.key
    ended = {
        r["code"] for r in await graph.read_rows("MATCH (h:Household) WHERE h.until IS NOT NULL RETURN h.code AS code")
    }
    household = next(s for s in SHEETS if s.key == "Household")
    assert ended
    assert ended <= {r["编码"] for r in _data(household, values)}  # its members name it
    roles = await graph.read_rows(
        "MATCH ()-[r:HOLDS]->() "
        "RETURN count(r) AS all, sum(CASE WHEN r.until < date($today) THEN 1 ELSE 0 END) AS ended",
        {"today": today},
    )
    assert roles[0]["ended"] == 1
    assert city["rows"]["Role"] == roles[0]["all"] - 1  # the ended role is history, not a row


def _nothing_changed(result: LoadResult, rows: dict[str, int]) -> None:
    assert result.plan.problems == []
    for sheet in SHEETS:
        counts = result.summary.nodes[sheet.label] if sheet.is_node else result.summary.links[sheet.key]
        assert +counts == ({"unchanged": rows[sheet.key]} if rows[sheet.key] else {}), sheet.key
    for sheet in NODE_SHEETS:
        for link in sheet.links:
            for target in link.targets:
                assert not +result.summary.links[link_key(sheet.label, link, target)], (sheet.key, link.en, target)


async def test_loading_the_export_changes_nothing(graph: Graph, city: dict[str, Any]) -> None:
    result = await load_file(city["out"], graph)
    _nothing_changed(result, city["rows"])
    assert (await graph.read_rows(FINGERPRINT))[0]["nodes"] == city["before"]["fingerprint"]
    assert await graph_counts(graph) == city["before"]["counts"]


def _named(values: dict[str, list[tuple[Any, ...]]]) -> set[str]:
    """Every code a row of the workbook names (link columns, link sheets' ends)."""
    named: set[str] = set()
    for sheet in SHEETS:
        for row in _data(sheet, values):
            for link in sheet.all_links:
                named.update(c for c in str(row[link.zh] or "").split(SEPARATOR) if c)
    return named


async def test_a_community_exports_privately_and_loads_alone(
    graph: Graph, settings: Settings, city: dict[str, Any], tmp_path: Path
) -> None:
    """Its area-bound rows are the community's, and those its rows name (its street, district, city; nodes of other
    communities named); the file is 0600; it validates and loads into an empty graph."""
    out = tmp_path / "社区.xlsx"
    done = run_cli(settings, "template", "--with-data", COMMUNITY, str(out))
    assert done.returncode == 0, done.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    absent = run_cli(settings, "template", "--with-data", "420602009001", str(tmp_path / "无.xlsx"))
    assert absent.returncode == 1
    assert "找不到范围 420602009001 / no area with code 420602009001" in absent.stderr
    assert not [name for name in os.listdir(tmp_path) if "无" in name]  # nothing written, not even a part
    helped = " ".join(run_cli(settings, "template", "--help", env={"COLUMNS": "300"}).stdout.split())
    assert "--with-data" in helped
    assert "含未遮盖的个人信息" in helped
    assert "personal data unmasked" in helped
    values = _sheet_values(out)
    named = _named(values)
    inside: dict[str, set[str]] = defaultdict(set)
    for sheet in NODE_SHEETS:
        codes = [r[sheet.items[0].zh] for r in _data(sheet, values)]
        areas = {
            r["code"]: r["community"]
            for r in await graph.read_rows(
                f"MATCH (n:{sheet.label}) WHERE n.code IN $codes RETURN n.code AS code, n.communityCode AS community",
                {"codes": codes},
            )
        }
        for code in codes:
            assert areas[code] == COMMUNITY or code in named, (sheet.key, code)  # the community's, or named
            if areas[code] == COMMUNITY:
                inside[sheet.label].add(code)
    assert inside["Household"]
    await clear(graph)
    result = await load_file(out, graph)
    assert result.plan.problems == []
    loaded = await graph.read_rows(
        "MATCH (n) WHERE n.communityCode = $community UNWIND labels(n) AS label RETURN label, collect(n.code) AS codes",
        {"community": COMMUNITY},
    )
    assert {r["label"]: set(r["codes"]) for r in loaded if r["label"] in LABELS} == dict(inside)


def test_a_sheet_past_excels_rows_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sheet longer than Excel holds would not open: the export stops (and saves nothing) instead."""
    monkeypatch.setattr(workbooks, "EXCEL_MAX_ROWS", 4)
    grids = next(s for s in SHEETS if s.key == "Grid")
    book = workbooks.TemplateBook()
    rows = book.sheet(grids)
    rows.append([f"WG-{COMMUNITY}-01", "第1网格", COMMUNITY, None, None])
    rows.append([f"WG-{COMMUNITY}-02", "第2网格", COMMUNITY, None, None])
    with pytest.raises(workbooks.SheetFull, match="Excel"):
        rows.append([f"WG-{COMMUNITY}-03", "第3网格", COMMUNITY, None, None])
    book.discard()


def test_a_grid_is_no_export_scope() -> None:
    """An export is of an area (its rows are chosen by area properties): a grid code is refused, in both languages."""
    with pytest.raises(NotAnArea, match=r"不能是网格.*not the grid"):
        area_scope(Scope.parse(f"WG-{COMMUNITY}-01"))
    assert area_scope(Scope.parse(COMMUNITY)) == Scope("community", COMMUNITY)
