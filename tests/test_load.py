"""Import: all problems at once and nothing written, bad files named, idempotent upserts, moves, pruning.

What only validates runs without Neo4j (`validate_file(path, None)`); what loads runs on the suite's Neo4j.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from core.model import SHEETS
from graph.driver import Graph
from graph.migrations import migrate
from loaders.demo import headers, write_demo
from loaders.load import load_file, validate_file
from loaders.problems import InvalidInput
from loaders.workbooks import write_template
from tests.helpers import FINGERPRINT, clear, graph_counts


@pytest.fixture
async def empty(graph: Graph) -> Graph:
    """The suite's graph, migrated and emptied."""
    await migrate(graph)
    await clear(graph)
    return graph


@pytest.fixture(scope="session")
def small_xlsx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "small.xlsx"
    write_demo("small", 7, out)
    return out


def _write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def _zh(key: str) -> list[str]:
    return [zh for _, zh in headers(key)]


AREA = {
    "市": [_zh("City"), ["420600000000", "襄阳市"]],
    "区": [_zh("District"), ["420602000000", "襄城区", "420600000000"]],
    "街道": [_zh("Street"), ["420602001000", "古城街道", "420602000000"]],
    "社区": [
        _zh("Community"),
        ["420602001001", "檀溪社区", "是", "420602001000"],
        ["420602001002", "昭明社区", "是", "420602001000"],
    ],
}


LINKS = """
MATCH (a)-[r]->(b) WHERE NOT a:_Rollup AND NOT b:_Rollup
RETURN a.code AS a, type(r) AS rel, b.code AS b
"""


def _listed_links(path: Path) -> Counter[tuple[str, str, str]]:
    """Every relationship the workbook lists — (from code, type, to code) — read straight from its sheets."""
    wb = load_workbook(path, read_only=True)
    out: Counter[tuple[str, str, str]] = Counter()
    for sheet in SHEETS:
        rows = wb[sheet.zh].iter_rows(values_only=True)
        head = list(next(rows))
        links = [sheet.source, sheet.target] if sheet.source and sheet.target else list(sheet.links)
        for row in rows:
            cell = {h: ("" if v is None else str(v)) for h, v in zip(head, row, strict=False)}
            if sheet.source and sheet.target:
                out[(cell[sheet.source.zh], sheet.rel, cell[sheet.target.zh])] += 1
                continue
            for link in links:
                for code in filter(None, re.split(r"[;,；，、\s]+", cell.get(link.zh, ""))):
                    pair = (code, cell["编码"]) if link.incoming else (cell["编码"], code)
                    out[(pair[0], link.rel, pair[1])] += 1
    return out


async def test_small_city_loads_and_a_second_load_changes_nothing(empty: Graph, small_xlsx: Path) -> None:
    manifest = json.loads(small_xlsx.with_suffix(".manifest.json").read_text())
    first = await load_file(small_xlsx, empty)
    assert first.skipped == 0
    # a first load names the nodes it wrote by id: every relationship joins exactly the codes the workbook lists
    links = Counter((r["a"], r["rel"], r["b"]) for r in await empty.read_rows(LINKS))
    assert links == _listed_links(small_xlsx)
    counts = await graph_counts(empty)
    assert counts["nodes"] == sum(
        v
        for k, v in manifest["entities"].items()
        if k[0].isupper() and k not in {"Role", "UnitMembership", "UnitReport", "MemberReport", "PropertyService"}
    )
    assert sum(c["created"] for c in first.summary.nodes.values()) == counts["nodes"]
    # every relationship is counted once, under its own link — a central household's household (AT) too,
    # though a first load makes it with the households (`links_naming`), not with the central households
    assert sum(c["created"] for c in first.summary.links.values()) == counts["rels"]
    contacts = await empty.read_rows("MATCH (:CentralHousehold)-[r:CONTACTS]->(:Household) RETURN count(r) AS n")
    assert first.summary.links["Household-CONTACTS->CentralHousehold"]["created"] == contacts[0]["n"] > 100
    fingerprint = await empty.read_rows(FINGERPRINT)

    second = await load_file(small_xlsx, empty)
    assert await graph_counts(empty) == counts
    assert await empty.read_rows(FINGERPRINT) == fingerprint
    assert Counter((r["a"], r["rel"], r["b"]) for r in await empty.read_rows(LINKS)) == links
    assert sum(c["created"] + c["updated"] for c in second.summary.nodes.values()) == 0
    assert sum(c["unchanged"] for c in second.summary.nodes.values()) == counts["nodes"]
    assert all(c["created"] == 0 and c.get("ended", 0) == 0 for c in second.summary.links.values())

    # every node carries the codes of its areas, for scoped reads
    rows = await empty.read_rows(
        "MATCH (h:Household)-[:IN]->(b:Building)-[:IN]->(g:Grid)-[:IN]->(c:Community)-[:IN]->(s:Street) "
        "RETURN count(h) AS n, sum(CASE WHEN h.communityCode = c.code AND h.streetCode = s.code THEN 1 END) AS ok"
    )
    assert rows[0]["n"] == manifest["entities"]["Household"]
    assert rows[0]["ok"] == rows[0]["n"]


