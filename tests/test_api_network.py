"""`network` and `partnerNetwork` on the small city, against the generated rows."""

from __future__ import annotations

from collections import Counter
from typing import Any

from httpx import AsyncClient

from tests.helpers import data_of

NETWORK = """
query($root: String!, $depth: Int!, $max: Int!) {
  network(root: $root, depth: $depth, maxNodes: $max) {
    root truncated
    nodes { id code type level depth gaps households householdsWithoutCentral }
    edges { source target type }
  }
}"""


async def test_network_of_a_community_marks_gaps_and_collapses_households(
    client: AsyncClient, small: dict[str, Any]
) -> None:
    rows = small["data"].rows
    community = rows["Community"][0]["code"]
    drawing = (await data_of(client, NETWORK, root=community, depth=4, max=2000))["network"]
    assert drawing["truncated"] is False
    nodes = {n["code"]: n for n in drawing["nodes"]}
    ids = {n["id"] for n in drawing["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in drawing["edges"])
    assert nodes[community]["depth"] == 0
    assert "Household" not in {n["type"] for n in drawing["nodes"]}
    buildings = [b for b in rows["Building"] if b["code"][3:15] == community]
    per_building = Counter(h["building_code"] for h in rows["Household"])
    for building in buildings:
        assert nodes[building["code"]]["households"] == per_building[building["code"]]
    grouped = {b for g in rows["BuildingGroup"] for b in g["building_codes"].split(";") if b}
    for building in buildings:
        flagged = "building_without_group" in nodes[building["code"]]["gaps"]
        assert flagged == (building["code"] not in grouped), building["code"]
    assert any(n["gaps"] for n in drawing["nodes"])
    assert {n["type"] for n in drawing["nodes"]} >= {"Community", "Grid", "Compound", "Building", "GridBranch",
                                                      "BuildingGroup", "CommunityCommittee"}  # fmt: skip


async def test_network_stops_at_the_node_budget(client: AsyncClient, small: dict[str, Any]) -> None:
    street = small["data"].rows["Street"][0]["code"]
    drawing = (await data_of(client, NETWORK, root=street, depth=6, max=25))["network"]
    assert drawing["truncated"] is True
    assert len(drawing["nodes"]) == 25


PARTNERS = """
query($scope: String!) {
  partnerNetwork(scope: $scope) {
    scope { code name } unitCount communityCount services hours
    links { unit { code } community { code } reportedOn committeeMember services hours }
  }
}"""


async def test_partner_network_lists_every_report_and_service(client: AsyncClient, small: dict[str, Any]) -> None:
    rows = small["data"].rows
    city = rows["City"][0]["code"]
    network = (await data_of(client, PARTNERS, scope=city))["partnerNetwork"]
    assert network["scope"] == {"code": city, "name": rows["City"][0]["name"]}
    pairs = {(link["unit"]["code"], link["community"]["code"]) for link in network["links"]}
    reported = {(r["unit_code"], r["community_code"]) for r in rows["UnitReport"]}
    assert reported <= pairs
    units = {u["credit_code"] for u in rows["Unit"]}
    by_units = [s for s in rows["Service"] if s["provider_code"] in units]
    assert network["services"] == len(by_units)
    assert network["hours"] == sum(float(s["hours"]) for s in by_units)
    assert network["unitCount"] == len({u for u, _ in pairs})
