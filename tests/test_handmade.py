"""The API against a street whose every figure was counted by hand (tests/handmade.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from httpx import AsyncClient

from graph.driver import Graph
from graph.migrations import migrate
from loaders.demo import dataset_to_xlsx, manifest
from loaders.load import load_file
from tests import handmade
from tests.helpers import clear, data_of

STREET = "420602001000"
AS_OF = handmade.AS_OF.isoformat()


@pytest.fixture(scope="module")
async def loaded(graph: Graph, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-made street written as a workbook and loaded like any department's."""
    await migrate(graph)
    await clear(graph)
    path = tmp_path_factory.mktemp("handmade") / "handmade.xlsx"
    dataset_to_xlsx(handmade.dataset(), path)
    result = await load_file(path, graph)
    assert result.skipped == 0
    return path


def test_the_generators_rules_agree_with_the_hand_count() -> None:
    assert manifest(handmade.dataset())["gaps"] == handmade.GAPS


async def test_gaps_are_the_hand_counted_ones(client: AsyncClient, loaded: Path) -> None:
    query = "query($s: String!, $d: Date) { gaps(scope: $s, first: 0, asOf: $d) { totalCount counts { kind count } } }"
    result = (await data_of(client, query, s=STREET, d=AS_OF))["gaps"]
    assert {c["kind"]: c["count"] for c in result["counts"]} == handmade.GAPS
    assert result["totalCount"] == sum(handmade.GAPS.values())


COVERAGE = """query($s: String!, $d: Date) {
  coverage(scope: $s, asOf: $d) { children { area { code } figures { metric units covered } } }
}"""


def _figures(area: dict) -> dict[str, tuple[int, int]]:
    return {f["metric"]: (f["units"], f["covered"]) for f in area["figures"]}


async def test_coverage_per_community_and_per_grid_is_the_hand_count(client: AsyncClient, loaded: Path) -> None:
    street = (await data_of(client, COVERAGE, s=STREET, d=AS_OF))["coverage"]
    assert {c["area"]["code"]: _figures(c) for c in street["children"]} == handmade.COVERAGE
    for community, grids in handmade.GRID_COVERAGE.items():
        report = (await data_of(client, COVERAGE, s=community, d=AS_OF))["coverage"]
        assert {c["area"]["code"]: _figures(c) for c in report["children"]} == grids, community


async def test_the_chain_of_a_contacted_household(client: AsyncClient, loaded: Path) -> None:
    a = handmade.A
    query = """query($c: String!) { responsibilityChain(code: $c) { complete
      links { level organization { code } head { code role } } partnerUnits { code committeeMember services } } }"""
    chain = (await data_of(client, query, c=f"HU-{a}-0001-102"))["responsibilityChain"]
    links = {link["level"]: link for link in chain["links"]}
    assert links["CENTRAL_HOUSEHOLD"]["organization"]["code"] == f"ZXH-{a}-0101001"
    assert links["BUILDING_GROUP"]["head"] == {"code": f"DY-{a}-000002", "role": "组长"}
    assert links["GRID_BRANCH"]["head"] == {"code": f"DY-{a}-000001", "role": "书记"}
    assert links["COMMUNITY_COMMITTEE"]["organization"]["code"] == f"SQDW-{a}-01"
    assert links["COMMUNITY_COMMITTEE"]["head"] is None  # no secretary on record
    assert chain["complete"] is True
    assert chain["partnerUnits"] == [{"code": handmade.UNIT_1, "committeeMember": True, "services": 1}]
