"""A party member living outside the loaded area (issue 25): no household, placed by its branch or its community.

The hand-made street (tests/handmade.py) is loaded with two more members who live elsewhere: M101, a probationary
member of 檀溪's branch with no household (placed in 檀溪 by the branch), and M102, a full member with neither
household nor branch who names 昭明 as its community. Neither is in service and M101 is probationary, so every
hand-counted gap and coverage figure must stay as it was: a member without a household counts in no household
figure. A row naming none of household, branch and community is refused with its sheet, row and column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from openpyxl import load_workbook

from core.privacy import mask_text
from graph.driver import Graph
from graph.migrations import migrate
from graph.settings import Settings
from loaders.demo import Dataset, dataset_to_xlsx
from loaders.load import load_file, validate_file
from loaders.workbooks import write_error_workbook
from tests import handmade
from tests.helpers import bearer, clear, data_of, ensure_account

A, B = handmade.A, handmade.B
STREET = "420602001000"
BY_BRANCH, BY_COMMUNITY = f"DY-{A}-000101", f"DY-{B}-000102"
ADDRESS = "湖北省襄阳市樊城区人民路12号3单元"
MEMBER = "query($c: String!) { partyMember(code: $c) { code address household { code } community { code } } }"


def _elsewhere(ds: Dataset, code: str, status: str, branch: str, community: str) -> None:
    """A member with no household: placed by `branch`, else by `community` (either may be empty)."""
    ds.add("PartyMember", code=code, name="异地党员", id_number="", status=status, in_service="否",
           joined_at="2010-07-01", phone="", address=ADDRESS, branch_code=branch, household_code="",
           unit_code="", community_code=community)  # fmt: skip


def _street(*extra: tuple[str, str, str, str]) -> Dataset:
    """The hand-made street with the two members living elsewhere, and `extra` ones (code, status, branch,
    community)."""
    ds = handmade.dataset()
    _elsewhere(ds, BY_BRANCH, "预备党员", f"DZB-{A}-01", "")  # probationary: DZB-A-01 keeps its 2 full members
    _elsewhere(ds, BY_COMMUNITY, "正式党员", "", B)
    for code, status, branch, community in extra:
        _elsewhere(ds, code, status, branch, community)
    return ds


@pytest.fixture(scope="module")
async def loaded(graph: Graph, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The street with its members living elsewhere, loaded like any department's workbook."""
    await migrate(graph)
    await clear(graph)
    path = tmp_path_factory.mktemp("elsewhere") / "elsewhere.xlsx"
    dataset_to_xlsx(_street(), path)
    result = await load_file(path, graph)
    assert result.skipped == 0
    return path


AREAS = "MATCH (p:PartyMember {code: $code}) RETURN p.communityCode AS community, p.streetCode AS street"


async def test_a_member_without_a_household_lies_in_its_branchs_community(graph: Graph, loaded: Path) -> None:
    rows = await graph.read_rows(AREAS, {"code": BY_BRANCH})
    assert rows == [{"community": A, "street": STREET}]


async def test_a_member_with_only_a_community_code_lies_in_that_community(graph: Graph, loaded: Path) -> None:
    rows = await graph.read_rows(AREAS, {"code": BY_COMMUNITY})
    assert rows == [{"community": B, "street": STREET}]


async def test_a_member_placed_by_nothing_is_refused_naming_sheet_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.xlsx"
    nowhere = f"DY-{A}-000103"
    ds = _street((nowhere, "正式党员", "", ""))
    dataset_to_xlsx(ds, path)
    problems = (await validate_file(path, None)).problems
    row = 1 + [m["code"] for m in ds.rows["PartyMember"]].index(nowhere) + 1  # the header, then 1-based rows
    found = [p for p in problems if p.sheet == "党员"]
    assert len(found) == 1, problems
    assert (found[0].row, found[0].column) == (row, "M 所属社区编码")
    assert "至少填一项" in found[0].reason_zh
    assert "fill one of 'household_code', 'branch_code', 'community_code'" in found[0].reason_en


async def test_the_error_workbook_masks_the_address_of_a_refused_member(tmp_path: Path) -> None:
    path, out = tmp_path / "nowhere.xlsx", tmp_path / "nowhere.errors.xlsx"
    dataset_to_xlsx(_street((f"DY-{A}-000103", "正式党员", "", "")), path)
    assert write_error_workbook(await validate_file(path, None), out) == 1
    cells = [str(c) for ws in load_workbook(out).worksheets for row in ws.iter_rows(values_only=True) for c in row]
    assert ADDRESS not in "\n".join(cells)
    assert mask_text(ADDRESS) in cells


async def test_a_community_code_must_be_the_community_its_branch_gives(tmp_path: Path) -> None:
    path = tmp_path / "across.xlsx"
    dataset_to_xlsx(_street((f"DY-{A}-000104", "正式党员", f"DZB-{A}-01", B)), path)
    problems = [p for p in (await validate_file(path, None)).problems if p.sheet == "党员"]
    assert [(p.value, p.reason_en.split(":")[0]) for p in problems] == [(B, "in another community")]


