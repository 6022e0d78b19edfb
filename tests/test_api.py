"""The GraphQL API on the generated `small` city: gaps equal the manifest, coverage adds up, chains are right."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

from graph.driver import Graph
from loaders.demo import Dataset
from tests.helpers import data_of, gql

CITY = "420600000000"  # the small profile's city (one district, one street, four communities)


COUNTS = "query($scope: String!) { gaps(scope: $scope, first: 0) { totalCount counts { kind count } } }"
PAGE = """
query($scope: String!, $kind: GapKind!, $after: String) {
  gaps(scope: $scope, kinds: [$kind], first: 40, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { kind entity { code type } rule source street { code } community { code }
                   responsible { type code } } }
  }
}"""


async def test_gaps_count_exactly_the_manifest(client: AsyncClient, small: dict[str, Any]) -> None:
    result = (await data_of(client, COUNTS, scope=CITY))["gaps"]
    assert {c["kind"]: c["count"] for c in result["counts"]} == small["manifest"]["gaps"]
    assert result["totalCount"] == sum(small["manifest"]["gaps"].values())


PAGED_KINDS = [
    "compound_without_branch",
    "building_without_group",
    "expired_committee_term",
    "unit_never_reported",
    "need_unserved",
    "household_without_central_household",
]


@pytest.mark.parametrize("kind", PAGED_KINDS)
async def test_paging_through_a_kind_lists_each_gap_once(client: AsyncClient, small: dict[str, Any], kind: str) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = (await data_of(client, PAGE, scope=CITY, kind=kind, after=after))["gaps"]
        for edge in page["edges"]:
            node = edge["node"]
            assert node["kind"] == kind
            assert node["rule"]
            assert node["source"]
            assert node["responsible"] is not None, node  # someone up the chain answers for every gap
            seen.append(node["entity"]["code"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == small["manifest"]["gaps"][kind]
    assert seen == sorted(seen) or kind == "expired_committee_term"  # two labels, each in code order


COVERAGE = """
query($scope: String!) {
  coverage(scope: $scope) {
    scope { area { code } level figures { metric units covered uncovered rate gapKind } }
    children { area { code name } level figures { metric units covered } }
  }
}"""


def _figures(area: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {f["metric"]: (f["units"], f["covered"]) for f in area["figures"]}


async def test_coverage_of_a_parent_is_the_sum_of_its_children_at_every_level(
    client: AsyncClient, small: dict[str, Any]
) -> None:
    levels_seen = set()
    pending = [CITY]
    while pending:
        code = pending.pop()
        report = (await data_of(client, COVERAGE, scope=code))["coverage"]
        levels_seen.add(report["scope"]["level"])
        own = _figures(report["scope"])
        if not report["children"]:
            continue
        sums: dict[str, list[int]] = {}
        for child in report["children"]:
            for metric, (units, covered) in _figures(child).items():
                total = sums.setdefault(metric, [0, 0])
                total[0] += units
                total[1] += covered
            if child["area"]["code"] is not None:
                pending.append(child["area"]["code"])
                if child["level"] != "grid":  # a child's own report agrees with its line in the parent's
                    again = (await data_of(client, COVERAGE, scope=child["area"]["code"]))["coverage"]
                    assert _figures(again["scope"]) == _figures(child)
        for metric, (units, covered) in sums.items():
            assert own[metric] == (units, covered), (code, metric)
    assert levels_seen == {"city", "district", "street", "community", "grid"}


async def test_uncovered_units_are_the_gaps_of_the_metric(client: AsyncClient, small: dict[str, Any]) -> None:
    report = (await data_of(client, COVERAGE, scope=CITY))["coverage"]
    checked = 0
    for figure in report["scope"]["figures"]:
        assert figure["uncovered"] == figure["units"] - figure["covered"]
        assert figure["rate"] == pytest.approx(figure["covered"] / figure["units"])
        if figure["gapKind"]:
            assert figure["uncovered"] == small["manifest"]["gaps"][figure["gapKind"]], figure["metric"]
            checked += 1
    assert checked == 7
    entities = small["manifest"]["entities"]
    units = {f["metric"]: f["units"] for f in report["scope"]["figures"]}
    assert units["households"] == entities["Household"]
    assert units["buildings"] == entities["Building"]
    assert units["compounds"] == entities["Compound"]
    assert units["serviceCenters"] == entities["Community"]


CHAIN = """
query($code: String!) {
  responsibilityChain(code: $code) {
    subject { code type }
    community { code } street { code }
    complete
    links { level broken organization { code type } head { code name role } }
    partnerUnits { code reportedOn committeeMember }
  }
}"""


def _by(rows: list[dict[str, Any]], key: str = "code") -> dict[str, dict[str, Any]]:
    return {r[key]: r for r in rows}


async def test_chain_of_a_household_follows_the_workbook(client: AsyncClient, small: dict[str, Any]) -> None:
    data: Dataset = small["data"]
    groups, central = _by(data.rows["BuildingGroup"]), _by(data.rows["CentralHousehold"])
    household = next(h for h in data.rows["Household"] if h["central_household_code"])
    ch = central[household["central_household_code"]]
    group = groups[ch["group_code"]]
    branch = group["branch_code"]
    leader = next(
        (
            r["member_code"]
            for r in data.rows["Role"]
            if r["organization_code"] == group["code"] and r["role"] == "组长"
        ),
        None,
    )
    chain = (await data_of(client, CHAIN, code=household["code"]))["responsibilityChain"]
    links = {link["level"]: link for link in chain["links"]}
    assert chain["subject"] == {"code": household["code"], "type": "Household"}
    assert links["CENTRAL_HOUSEHOLD"]["organization"]["code"] == ch["code"]
    assert links["BUILDING_GROUP"]["organization"]["code"] == group["code"]
    assert (links["BUILDING_GROUP"]["head"] or {}).get("code") == leader
    assert links["GRID_BRANCH"]["organization"]["code"] == branch
    committee = links["COMMUNITY_COMMITTEE"]["organization"]
    assert committee["type"] == "CommunityCommittee"
    secretary = next(r["member_code"] for r in data.rows["Role"] if r["organization_code"] == committee["code"])
    assert links["COMMUNITY_COMMITTEE"]["head"]["code"] == secretary
    assert links["STREET_COMMITTEE"]["head"] is not None
    assert links["STREET_COMMITTEE"]["organization"]["type"] == "StreetWorkingCommittee"
    reported = {r["unit_code"] for r in data.rows["UnitReport"] if r["community_code"] == chain["community"]["code"]}
    assert reported <= {u["code"] for u in chain["partnerUnits"]}


async def test_a_building_without_a_group_has_a_broken_chain(client: AsyncClient, small: dict[str, Any]) -> None:
    data: Dataset = small["data"]
    grouped = {b for g in data.rows["BuildingGroup"] for b in g["building_codes"].split(";") if b}
    bare = next(b for b in data.rows["Building"] if b["code"] not in grouped)
    chain = (await data_of(client, CHAIN, code=bare["code"]))["responsibilityChain"]
    links = {link["level"]: link for link in chain["links"]}
    assert "CENTRAL_HOUSEHOLD" not in links
    assert links["BUILDING_GROUP"]["broken"] is True
    assert links["BUILDING_GROUP"]["organization"] is None
    assert chain["complete"] is False


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ('{ gaps(scope: "12345") { totalCount } }', "BAD_USER_INPUT"),
        ('{ coverage(scope: "420600999000") { scope { level } } }', "NOT_FOUND"),
        ('{ gaps(scope: "420600999000") { totalCount } }', "NOT_FOUND"),
        ('{ gaps(scope: "420600000000", first: 501) { totalCount } }', "BAD_USER_INPUT"),
        ('{ gaps(scope: "420600000000", after: "not-a-cursor") { totalCount } }', "BAD_USER_INPUT"),
        ('{ responsibilityChain(code: "DY-420602001001-000001") { complete } }', "BAD_USER_INPUT"),
        ('{ responsibilityChain(code: "HU-420602001001-9999-99999") { complete } }', "NOT_FOUND"),
    ],
)
async def test_errors_carry_a_code_and_a_bilingual_message(
    client: AsyncClient, small: dict[str, Any], query: str, code: str
) -> None:
    body = await gql(client, query)
    error = body["errors"][0]
    assert error["extensions"]["code"] == code
    assert " / " in error["message"]  # 中文 / English
    assert "Traceback" not in str(body)


async def test_round_trips_do_not_grow_with_the_result(client: AsyncClient, small: dict[str, Any]) -> None:
    graph: Graph = client._transport.app.state.graph  # type: ignore[attr-defined]
    query = """query($first: Int!) {
      gaps(scope: "420600000000", first: $first) { totalCount edges { node { entity { code } community { name }
        grid { name } compound { name } responsible { name } } } }
      coverage(scope: "420600000000") { children { figures { units } } }
    }"""
    trips = []
    for first in (1, 500):
        before = graph.round_trips
        result = await data_of(client, query, first=first)
        assert len(result["gaps"]["edges"]) == first
        trips.append(graph.round_trips - before)
    assert trips[0] == trips[1] <= 6, trips


def test_schema_graphql_is_exported_from_the_code() -> None:
    from schema.export import SDL, render

    assert SDL.read_text(encoding="utf-8") == render(), "schema.graphql is stale: run python -m schema.export"


def test_every_type_and_field_is_described_in_both_languages() -> None:
    from graphql import GraphQLEnumType, GraphQLObjectType

    from schema.api import build_schema

    missing = []
    for name, gtype in build_schema()._schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID", "Date", "PageInfo"}:
            continue
        if not gtype.description:
            missing.append(name)
        if isinstance(gtype, GraphQLObjectType):
            for field_name, f in gtype.fields.items():
                if not f.description or " / " not in f.description:
                    missing.append(f"{name}.{field_name}")
                missing += [f"{name}.{field_name}({a})" for a, arg in f.args.items() if not arg.description]
        if isinstance(gtype, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, value in gtype.values.items() if not value.description]
    assert missing == []


async def test_responses_carry_chinese_as_utf8_not_escapes(client: AsyncClient, small: dict[str, Any]) -> None:
    city = small["data"].rows["City"][0]
    response = await client.post("/graphql", json={"query": "{ cities { name } }"})
    assert city["name"] in response.text
    assert "\\u" not in response.text


AREA_TREE = "{ cities { code name districts { code name streets { code name communities { code name } } } } }"


async def test_the_area_tree_is_every_area_in_code_order(client: AsyncClient, graph: Graph) -> None:
    """The page's area tree (read for each city in one query, `resolve_cities`) lists every area under its parent,
    each level in code order, with its name: the graph's own list, read directly."""
    data = await data_of(client, AREA_TREE)
    got = [
        (c["code"], d["code"], s["code"], (m["code"], m["name"]))
        for c in data["cities"]
        for d in c["districts"]
        for s in d["streets"]
        for m in s["communities"]
    ]
    rows = await graph.read_rows(
        "MATCH (m:Community) RETURN m.cityCode AS c, m.districtCode AS d, m.streetCode AS s, m.code AS m, "
        "m.name AS name ORDER BY c, d, s, m"
    )
    assert got == [(r["c"], r["d"], r["s"], (r["m"], r["name"])) for r in rows]
    assert len(got) >= 4
