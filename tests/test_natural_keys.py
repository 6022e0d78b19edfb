"""Natural keys instead of invented codes (issue 25): buildings, households, members and organizations whose 编码
is blank are identified by compound + 楼号, building + 单元 + 门牌, ID number, parent + name; the load assigns
them stable codes, and other rows name them by those keys.

The workbooks are hand-made (one community, two grids, one compound) and written with the demo's writer; the loads
run on the suite's Neo4j. What is expected follows from the rules in `loaders.natural`'s doc.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from core.codes import id_check_char
from core.model import SHEETS, SHEETS_BY_KEY
from graph.driver import Graph
from loaders.demo import Dataset, dataset_to_xlsx
from loaders.load import load_file, validate_file
from loaders.plan import Plan, build_plan
from loaders.problems import InvalidInput
from loaders.read import read_input
from loaders.spool import Budget
from tests.helpers import FINGERPRINT
from tests.test_entry_errors import emptied  # noqa: F401  (the fixture: the suite's graph, migrated and emptied)

A = "420602001001"
COMPOUND = f"XQ-{A}-01"
#: The relationships between coded nodes, with their dates: a reload must leave them as they were.
LINKS = """
MATCH (a)-[r]->(b) WHERE a.code IS NOT NULL AND b.code IS NOT NULL AND NOT a:_Load AND NOT b:_Load
WITH a, r, b ORDER BY a.code, type(r), b.code, toString(r.since), toString(r.until)
RETURN collect([a.code, type(r), b.code, toString(r.since), toString(r.until)]) AS links
"""


def _id(n: int) -> str:
    body = f"42060219800101{n:03d}"
    return body + id_check_char(body)


def dataset(member_homes: tuple[str, ...] = ("1/1/101", "1/1/102", "2/1/201"), grid_of_1: str = "01") -> Dataset:
    """One community without codes for its buildings, households, members and organizations: buildings named
    by 楼号 in compound XQ-…-01, households by building/单元/门牌, members by ID number; a member's household
    is named `XQ-…-01/<楼号>/<单元>/<门牌>`, a role's member by ID number and its branch by committee/name."""
    ds = Dataset("natkeys", 0, date.today())
    add = ds.add
    add("City", code="420600000000", name="襄阳市")
    add("District", code="420602000000", name="襄城区", city_code="420600000000")
    add("Street", code="420602001000", name="古城街道", district_code="420602000000")
    add("Community", code=A, name="檀溪社区", central_city="是", street_code="420602001000")
    for grid in ("01", "02"):
        add("Grid", code=f"WG-{A}-{grid}", name=f"{grid}网格", community_code=A)
    add("Compound", code=COMPOUND, name="檀溪小区", community_code=A, grid_codes=f"WG-{A}-01")
    for number, grid in (("1", grid_of_1), ("2", "02")):
        add("Building", name=f"{number}栋", number=number, grid_code=f"WG-{A}-{grid}", compound_code=COMPOUND)
    for home in ("1/1/101", "1/1/102", "2/1/201"):
        number, unit, room = home.split("/")
        add("Household", unit=unit, room=room, size=3, building_code=f"{COMPOUND}/{number}")
    add("CommunityCommittee", name="檀溪社区党委", community_code=A)
    add("GridBranch", name="檀溪第一支部", committee_code=f"{A}/檀溪社区党委")
    for n, home in enumerate(member_homes, start=1):
        add("PartyMember", name=f"党员{n}", id_number=_id(n), status="正式党员", household_code=f"{COMPOUND}/{home}",
            branch_code=f"{A}/檀溪社区党委/檀溪第一支部")  # fmt: skip
    add("Role", member_code=_id(1), organization_code=f"{A}/檀溪社区党委/檀溪第一支部", role="书记")
    return ds


def _write(ds: Dataset, path: Path) -> Path:
    dataset_to_xlsx(ds, path)
    return path


async def _codes(graph: Graph, label: str, key: str) -> dict[str, str]:
    """`label` nodes' codes by a natural property (楼号, 门牌, ID number)."""
    rows = await graph.read_rows(f"MATCH (n:{label}) RETURN n.{key} AS key, n.code AS code")
    return {r["key"]: r["code"] for r in rows}


async def _state(graph: Graph) -> tuple[Any, Any]:
    nodes = (await graph.read_rows(FINGERPRINT))[0]["nodes"]
    links = (await graph.read_rows(LINKS))[0]["links"]
    return nodes, links