#: A party member's ID number in the bad workbook (its check character is wrong): no problem may echo it.
ID_NUMBER = "110105194912310021"


@pytest.fixture(scope="module")
def bad_workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workbook with every kind of row error (`EVERY_KIND_OF_ERROR`), written once for the module."""
    return _write_xlsx(
        tmp_path_factory.mktemp("bad") / "bad.xlsx",
        {
            **AREA,
            "网格": [
                _zh("Grid"),
                ["WG-420602001001-01", "第1网格", "420602001001"],
                ["WG-420602001001-01", "重复网格", "420602001001"],  # duplicate code
                ["WG-420602001002-01", "", "420602001002"],  # missing required name
                ["XQ-420602001002-02", "前缀错", "420602001002"],  # wrong prefix
                ["WG-420602001002-03", "无上级", "420602001009"],  # unknown parent
            ],
            "小区": [
                _zh("Compound"),
                ["XQ-420602001001-01", "汉江花园", "路1号", "是", "420602001001", "WG-420602001009-01"],  # unknown grid
                ["XQ-420602001002-01", "檀溪苑", "路2号", "也许", "420602001002", ""],  # bad boolean
            ],
            "楼栋": [
                _zh("Building"),
                ["LD-420602001001-0001", "1栋", "", "0", "2", "WG-420602001001-01", "XQ-420602001001-01"],  # floors 0
                ["LD-420602001001-0002", "2栋", "", "6", "2", "XQ-420602001001-01", ""],  # parent of wrong type
                [
                    "LD-420602001002-0001",
                    "1栋",
                    "",
                    "6",
                    "2",
                    "WG-420602001001-01",
                    "XQ-420602001002-01",
                ],  # other community
            ],
            "共建单位": [
                _zh("Unit"),
                ["91350100M000100Y44", "某公司", "企事业单位", ""],  # check character
                ["91350100M000100Y43", "某局", "部门", ""],  # not an allowed kind
            ],
            "党员": [
                _zh("PartyMember"),
                [
                    "DY-420602001001-000001",
                    "张三",
                    ID_NUMBER,
                    "正式党员",
                    "否",
                    "2099-01-01",
                    "",
                    "",
                    "",
                    "",
                ],
            ],
            "需求清单": [_zh("Need"), ["XU-420602001001-000001", "助餐", "民生", "2021-02-30", "420602001001", ""]],
        },
    )


#: Every error of the bad workbook: (sheet, row, a fragment of the English reason).
EVERY_KIND_OF_ERROR = [
    pytest.param("网格", 3, "duplicate code: row 2 has the same", id="grid-duplicate-code"),
    pytest.param("网格", 4, "required value 'name' is empty", id="grid-name-missing"),
    pytest.param("网格", 5, "the prefix must be WG", id="grid-wrong-prefix"),
    pytest.param("网格", 6, "unknown Community 420602001009", id="grid-unknown-community"),
    pytest.param("小区", 2, "unknown Grid WG-420602001009-01", id="compound-unknown-grid"),
    pytest.param("小区", 3, "expected 是/否", id="compound-bad-boolean"),
    pytest.param("楼栋", 2, "impossible value: below 1", id="building-no-floors"),
    pytest.param("楼栋", 3, "wrong type: XQ-420602001001-01 is a Compound", id="building-parent-of-wrong-type"),
    pytest.param("楼栋", 4, "in another community", id="building-grid-of-another-community"),
    pytest.param("共建单位", 2, "wrong check character", id="unit-credit-code-check-character"),
    pytest.param("共建单位", 3, "expected one of 机关, 企事业单位, 两新组织", id="unit-kind-not-allowed"),
    pytest.param("党员", 2, "check character is wrong", id="member-id-number-check-character"),
    pytest.param("党员", 2, "cannot be in the future", id="member-joined-in-the-future"),
    pytest.param("党员", 2, "fill one of 'household_code', 'branch_code', 'community_code'", id="member-in-no-area"),
    pytest.param("需求清单", 2, "no such date", id="need-no-such-date"),
]


@pytest.mark.parametrize(("sheet", "row", "fragment"), EVERY_KIND_OF_ERROR)
async def test_every_kind_of_error_is_reported(bad_workbook: Path, sheet: str, row: int, fragment: str) -> None:
    problems = (await validate_file(bad_workbook, None)).problems
    text = "\n".join(str(p) for p in problems)
    assert any(p.sheet == sheet and p.row == row and fragment in p.reason_en for p in problems), (
        f"missing: {sheet} row {row}: {fragment}\n{text}"
    )


async def test_every_problem_has_a_chinese_reason_and_never_echoes_the_id_number(bad_workbook: Path) -> None:
    problems = (await validate_file(bad_workbook, None)).problems
    assert len(problems) >= len(EVERY_KIND_OF_ERROR)
    assert all(p.reason_zh for p in problems)
    assert ID_NUMBER not in "\n".join(str(p) for p in problems)


async def test_a_workbook_with_errors_is_refused_and_nothing_is_written(empty: Graph, bad_workbook: Path) -> None:
    before = await graph_counts(empty)
    with pytest.raises(InvalidInput) as err:
        await load_file(bad_workbook, empty)
    # the load reports what validation without a graph reports (the tests above): the graph holds none of the
    # codes the workbook names but does not hold
    assert err.value.problems == (await validate_file(bad_workbook, None)).problems
    assert await graph_counts(empty) == before


#: Files that are no import workbook, by the way they fail: how to make one, a fragment of its problem's reason.
BAD_FILES: dict[str, tuple[Callable[[Path], object], str]] = {
    "not-a-zip": (lambda p: p.write_bytes(b"PK\x03\x04 this is not a workbook"), "not a valid Excel workbook"),
    "plain-text": (lambda p: p.write_text("hello"), "not a valid Excel workbook"),
    "empty-sheet": (lambda p: _write_xlsx(p, {"网格": []}), "empty or has no header"),
    "unknown-column": (
        lambda p: _write_xlsx(p, {"网格": [["编码", "名字", "所属社区编码"], ["WG-420602001001-01", "x", "1"]]}),
        "unknown column",
    ),
    "required-column-missing": (
        lambda p: _write_xlsx(p, {"网格": [["编码", "名称"], ["WG-420602001001-01", "x"]]}),
        "'community_code' is missing",
    ),
    "one-entity-twice": (
        lambda p: _write_xlsx(p, {"网格": [_zh("Grid")], "Grid": [_zh("Grid")]}),
        "the same entity as sheet",
    ),
    "unknown-sheet": (lambda p: _write_xlsx(p, {"Sheet1": [["a"]]}), "unknown sheet"),
}


@pytest.mark.parametrize(("make", "fragment"), list(BAD_FILES.values()), ids=list(BAD_FILES))
async def test_bad_files_are_named(tmp_path: Path, make: Callable[[Path], object], fragment: str) -> None:
    path = tmp_path / "input.xlsx"
    make(path)
    problems = (await validate_file(path, None)).problems
    assert any(fragment in p.reason_en for p in problems), problems


async def test_a_bad_file_is_refused_and_nothing_is_written(empty: Graph, tmp_path: Path) -> None:
    """Every bad file of `BAD_FILES` in turn, on one graph: cheap, none of them gets as far as a write."""
    for name, (make, _) in BAD_FILES.items():
        path = tmp_path / name / "input.xlsx"
        path.parent.mkdir()
        make(path)
        with pytest.raises(InvalidInput) as err:
            await load_file(path, empty)
        assert err.value.problems == (await validate_file(path, None)).problems, name
        assert (await graph_counts(empty))["nodes"] == 0, name


async def test_an_end_before_its_start_is_refused_naming_the_cell(empty: Graph, tmp_path: Path) -> None:
    path = _write_xlsx(
        tmp_path / "dates.xlsx",
        {
            **AREA,
            "网格": [
                _zh("Grid"),
                ["WG-420602001001-01", "第1网格", "420602001001", "2024-03-01", "2024-02-29"],
                ["WG-420602001001-02", "第2网格", "420602001001", "2024-03-01", "2024-03-01"],  # one day: fine
            ],
        },
    )
    with pytest.raises(InvalidInput) as err:
        await load_file(path, empty)
    [problem] = err.value.problems
    assert (problem.sheet, problem.row, problem.value) == ("网格", 2, "2024-02-29")
    assert "终止日期" in problem.column
    assert "终止日期早于起始日期" in problem.reason_zh
    assert "the end date lies before since" in problem.reason_en
    assert (await graph_counts(empty))["nodes"] == 0


async def test_formulas_and_merged_cells(tmp_path: Path) -> None:
    path = _write_xlsx(
        tmp_path / "merged.xlsx",
        {
            **AREA,
            "网格": [
                _zh("Grid"),
                ["WG-420602001001-01", "第1网格", "420602001001"],
                ["WG-420602001001-02", "第2网格", None],
                ["WG-420602001001-03", '=CONCAT("第","3网格")', None],
            ],
        },
    )
    wb = load_workbook(path)
    wb["网格"].merge_cells("C2:C4")  # the community code merged down three rows
    wb.save(path)
    plan = await validate_file(path, None)
    # merged cells fill down; a formula with no saved value (never opened in Excel) is named, not guessed
    assert [str(p) for p in plan.problems if p.row != 4] == []
    assert any(p.row == 4 and "formula" in p.reason_en for p in plan.problems)
    grids = {r.code: [code for _, code in r.resolved["community_code"]] for ch in plan.chunks("Grid") for r in ch}
    assert grids["WG-420602001001-02"] == ["420602001001"]


async def test_csv_folder_with_and_without_bom(empty: Graph, tmp_path: Path) -> None:
    folder = tmp_path / "csv"
    folder.mkdir()
    for i, (name, rows) in enumerate(
        {**AREA, "网格": [_zh("Grid"), ["WG-420602001001-01", "第1网格", "420602001001"]]}.items()
    ):
        with (folder / f"{name}.csv").open("w", encoding="utf-8-sig" if i % 2 else "utf-8", newline="") as fh:
            csv.writer(fh).writerows(rows)
    result = await load_file(folder, empty)
    assert result.summary.nodes["Grid"]["created"] == 1
    assert (await empty.read_rows("MATCH (g:Grid)-[:IN]->(c:Community) RETURN c.code AS c")) == [{"c": "420602001001"}]


def _changed(source: Path, out: Path, sheet: str, edit: Callable[[Worksheet], None]) -> Path:
    """A copy of the workbook `source` at `out`, with `edit` applied to one of its sheets."""
    shutil.copy(source, out)
    wb = load_workbook(out)
    edit(wb[sheet])
    wb.save(out)
    return out


async def test_a_changed_workbook_moves_a_building_to_another_group(
    empty: Graph, small_xlsx: Path, tmp_path: Path
) -> None:
    await load_file(small_xlsx, empty)
    row = (
        await empty.read_rows(
            "MATCH (g1:BuildingGroup)-[:COVERS]->(b:Building), "
            "(g1)-[:UNDER]->(:GridBranch)<-[:UNDER]-(g2:BuildingGroup) WHERE g1 <> g2 "
            "RETURN b.code AS b, g1.code AS g1, g2.code AS g2 ORDER BY b LIMIT 1"
        )
    )[0]

    def move(ws: Worksheet) -> None:
        for cells in ws.iter_rows(min_row=2):
            codes = [c for c in str(cells[3].value or "").split(";") if c]
            if cells[0].value == row["g1"]:
                cells[3].value = ";".join(c for c in codes if c != row["b"])
            elif cells[0].value == row["g2"]:
                cells[3].value = ";".join([*codes, row["b"]])

    changed = _changed(small_xlsx, tmp_path / "changed.xlsx", "楼栋党小组", move)
    before = await graph_counts(empty)
    result = await load_file(changed, empty)
    after = await graph_counts(empty)
    assert after["nodes"] == before["nodes"]
    assert after["rels"] == before["rels"] + 1  # the old group's link is kept, closed: it held until yesterday
    today = date.today()
    assert await _covering(empty, row["b"]) == [
        {"g": row["g1"], "since": None, "until": today - timedelta(days=1)},
        {"g": row["g2"], "since": today, "until": None},
    ]
    assert result.summary.links["BuildingGroup-COVERS->Building"] == {"created": 1, "ended": 1}
    # the same workbook again changes nothing; the first one again, the same day, undoes the move without a trace
    again = await load_file(changed, empty)
    assert await graph_counts(empty) == after
    assert again.summary.links["BuildingGroup-COVERS->Building"] == {"created": 0, "ended": 0}
    back = await load_file(small_xlsx, empty)
    assert await graph_counts(empty) == before
    assert await _covering(empty, row["b"]) == [{"g": row["g1"], "since": None, "until": None}]
    assert back.summary.links["BuildingGroup-COVERS->Building"] == {"created": 0, "ended": 1}


async def _covering(graph: Graph, building: str) -> list[dict[str, object]]:
    rows = await graph.read_rows(
        "MATCH (g:BuildingGroup)-[r:COVERS]->(:Building {code: $b}) "
        "RETURN g.code AS g, r.since AS since, r.until AS until ORDER BY g",
        {"b": building},
    )
    return [{k: v.to_native() if hasattr(v, "to_native") else v for k, v in r.items()} for r in rows]


async def test_a_changed_workbook_moves_a_household_to_another_central_household(
    empty: Graph, small_xlsx: Path, tmp_path: Path
) -> None:
    # an inline link (written with the household's own row, MERGEd on a re-load) is counted under its own key
    await load_file(small_xlsx, empty)
    row = (
        await empty.read_rows(
            "MATCH (c1:CentralHousehold)-[:CONTACTS]->(h:Household), (c2:CentralHousehold)-[:CONTACTS]->(h2:Household) "
            "WHERE c1 <> c2 AND h2.communityCode = h.communityCode "
            "RETURN h.code AS h, c2.code AS c2 ORDER BY h, c2 LIMIT 1"
        )
    )[0]

    def move(ws: Worksheet) -> None:
        column = [c.value for c in ws[1]].index("联系党员中心户编码")
        rows = [cells for cells in ws.iter_rows(min_row=2) if cells[0].value == row["h"]]
        assert len(rows) == 1
        rows[0][column].value = row["c2"]

    changed = _changed(small_xlsx, tmp_path / "changed.xlsx", "住户", move)
    before = await graph_counts(empty)
    result = await load_file(changed, empty)
    assert await graph_counts(empty) == {**before, "rels": before["rels"] + 1}
    contacts = await empty.read_rows(
        "MATCH (c:CentralHousehold)-[r:CONTACTS]->(:Household {code: $h}) WHERE r.until IS NULL "
        "RETURN c.code AS c, toString(r.since) AS since",
        {"h": row["h"]},
    )
    assert contacts == [{"c": row["c2"], "since": date.today().isoformat()}]
    assert result.summary.links["Household-CONTACTS->CentralHousehold"] == {"created": 1, "ended": 1}
    assert result.summary.links["Household-IN->Building"] == {"created": 0, "ended": 0}
    assert result.summary.nodes["Household"]["updated"] == 0  # the link moved; the household's own cells did not


async def test_template_lists_every_sheet_and_loads_empty(tmp_path: Path) -> None:
    out = tmp_path / "template.xlsx"
    write_template(out)
    wb = load_workbook(out)
    assert wb.sheetnames[0] == "说明"
    from core.model import SHEETS

    assert wb.sheetnames[1:] == [s.zh for s in SHEETS]
    assert [c.value for c in wb["网格"][1]] == _zh("Grid")
    plan = await validate_file(out, None)
    assert plan.problems == []
    assert plan.row_count == 0


async def test_skip_invalid_loads_valid_rows_and_writes_rejected_ones(empty: Graph, tmp_path: Path) -> None:
    path = _write_xlsx(
        tmp_path / "mixed.xlsx",
        {
            **AREA,
            "网格": [
                _zh("Grid"),
                ["WG-420602001001-01", "第1网格", "420602001001"],
                ["WG-420602001001-02", "第2网格", "420602009999"],  # unknown community
            ],
            "楼栋": [
                _zh("Building"),
                ["LD-420602001001-0001", "1栋", "", "6", "2", "WG-420602001001-01", ""],
                ["LD-420602001001-0002", "2栋", "", "6", "2", "WG-420602001001-02", ""],  # names a rejected grid
            ],
        },
    )
    result = await load_file(path, empty, skip_invalid=True)
    assert result.skipped == 2
    assert sorted(r["code"] for r in await empty.read_rows("MATCH (n:Grid|Building) RETURN n.code AS code")) == [
        "LD-420602001001-0001",
        "WG-420602001001-01",
    ]
    from loaders.workbooks import write_error_workbook

    out = tmp_path / "errors.xlsx"
    assert write_error_workbook(result.plan, out) == 2
    wb = load_workbook(out)
    grid_rows = [list(r) for r in wb["网格"].iter_rows(min_row=2, values_only=True)]
    assert grid_rows[0][:3] == ["WG-420602001001-02", "第2网格", "420602009999"]  # the input's columns
    assert grid_rows[0][-1].startswith("原第3行 / row 3")  # then the row's number and reasons
    assert "unknown Community 420602009999" in grid_rows[0][-1]
    building_rows = [list(r) for r in wb["楼栋"].iter_rows(min_row=2, values_only=True)]
    assert "a row it names was rejected" in building_rows[0][-1]


async def test_prune_ends_only_inside_the_workbooks_area(empty: Graph, tmp_path: Path) -> None:
    grids = [_zh("Grid")] + [
        [f"WG-42060200100{c}-0{i}", f"第{i}网格", f"42060200100{c}"] for c in (1, 2) for i in (1, 2)
    ]
    await load_file(_write_xlsx(tmp_path / "all.xlsx", {**AREA, "网格": grids}), empty)
    # community 1's own workbook, without its grid 2
    own = {
        "社区": [_zh("Community"), ["420602001001", "檀溪社区", "是", "420602001000"]],
        "网格": [_zh("Grid"), ["WG-420602001001-01", "第1网格", "420602001001"]],
    }
    without = await load_file(_write_xlsx(tmp_path / "own.xlsx", own), empty)
    assert len(await empty.read_rows("MATCH (g:Grid) RETURN g")) == 4  # nothing deleted without --prune
    assert without.summary.nodes["Grid"]["unchanged"] == 1
    result = await load_file(tmp_path / "own.xlsx", empty, prune_missing=True)
    assert result.summary.nodes["Grid"]["ended"] == 1
    ends = await empty.read_rows("MATCH (g:Grid) RETURN g.code AS code, toString(g.until) AS until")
    grids = {r["code"]: r["until"] for r in ends}
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    # ended, not erased: its last day in force was yesterday (asked about earlier days, it is there)
    assert grids == {"WG-420602001001-01": None, "WG-420602001001-02": yesterday, "WG-420602001002-01": None,
                     "WG-420602001002-02": None}  # fmt: skip
    assert len(await empty.read_rows("MATCH (c:Community) RETURN c")) == 2  # the other community is outside the area
    again = await load_file(tmp_path / "own.xlsx", empty, prune_missing=True)
    assert again.summary.nodes["Grid"]["ended"] == 0  # what has ended is not ended again


async def test_a_sheet_of_100000_rows(empty: Graph, tmp_path: Path) -> None:
    from openpyxl import Workbook as WriteBook

    wb = WriteBook(write_only=True)
    for name, rows in {**AREA, "网格": [_zh("Grid"), ["WG-420602001001-01", "第1网格", "420602001001"]]}.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    ws = wb.create_sheet("楼栋")
    ws.append(_zh("Building"))
    for b in range(1, 501):
        ws.append([f"LD-420602001001-{b:04d}", f"{b}栋", "", 20, 5, "WG-420602001001-01", ""])
    ws = wb.create_sheet("住户")
    ws.append(_zh("Household"))
    for i in range(100_000):
        b, k = divmod(i, 200)
        ws.append(
            [
                f"HU-420602001001-{b + 1:04d}-{k:03d}",
                f"{k // 40 + 1}单元",
                f"{k % 40 + 101}",
                3,
                f"LD-420602001001-{b + 1:04d}",
                "",
            ]
        )
    path = tmp_path / "big.xlsx"
    wb.save(path)
    result = await load_file(path, empty)
    assert result.summary.nodes["Household"]["created"] == 100_000
    rows = await empty.read_rows("MATCH (h:Household)-[:IN]->(:Building) RETURN count(h) AS n")
    assert rows == [{"n": 100_000}]