async def test_a_scoped_viewer_sees_a_member_living_elsewhere_only_in_its_area_and_masked(
    anonymous: AsyncClient, client: AsyncClient, graph: Graph, settings: Settings, loaded: Path
) -> None:
    await ensure_account(graph, "elsewhere.viewer", "viewer", A)
    as_viewer = bearer(settings, "elsewhere.viewer")

    async def member(code: str) -> Any:
        answer = await anonymous.post("/graphql", json={"query": MEMBER, "variables": {"c": code}}, headers=as_viewer)
        assert "errors" not in answer.json(), answer.json()
        return answer.json()["data"]["partyMember"]

    mine = await member(BY_BRANCH)
    assert mine is not None
    assert mine["household"] is None
    assert mine["address"] != ADDRESS
    assert mine["address"] == ADDRESS[:6] + "*" * (len(ADDRESS) - 6)
    assert await member(BY_COMMUNITY) is None  # 昭明's: outside the viewer's community
    shown = (await data_of(client, MEMBER, c=BY_COMMUNITY))["partyMember"]  # the city's admin
    assert shown == {"code": BY_COMMUNITY, "address": ADDRESS, "household": None, "community": {"code": B}}
    log = "query($c: String!) { accessLog(code: $c) { type code fields } }"
    entries = (await data_of(client, log, c=BY_COMMUNITY))["accessLog"]
    assert {"type": "PartyMember", "code": BY_COMMUNITY, "fields": ["address"]} in entries


async def test_an_editor_granted_personal_data_sees_the_address(
    anonymous: AsyncClient, graph: Graph, settings: Settings, loaded: Path
) -> None:
    await ensure_account(graph, "elsewhere.pii", "editor", A, pii=True)
    answer = await anonymous.post("/graphql", json={"query": MEMBER, "variables": {"c": BY_BRANCH}},
                                  headers=bearer(settings, "elsewhere.pii"))  # fmt: skip
    assert answer.json()["data"]["partyMember"]["address"] == ADDRESS


COVERAGE = """query($s: String!, $d: Date) {
  coverage(scope: $s, asOf: $d) { children { area { code } figures { metric units covered } } }
}"""


def _figures(area: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {f["metric"]: (f["units"], f["covered"]) for f in area["figures"]}


async def test_household_figures_and_gaps_are_the_hand_count_still(client: AsyncClient, loaded: Path) -> None:
    day = handmade.AS_OF.isoformat()
    street = (await data_of(client, COVERAGE, s=STREET, d=day))["coverage"]
    assert {c["area"]["code"]: _figures(c) for c in street["children"]} == handmade.COVERAGE
    for community, grids in handmade.GRID_COVERAGE.items():
        report = (await data_of(client, COVERAGE, s=community, d=day))["coverage"]
        assert {c["area"]["code"]: _figures(c) for c in report["children"]} == grids, community
    query = "query($s: String!, $d: Date) { gaps(scope: $s, first: 0, asOf: $d) { counts { kind count } } }"
    gaps = (await data_of(client, query, s=STREET, d=day))["gaps"]
    assert {c["kind"]: c["count"] for c in gaps["counts"]} == handmade.GAPS


async def test_a_branch_moved_takes_its_members_living_elsewhere_along_and_no_one_else(
    graph: Graph, tmp_path: Path
) -> None:
    """After a load that moves a branch to another community's committee (its members not in the load), a member
    placed by the branch moves with it; one living in a household of 檀溪 stays there. Last in the module: it
    loads a street of its own."""
    moving, lodger, resident = f"DZB-{A}-09", f"DY-{A}-000105", f"DY-{A}-000106"
    ds = _street((lodger, "正式党员", moving, ""))
    ds.add("GridBranch", code=moving, name="流动党员党支部", dual_report="否", has_committee="否",
           committee_code=f"SQDW-{A}-01", grid_codes="", compound_codes="")  # fmt: skip
    ds.add("PartyMember", code=resident, name="本地党员", id_number="", status="正式党员", in_service="否",
           joined_at="2010-07-01", phone="", branch_code=moving, household_code=f"HU-{A}-0003-102")  # fmt: skip
    await clear(graph)
    dataset_to_xlsx(ds, tmp_path / "street.xlsx")
    assert (await load_file(tmp_path / "street.xlsx", graph)).skipped == 0
    move = Dataset("move", 0, handmade.AS_OF)
    move.add("GridBranch", code=moving, name="流动党员党支部", dual_report="否", has_committee="否",
             committee_code=f"SQDW-{B}-01", grid_codes="", compound_codes="")  # fmt: skip
    dataset_to_xlsx(move, tmp_path / "move.xlsx")
    assert (await load_file(tmp_path / "move.xlsx", graph)).skipped == 0
    assert await graph.read_rows(AREAS, {"code": lodger}) == [{"community": B, "street": STREET}]
    assert await graph.read_rows(AREAS, {"code": resident}) == [{"community": A, "street": STREET}]