def test_the_model_declares_natural_keys_and_optional_codes() -> None:
    expected = {
        "Building": ("compound_code", "number"),
        "Household": ("building_code", "unit", "room"),
        "PartyMember": ("idNumber",),
        "GridBranch": ("committee_code", "name"),
    }
    for key, parts in expected.items():
        sheet = SHEETS_BY_KEY[key]
        assert sheet.natural_key == parts
        assert not sheet.columns[0].required, key
    assert SHEETS_BY_KEY["Grid"].columns[0].required  # a sheet without a natural key still needs its code


async def test_a_workbook_without_codes_loads(emptied: Graph, tmp_path: Path) -> None:  # noqa: F811
    """Codes are assigned in row order within the community (`-N0001`…), never from personal data; members live
    in the households their keys name, the role names the member and branch by key."""
    result = await load_file(_write(dataset(), tmp_path / "nocodes.xlsx"), emptied)
    assert result.skipped == 0
    assert await _codes(emptied, "Building", "number") == {"1": f"LD-{A}-N0001", "2": f"LD-{A}-N0002"}
    assert await _codes(emptied, "Household", "room") == {
        "101": f"HU-{A}-N0001",
        "102": f"HU-{A}-N0002",
        "201": f"HU-{A}-N0003",
    }
    members = await _codes(emptied, "PartyMember", "idNumber")
    assert members == {_id(1): f"DY-{A}-N0001", _id(2): f"DY-{A}-N0002", _id(3): f"DY-{A}-N0003"}
    assert all(re.fullmatch(rf"DY-{A}-N\d{{4}}", code) for code in members.values())  # nothing of the ID number
    homes = await emptied.read_rows(
        "MATCH (m:PartyMember)-[:LIVES_IN]->(h:Household)-[:IN]->(b:Building)-[:IN_COMPOUND]->(c:Compound) "
        "RETURN m.idNumber AS id, b.number + '/' + h.unit + '/' + h.room AS home, c.code AS compound"
    )
    assert {(r["id"], r["home"], r["compound"]) for r in homes} == {
        (_id(1), "1/1/101", COMPOUND),
        (_id(2), "1/1/102", COMPOUND),
        (_id(3), "2/1/201", COMPOUND),
    }
    roles = await emptied.read_rows(
        "MATCH (m:PartyMember)-[r:HOLDS]->(b:GridBranch)-[:UNDER]->(:CommunityCommittee {code: $c}) "
        "RETURN m.code AS member, r.role AS role, b.code AS branch",
        {"c": f"SQDW-{A}-N0001"},
    )
    assert roles == [{"member": f"DY-{A}-N0001", "role": "书记", "branch": f"DZB-{A}-N0001"}]


async def test_loaded_twice_the_graph_and_the_codes_are_the_same(emptied: Graph, tmp_path: Path) -> None:  # noqa: F811
    path = _write(dataset(), tmp_path / "twice.xlsx")
    await load_file(path, emptied)
    first = await _state(emptied)
    second_result = await load_file(path, emptied)
    assert await _state(emptied) == first
    assert sum(c["created"] for c in second_result.summary.nodes.values()) == 0


