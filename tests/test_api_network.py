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


LEVEL_OF_DETAIL = """
query($root: String!, $types: [EntityType!]) {
  network(root: $root, depth: 4, maxNodes: 2000, types: $types) {
    truncated
    nodes { id code type level gaps hidden { type typeName count gaps level } }
    edges { source target }
  }
}"""
#: A community's overview (issue 24): its chain, grids and compounds; buildings and central households left out.
OVERVIEW = ["Community", "CommunityCommittee", "GridBranch", "BuildingGroup", "Grid", "Compound"]


async def test_a_community_overview_leaves_buildings_out_and_counts_them_on_their_groups(
    client: AsyncClient, small: dict[str, Any]
) -> None:
    rows = small["data"].rows
    community = rows["Community"][0]["code"]
    whole = (await data_of(client, LEVEL_OF_DETAIL, root=community, types=None))["network"]
    overview = (await data_of(client, LEVEL_OF_DETAIL, root=community, types=OVERVIEW))["network"]
    assert not overview["truncated"]
    assert {n["type"] for n in overview["nodes"]} <= set(OVERVIEW)
    assert len(overview["nodes"]) <= 150 < len(whole["nodes"])  # the whole community is too much for one view
    assert all(n["hidden"] == [] for n in whole["nodes"])  # nothing left out, nothing counted
    nodes = {n["code"]: n for n in overview["nodes"]}
    groups = [g for g in rows["BuildingGroup"] if g["code"].split("-")[1] == community]
    assert groups
    centrals = Counter(c["group_code"] for c in rows["CentralHousehold"])
    for group in groups:
        hidden = {h["type"]: h["count"] for h in nodes[group["code"]]["hidden"]}
        buildings = len([b for b in group["building_codes"].split(";") if b])
        assert hidden.get("Building", 0) == buildings, group["code"]
        assert hidden.get("CentralHousehold", 0) == centrals[group["code"]], group["code"]
    names = {h["type"]: h["typeName"] for n in overview["nodes"] for h in n["hidden"]}
    assert names["Building"] == "楼栋"
    # opening a group: its buildings and central households, one step
    group = groups[0]["code"]
    opened = (await data_of(client, LEVEL_OF_DETAIL, root=group, types=["Building", "CentralHousehold"]))["network"]
    types = Counter(n["type"] for n in opened["nodes"] if n["code"] != group)
    assert types["Building"] == len([b for b in groups[0]["building_codes"].split(";") if b])
    assert types["CentralHousehold"] == centrals[group]


async def test_an_aggregate_counts_the_gaps_it_holds(client: AsyncClient, small: dict[str, Any]) -> None:
    """Each hidden-type count carries how many of those neighbours break a rule: the same nodes the whole drawing
    marks with gaps among that node's neighbours."""
    held = 0
    for community in small["data"].rows["Community"]:
        whole = (await data_of(client, LEVEL_OF_DETAIL, root=community["code"], types=None))["network"]
        overview = (await data_of(client, LEVEL_OF_DETAIL, root=community["code"], types=OVERVIEW))["network"]
        assert not whole["truncated"]
        by_id = {n["id"]: n for n in whole["nodes"]}
        neighbours: dict[str, set[str]] = {}
        for e in whole["edges"]:
            neighbours.setdefault(e["source"], set()).add(e["target"])
            neighbours.setdefault(e["target"], set()).add(e["source"])
        for node in overview["nodes"]:
            for h in node["hidden"]:
                around = [by_id[i] for i in neighbours.get(node["id"], ()) if by_id[i]["type"] == h["type"]]
                assert h["count"] == len(around), (node["code"], h["type"])
                assert h["gaps"] == sum(1 for n in around if n["gaps"]), (node["code"], h["type"])
                assert {h["level"]} == {n["level"] for n in around}  # the row those nodes are drawn on
                held += h["gaps"]
    assert held  # the small city has buildings without a group: some aggregate holds a gap


