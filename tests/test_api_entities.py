"""Entity types on the small city: nested reads in a bounded number of queries, Relay IDs, search, masking."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient

from graph.driver import Graph
from graph.scope import Scope
from graph.settings import Settings
from schema.api import Context, build_schema
from tests.helpers import bearer, data_of, ensure_account, gql

NESTED = """
query($street: String!) {
  street(code: $street) {
    name
    communities { code name grids { code gridBranches { code buildingGroups { code buildings { code } } } } }
  }
}"""


#: Every request reads its caller's account once (access.web.Authenticator) before the query runs.
SIGN_IN_TRIPS = 1


def _street(small: dict[str, Any]) -> str:
    return small["data"].rows["Street"][0]["code"]


async def test_a_nested_street_query_costs_one_query_per_level(client: AsyncClient, small: dict[str, Any]) -> None:
    graph: Graph = client._transport.app.state.graph  # type: ignore[attr-defined]
    before = graph.round_trips
    street = (await data_of(client, NESTED, street=_street(small)))["street"]
    trips = graph.round_trips - before - SIGN_IN_TRIPS
    data = small["data"]
    communities = street["communities"]
    assert sorted(c["code"] for c in communities) == sorted(r["code"] for r in data.rows["Community"])
    grids = [g for c in communities for g in c["grids"]]
    assert len(grids) == len(data.rows["Grid"])
    groups = [x for g in grids for b in g["gridBranches"] for x in b["buildingGroups"]]
    assert len(groups) > 20
    buildings = {b["code"] for x in groups for b in x["buildings"]}
    grouped = {b for g in data.rows["BuildingGroup"] for b in g["building_codes"].split(";") if b}
    assert buildings == grouped
    # a look-up with nested relationships reads the whole selection in one Cypher query
    assert trips == 1, trips


async def test_relationships_below_a_list_are_batched_per_level(client: AsyncClient, small: dict[str, Any]) -> None:
    graph: Graph = client._transport.app.state.graph  # type: ignore[attr-defined]
    query = """query($first: Int!) { search(codePrefix: "WG-", types: [Grid], first: $first) {
      edges { node { ... on Grid { buildings { households { code } } gridBranches { code } } } } } }"""
    trips = []
    for first in (2, 15):
        before = graph.round_trips
        result = await data_of(client, query, first=first)
        assert len(result["search"]["edges"]) == first
        trips.append(graph.round_trips - before - SIGN_IN_TRIPS)
    # the search, then one DataLoader batch per relationship per level: buildings, households, branches
    assert trips[0] == trips[1] == 4, trips


async def test_node_ids_round_trip_and_codes_find_entities(client: AsyncClient, small: dict[str, Any]) -> None:
    household = small["data"].rows["Household"][0]
    query = "query($c: String!) { entity(code: $c) { id type code ... on Household { building { code } } } }"
    found = (await data_of(client, query, c=household["code"]))["entity"]
    assert found["type"] == "Household"
    assert found["building"]["code"] == household["building_code"]
    again = await data_of(client, "query($id: ID!) { node(id: $id) { id ... on Household { room } } }", id=found["id"])
    assert again["node"]["id"] == found["id"]
    assert again["node"]["room"] == str(household["room"])
    body = await gql(client, '{ node(id: "bm90LWFuLWlk") { id } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_search_by_name_and_code_prefix_pages_with_a_total(client: AsyncClient, small: dict[str, Any]) -> None:
    compounds = small["data"].rows["Compound"]
    word = compounds[0]["name"][:2]
    expected = sorted(c["code"] for c in compounds if word in c["name"])
    query = """query($name: String, $after: String) {
      search(name: $name, types: [Compound], first: 2, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { code label } } } }"""
    seen, after = [], None
    while True:
        page = (await data_of(client, query, name=word, after=after))["search"]
        assert page["totalCount"] == len(expected)
        seen += [e["node"]["code"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected
    grid_prefix = small["data"].rows["Grid"][0]["code"][:15]
    query = "query($p: String) { search(codePrefix: $p, types: [Grid]) { totalCount } }"
    by_prefix = await data_of(client, query, p=grid_prefix)
    assert by_prefix["search"]["totalCount"] == sum(1 for g in small["data"].rows["Grid"]
                                                    if g["code"].startswith(grid_prefix))  # fmt: skip


async def test_personal_data_is_masked_unless_granted_and_every_unmasked_answer_is_logged(
    client: AsyncClient, anonymous: AsyncClient, graph: Graph, settings: Settings, small: dict[str, Any]
) -> None:
    member = next(m for m in small["data"].rows["PartyMember"] if m.get("id_number") and m.get("phone"))
    query = "query($c: String!) { partyMember(code: $c) { idNumber phone name } }"
    await ensure_account(graph, "pii.viewer", "viewer")
    await ensure_account(graph, "plain.editor", "editor")
    await ensure_account(graph, "pii.auditor", "auditor", pii=True)
    log = "query($c: String!) { accessLog(code: $c) { login type code fields } }"
    before = (await data_of(client, log, c=member["code"]))["accessLog"]
    for login in ("pii.viewer", "plain.editor"):
        body = await anonymous.post(
            "/graphql", json={"query": query, "variables": {"c": member["code"]}}, headers=bearer(settings, login)
        )
        shown = body.json()["data"]["partyMember"]
        assert shown["idNumber"] != member["id_number"]
        assert shown["idNumber"][:6] == member["id_number"][:6]
        assert "********" in shown["idNumber"]
        assert shown["phone"] != str(member["phone"])
        assert shown["phone"].endswith(str(member["phone"])[-4:])
    assert (await data_of(client, log, c=member["code"]))["accessLog"] == before  # masked answers leave no entry
    granted = await anonymous.post(
        "/graphql", json={"query": query, "variables": {"c": member["code"]}}, headers=bearer(settings, "pii.auditor")
    )
    shown = granted.json()["data"]["partyMember"]
    assert shown["idNumber"] == member["id_number"]
    assert shown["phone"] == str(member["phone"])
    after = (await data_of(client, log, c=member["code"]))["accessLog"]
    assert len(after) == len(before) + 1
    assert after[0] == {"login": "pii.auditor", "type": "PartyMember", "code": member["code"],
                        "fields": ["idNumber", "phone"]}  # fmt: skip
    # only admins read the access log
    refused = await anonymous.post("/graphql", json={"query": log, "variables": {"c": member["code"]}},
                                   headers=bearer(settings, "pii.auditor"))  # fmt: skip
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_reads_stay_inside_the_callers_scope(graph: Graph, small: dict[str, Any]) -> None:
    schema = build_schema()
    communities = small["data"].rows["Community"]
    mine, other = communities[0]["code"], communities[1]["code"]
    context = Context(graph=graph, scope=Scope.parse(mine))
    query = "query($c: String!) { community(code: $c) { code grids { code } } }"
    inside = await schema.execute(query, variable_values={"c": mine}, context_value=context)
    assert inside.errors is None
    assert inside.data["community"]["grids"]
    outside = await schema.execute(query, variable_values={"c": other}, context_value=context)
    assert outside.errors is None
    assert outside.data["community"] is None
    street = _street(small)
    nested = await schema.execute(NESTED, variable_values={"street": street},
                                  context_value=Context(graph=graph, scope=Scope.parse(mine)))  # fmt: skip
    # the street the community lies in shows its code and name, and below it only the caller's community
    assert nested.data["street"]["name"] == small["data"].rows["Street"][0]["name"]
    assert [c["code"] for c in nested.data["street"]["communities"]] == [mine]
    refused = await schema.execute(
        "query($s: String!) { coverage(scope: $s) { scope { level } } }", variable_values={"s": other},
        context_value=context,
    )  # fmt: skip
    assert refused.errors[0].extensions["code"] == "FORBIDDEN"