async def test_a_moved_member_and_a_building_of_another_grid_keep_their_codes(
    emptied: Graph,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Found by natural key in the graph, whatever the rows' order: member 1 now lives in 2/1/201, building 1 lies
    in grid 02 — the same codes; the member's household link moved (the old one ended), the households of
    building 1 kept theirs."""
    await load_file(_write(dataset(), tmp_path / "before.xlsx"), emptied)
    buildings, households = await _codes(emptied, "Building", "number"), await _codes(emptied, "Household", "room")
    members = await _codes(emptied, "PartyMember", "idNumber")
    moved = dataset(member_homes=("2/1/201", "1/1/102", "2/1/201"), grid_of_1="02")
    for key in ("Building", "Household", "PartyMember"):  # in another order: row order alone would give other codes
        moved.rows[key].reverse()
    result = await load_file(_write(moved, tmp_path / "after.xlsx"), emptied)
    assert result.skipped == 0
    assert await _codes(emptied, "Building", "number") == buildings
    assert await _codes(emptied, "Household", "room") == households
    assert await _codes(emptied, "PartyMember", "idNumber") == members
    home = await emptied.read_rows(
        "MATCH (:PartyMember {code: $m})-[r:LIVES_IN]->(h:Household) WHERE r.until IS NULL RETURN h.code AS code",
        {"m": members[_id(1)]},
    )
    assert home == [{"code": households["201"]}]
    grid = await emptied.read_rows(
        "MATCH (:Building {code: $b})-[r:IN]->(g:Grid) WHERE r.until IS NULL RETURN g.code AS code",
        {"b": buildings["1"]},
    )
    assert grid == [{"code": f"WG-{A}-02"}]


def _with_groups(ds: Dataset) -> Dataset:
    """A group covering both buildings and a central household at 1/1/102, all named by key: the group's branch
    by committee/name, the central household's group by branch/name, its household (a later sheet) by
    compound/楼号/单元/门牌, household 1/1/101's contact by group/name."""
    branch = f"{A}/檀溪社区党委/檀溪第一支部"
    ds.add("BuildingGroup", name="第一党小组", branch_code=branch, building_codes=f"{COMPOUND}/1;{COMPOUND}/2")
    ds.add("CentralHousehold", name="中心户一", group_code=f"{branch}/第一党小组", household_code=f"{COMPOUND}/1/1/102")
    ds.rows["Household"][0]["central_household_code"] = f"{branch}/第一党小组/中心户一"
    return ds


async def test_a_later_sheet_is_named_by_key_once_it_is_in_the_graph(emptied: Graph, tmp_path: Path) -> None:  # noqa: F811
    """A central household names its household (a later sheet) by key: refused on a first load, where the
    household is not in the graph yet (name it by code then), found once the households are loaded; keys nest
    three deep (a household's contact: committee/branch/group/central household)."""
    first = _write(_with_groups(dataset()), tmp_path / "first.xlsx")
    plan = await validate_file(first, None)
    plan.close()
    assert [(p.sheet, p.column.split(" ")[-1]) for p in plan.problems] == [("党员中心户", "所在住户编码")]
    await load_file(_write(dataset(), tmp_path / "households.xlsx"), emptied)
    households = await _codes(emptied, "Household", "room")
    result = await load_file(first, emptied)
    assert result.skipped == 0
    rows = await emptied.read_rows(
        "MATCH (c:CentralHousehold)-[:UNDER]->(g:BuildingGroup)-[:COVERS]->(b:Building), (c)-[:AT]->(h:Household), "
        "(c)-[:CONTACTS]->(k:Household) RETURN c.code AS c, g.code AS g, collect(DISTINCT b.number) AS b, "
        "h.code AS h, k.code AS k"
    )
    assert [{**r, "b": sorted(r["b"])} for r in rows] == [
        {"c": f"ZXH-{A}-N0001", "g": f"DXZ-{A}-N0001", "b": ["1", "2"], "h": households["102"], "k": households["101"]}
    ]


async def test_a_given_code_wins_over_assignment(emptied: Graph, tmp_path: Path) -> None:  # noqa: F811
    """A building given its code keeps it (rows name it by that code: a row with a code is named by its code);
    loaded again without it, it is found by its key and keeps it still; the building without a code beside it
    gets the first assigned number of the community."""
    ds, given = dataset(), f"LD-{A}-0007"
    ds.rows["Building"][0]["code"] = given
    for row in ds.rows["Household"]:
        row["building_code"] = row["building_code"].replace(f"{COMPOUND}/1", given)
    for row in ds.rows["PartyMember"]:
        row["household_code"] = row["household_code"].replace(f"{COMPOUND}/1/", f"{given}/")
    await load_file(_write(ds, tmp_path / "given.xlsx"), emptied)
    assert await _codes(emptied, "Building", "number") == {"1": f"LD-{A}-0007", "2": f"LD-{A}-N0001"}
    await load_file(_write(dataset(), tmp_path / "blank.xlsx"), emptied)
    assert await _codes(emptied, "Building", "number") == {"1": f"LD-{A}-0007", "2": f"LD-{A}-N0001"}


async def test_a_duplicate_natural_key_is_refused_and_nothing_is_written(
    emptied: Graph,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Two members with one ID number, two buildings with one 楼号 in one compound: each second row is a problem
    naming the first, its sheet, row, column and value (the ID number masked), in Chinese and English."""
    ds = dataset()
    ds.rows["PartyMember"][2]["id_number"] = _id(1)
    ds.rows["Building"].append(dict(ds.rows["Building"][0]))
    path = _write(ds, tmp_path / "dup.xlsx")
    plan = await validate_file(path, None)
    plan.close()
    dup = [p for p in plan.problems if "自然键重复" in p.reason_zh]
    assert [(p.sheet, p.row, p.column) for p in dup] == [("楼栋", 4, "C 楼号"), ("党员", 4, "C 身份证号")]
    building, member = dup
    assert building.value == f"{COMPOUND}/1"
    assert "与第2行相同" in building.reason_zh
    assert "duplicate natural key (compound_code + number): row 2 has the same" in building.reason_en
    assert member.value == _id(1)[:6] + "********" + _id(1)[14:]
    assert _id(1) not in member.reason_zh + member.reason_en + member.value
    with pytest.raises(InvalidInput):
        await load_file(path, emptied)
    assert (await emptied.read_rows("MATCH (n) WHERE n:Building OR n:Household RETURN count(n) AS n"))[0]["n"] == 0


async def test_a_blank_code_needs_its_natural_key_and_a_key_must_name_something(tmp_path: Path) -> None:
    """A building without code or 楼号 is refused (naming the key's parts); a member naming a household by a key
    nobody holds, and a role naming a member by an unknown ID number, are refused — the ID number masked."""
    ds = dataset()
    ds.rows["Building"][1]["number"] = ""
    ds.rows["PartyMember"][0]["household_code"] = f"{COMPOUND}/1/1/999"
    ds.rows["Role"][0]["member_code"] = _id(9)
    plan = await validate_file(_write(ds, tmp_path / "bad.xlsx"), None)
    plan.close()
    by_sheet = {(p.sheet, p.row): p for p in plan.problems}
    missing = by_sheet[("楼栋", 3)]
    assert "编码为空时须填写自然键:所属小区编码、楼号" in missing.reason_zh
    assert "without a code, fill the natural key" in missing.reason_en
    home = by_sheet[("党员", 2)]
    assert home.value == f"{COMPOUND}/1/1/999"
    assert "找不到自然键" in home.reason_zh
    role = by_sheet[("任职", 2)]
    assert _id(9) not in role.value + role.reason_zh + role.reason_en
    assert "*" in role.value


def _records(plan: Plan) -> dict[str, list[tuple[Any, ...]]]:
    """What the writer reads of each sheet (`Plan.records` for node sheets, rows for link sheets)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for sheet in (s for s in SHEETS if plan.count(s.key)):
        if sheet.is_node:
            links = tuple(lk.en for lk in sheet.all_links if len(lk.targets) == 1)
            out[sheet.key] = [(r.number, r.code, r.values, r.named) for c in plan.records(sheet.key, links) for r in c]
        else:
            out[sheet.key] = [(r.number, r.code, r.resolved) for r in plan.valid_rows(sheet.key)]
    return out


async def test_assigned_codes_reach_the_writer_whether_rows_stay_in_memory_or_spill(tmp_path: Path) -> None:
    """The codes given to blank rows and the keys rewritten to codes are in the packed columns a spilled chunk and
    the writer read (`Chunk.rekey`): a plan spilled chunk by chunk gives the writer what an in-memory plan does."""
    path = _write(dataset(), tmp_path / "spill.xlsx")
    in_memory = await build_plan(read_input(path), None, chunk_rows=2)
    spilled = await build_plan(read_input(path), None, Budget(rows=0), chunk_rows=2)
    try:
        assert in_memory.problems == spilled.problems == []
        assert spilled.store.spilled("Household")
        records = _records(in_memory)
        assert records == _records(spilled)
        households = records["Household"]
        assert [r[1] for r in households] == [f"HU-{A}-N0001", f"HU-{A}-N0002", f"HU-{A}-N0003"]
        assert [r[2][0] for r in households] == [r[1] for r in households]  # the code column, as written
        assert {r[3][0] for r in households} == {f"LD-{A}-N0001", f"LD-{A}-N0002"}  # the building, by code
        roles = records["Role"]
        assert [r[1] for r in roles] == [f"DY-{A}-N0001>DZB-{A}-N0001"]
    finally:
        in_memory.close()
        spilled.close()


async def test_members_living_elsewhere_without_codes_get_their_communitys_codes(
    emptied: Graph,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Natural keys meet the places rule: a member with no household and no code, placed by its branch (named by
    key) or by its community code alone, gets a code counted in that community, the same on a reload."""
    ds = dataset()
    ds.add("PartyMember", name="异地党员甲", id_number=_id(4), status="预备党员", household_code="",
           branch_code=f"{A}/檀溪社区党委/檀溪第一支部", community_code="")  # fmt: skip
    ds.add("PartyMember", name="异地党员乙", id_number=_id(5), status="正式党员", household_code="",
           branch_code="", community_code=A)  # fmt: skip
    path = _write(ds, tmp_path / "elsewhere.xlsx")
    await load_file(path, emptied)
    members = await _codes(emptied, "PartyMember", "idNumber")
    assert members[_id(4)] == f"DY-{A}-N0004"
    assert members[_id(5)] == f"DY-{A}-N0005"
    rows = await emptied.read_rows(
        "MATCH (p:PartyMember) WHERE p.idNumber IN $ids RETURN DISTINCT p.communityCode AS c", {"ids": [_id(4), _id(5)]}
    )
    assert rows == [{"c": A}]
    first = await _state(emptied)
    await load_file(path, emptied)
    assert await _state(emptied) == first