async def test_network_types_must_name_a_drawn_type(client: AsyncClient, small: dict[str, Any]) -> None:
    community = small["data"].rows["Community"][0]["code"]
    body = (
        await client.post(
            "/graphql", json={"query": LEVEL_OF_DETAIL, "variables": {"root": community, "types": ["Household"]}}
        )
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "types" in body["errors"][0]["message"]


SEARCH = """query($name: String!) { search(name: $name, first: 500) { totalCount edges { node { code type } } } }"""


async def test_search_finds_compounds_red_stations_and_list_entries_by_a_chinese_substring(
    client: AsyncClient, small: dict[str, Any]
) -> None:
    rows = small["data"].rows
    for sheet, field, kind in (
        ("Compound", "name", "Compound"),
        ("RedStation", "name", "RedStation"),
        ("Need", "title", "Need"),
        ("Resource", "title", "Resource"),
    ):
        entry = rows[sheet][0]
        term = entry[field][1:]  # the name without its first character: a substring, as people type it
        found = (await data_of(client, SEARCH, name=term))["search"]
        assert found["totalCount"] <= 500, (sheet, term)
        hits = {(e["node"]["type"], e["node"]["code"]) for e in found["edges"]}
        assert (kind, entry["code"]) in hits, (sheet, term)


LADDER = """
query($root: String!, $max: Int!, $levels: [LevelOfDetail!], $types: [EntityType!]) {
  network(root: $root, depth: 4, maxNodes: $max, levelsOfDetail: $levels, types: $types) {
    truncated levelOfDetail
    nodes { id code type level gaps hidden { type count gaps } }
    edges { id source target type }
  }
}"""
#: A community's levels of detail, as the page asks for them (web/static/app/main.js LADDER).
COMMUNITY_LADDER = [
    OVERVIEW,
    ["Community", "CommunityCommittee", "Grid", "GridBranch", "Compound"],
    ["Community", "CommunityCommittee", "Grid", "GridBranch"],
]


def _same(a: dict[str, Any], b: dict[str, Any]) -> None:
    """Two answers draw the same picture (edge ids are numbered per answer)."""
    assert a["truncated"] == b["truncated"]
    assert sorted(a["nodes"], key=lambda n: n["id"]) == sorted(b["nodes"], key=lambda n: n["id"])
    edges = lambda x: sorted((e["source"], e["target"], e["type"]) for e in x["edges"])  # noqa: E731
    assert edges(a) == edges(b)


async def test_levels_of_detail_draw_the_first_level_within_its_budget(
    client: AsyncClient, small: dict[str, Any]
) -> None:
    """One request with a ladder answers what the request for the first level that fits would (issue 24: the page
    asks once instead of once per level); a level that overflows its own budget is passed over."""
    community = small["data"].rows["Community"][0]["code"]
    sizes = []
    for types in COMMUNITY_LADDER:
        alone = (await data_of(client, LADDER, root=community, max=2000, levels=None, types=types))["network"]
        assert not alone["truncated"]
        assert alone["levelOfDetail"] is None
        sizes.append(len(alone["nodes"]))
    assert sizes[0] > sizes[1] > sizes[2]
    for budgets, expected in (
        ([sizes[0], sizes[1], sizes[2]], 0),  # the first fits exactly
        ([sizes[0] - 1, sizes[1], sizes[2]], 1),
        ([sizes[0] - 1, sizes[1] - 1, 2000], 2),
        ([sizes[0] - 1, 2000, 2000], 1),  # a later level's budget is its own
    ):
        levels = [{"types": t, "maxNodes": m} for t, m in zip(COMMUNITY_LADDER, budgets, strict=True)]
        got = (await data_of(client, LADDER, root=community, max=2000, levels=levels, types=None))["network"]
        assert got["levelOfDetail"] == expected, budgets
        alone = await data_of(client, LADDER, root=community, max=2000, levels=None, types=COMMUNITY_LADDER[expected])
        _same(got, alone["network"])
    # None fits: the last level, cut at its budget, as `types` with that budget answers.
    levels = [{"types": t, "maxNodes": 3} for t in COMMUNITY_LADDER]
    got = (await data_of(client, LADDER, root=community, max=2000, levels=levels, types=None))["network"]
    assert got["truncated"]
    assert (got["levelOfDetail"], len(got["nodes"])) == (2, 3)
    alone = await data_of(client, LADDER, root=community, max=3, levels=None, types=COMMUNITY_LADDER[2])
    _same(got, alone["network"])
    # A level without its own budget has the request's.
    levels = [{"types": COMMUNITY_LADDER[0]}, {"types": COMMUNITY_LADDER[2]}]
    got = (await data_of(client, LADDER, root=community, max=sizes[0] - 1, levels=levels, types=None))["network"]
    assert (got["levelOfDetail"], len(got["nodes"])) == (1, sizes[2])


async def test_levels_of_detail_are_checked_before_anything_is_read(client: AsyncClient, small: dict[str, Any]) -> None:
    community = small["data"].rows["Community"][0]["code"]
    cases = {
        "not both": ([{"types": OVERVIEW}], OVERVIEW, 150),
        "maxNodes": ([{"types": OVERVIEW, "maxNodes": 151}], None, 150),
        "1 to 6": ([{"types": OVERVIEW}] * 7, None, 150),
        "drawn types": ([{"types": ["Household"]}], None, 150),
    }
    for words, (levels, types, most) in cases.items():
        response = await client.post(
            "/graphql",
            json={"query": LADDER, "variables": {"root": community, "max": most, "levels": levels, "types": types}},
        )
        body = response.json()
        assert body["data"] is None, words
        [error] = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", words
        assert words in error["message"], (words, error["message"])
