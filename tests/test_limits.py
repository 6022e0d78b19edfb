"""Request limits before execution (schema/limits.py, schema/cost.py): the cost model against the real schema,
the documents the page and the API benchmark send (all accepted), and each limit over HTTP.

The abusive requests of issue 22, against a real server with siblings beside them, are in
tests/test_abuse_limits.py.
"""

from __future__ import annotations

import ast
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import (
    OperationDefinitionNode,
    get_introspection_query,
    parse,
    specified_rules,
    validate,
)
from graphql.language import Lexer, Source, TokenKind
from httpx import AsyncClient
from starlette.applications import Starlette
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

from core.errors import BAD_USER_INPUT, QUERY_TOO_COMPLEX, RATE_LIMITED
from core.model import LINK_SHEETS, NODE_SHEETS
from graph.settings import PROJECT_ROOT, Settings
from loaders.demo import PROFILES, generate
from schema import build_schema
from schema.cost import CITY, CostModel, per
from schema.limits import COST_HEADER, UNREAD_BODY, Limits
from tests.helpers import SUITE_CITY, own_app

LIMITS = Limits()
SCHEMA = build_schema(limits=LIMITS)
MODEL = CostModel(SCHEMA._schema, max_list_items=LIMITS.list_items)
STREET = "420602001000"
COMMUNITY = "420602001001"


def cost(query: str, variables: dict[str, Any] | None = None) -> int:
    document = parse(query)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    return MODEL.cost(document, operation, variables)


def tokens(query: str) -> int:
    lexer, count = Lexer(Source(query)), 0
    while lexer.advance().kind is not TokenKind.EOF:
        count += 1
    return count


# ---------------------------------------------------------------- the cost model


def test_every_label_and_link_sheet_has_a_city_count() -> None:
    assert set(CITY) == {s.label for s in NODE_SHEETS} | {s.key for s in LINK_SHEETS}


def test_the_city_counts_follow_the_generated_city() -> None:
    """Per community, the table's counts are those of the generated city (the small profile: same generator,
    same rates) within a factor of two, and the profile's own counts exactly."""
    city = PROFILES["city"]
    assert (CITY["Street"], CITY["Community"], CITY["Grid"], CITY["Compound"], CITY["Unit"], CITY["RedStation"]) == (
        city.streets, city.communities, city.grids, city.compounds, city.units, city.red_stations,
    )  # fmt: skip
    rows = generate("small", 3).rows
    communities = len(rows["Community"])
    for label in ("Building", "Household", "PartyMember", "Role", "BuildingGroup", "CentralHousehold",
                  "MemberReport", "OwnersCommittee", "PropertyService"):  # fmt: skip
        generated = len(rows[label]) / communities
        table = CITY[label] / CITY["Community"]
        assert generated / 2 <= table <= generated * 2, (label, generated, table)


def test_lists_of_the_model_cost_their_expected_rows() -> None:
    """A building's households cost 76 rows each, a compound's buildings 12: nested lists multiply."""
    assert per("Household", "Building") == 76
    assert per("Building", "Compound") == 12
    one = cost('{ building(code: "LD-1") { households { code } } }')
    assert one == 1 + 76 * 2
    nested = cost('{ compound(code: "XQ-1") { buildings { households { code } } } }')
    assert nested == 1 + 12 * (1 + 76 * 2)
    assert cost('{ compound(code: "XQ-1") { community { name } } }') == 1 + 2  # a single entity: no fan-out


def test_page_sizes_and_list_arguments_set_the_rows() -> None:
    gaps = 'query($n: Int!) { gaps(scope: "%s", first: $n) { edges { node { rule } } } }' % SUITE_CITY
    assert cost(gaps, {"n": 10}) == 1 + 10 * 3
    assert cost(gaps, {"n": 500}) == 1 + 500 * 3
    default = cost('{ network(root: "%s") { nodes { id } } }' % COMMUNITY)
    assert default == 1 + 500 * 2  # maxNodes defaults to 500
    assert cost('{ nodes(ids: ["a", "b", "c"]) { id } }') == 3 * 2
    # the same fragment spread twice costs twice, but is priced once
    fragment = "{ a: building(code: \"x\") { ...H } b: building(code: \"y\") { ...H } } fragment H on Building " \
               "{ households { code } }"  # fmt: skip
    assert cost(fragment) == 2 * (1 + 1 + 76 * 2)


def test_a_fragment_bomb_is_priced_in_linear_time() -> None:
    """Thirty fragments each spreading the next ten times: 10^30 fields once expanded, priced at once."""
    fragments = " ".join(f"fragment F{i} on Query {{ {' '.join([f'...F{i + 1}'] * 10)} }}" for i in range(30))
    query = "{ ...F0 } " + fragments + " fragment F30 on Query { __typename }"
    assert cost(query) > 10**30


def test_a_scope_sets_the_rows_of_a_partner_network() -> None:
    query = '{ partnerNetwork(scope: "%s") { links { hours } } }'
    assert cost(query % SUITE_CITY) > cost(query % STREET) > cost(query % COMMUNITY)


def test_a_history_costs_by_its_days() -> None:
    query = '{ coverageHistory(scope: "%s", from: "%s", to: "2026-01-01", every: %s) { points { figures { rate } } } }'
    ten_years, one_year = cost(query % (STREET, "2016-01-01", "MONTH")), cost(query % (STREET, "2025-01-01", "MONTH"))
    assert ten_years > 9 * one_year / 2
    assert cost(query % (STREET, "2016-01-01", "YEAR")) < one_year


def _page_documents() -> dict[str, tuple[str, dict[str, Any]]]:
    """Every query the network page sends (web/static/app/api.js), with the widest variables it sends."""
    source = (PROJECT_ROOT / "web" / "static" / "app" / "api.js").read_text()
    found = dict(re.findall(r"export const (\w+) = `(.*?)`;", source, re.S))
    variables: dict[str, dict[str, Any]] = {
        "GRIDS": {"code": COMMUNITY},
        "SEARCH": {"name": "花园"},
        "NETWORK": {"root": SUITE_CITY, "depth": 5, "max": 2000, "households": True},  # the page's widest
        "COVERAGE": {"scope": SUITE_CITY, "asOf": "2021-01-01"},
        "HISTORY": {"scope": SUITE_CITY, "to": "2021-01-01"},
        "CHAIN": {"code": "HU-420602001001-0001-10101", "scope": None},
        "NODE": {"id": "Q29tbXVuaXR5OjQyMDYwMjAwMTAwMQ=="},
    }
    assert set(found) == {"AREA_TREE", *variables}, "a new page query: give it its variables here"
    return {f"page {name}": (query, variables.get(name, {})) for name, query in found.items()}


def _bench_documents() -> dict[str, tuple[str, dict[str, Any]]]:
    """Every document bench/api.py sends to our service (the peer's, named *_PEER, are not ours)."""
    tree = ast.parse((PROJECT_ROOT / "bench" / "api.py").read_text())
    peer: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and (t.id.endswith("_PEER") or t.id == "_ANY") for t in node.targets
        ):
            peer.update(id(n) for n in ast.walk(node))
    texts = [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in peer
        if n.value.lstrip().startswith("{ ") and "(" in n.value
    ]
    docs = {}
    for text in texts:
        text = text.replace('"%s"', f'"{SUITE_CITY}"').replace("%s", "household_without_central_household")
        docs[f"bench {text[:60]}"] = (text, {})
    assert len(docs) >= 10
    return docs


DOCUMENTS = {
    **_page_documents(),
    **_bench_documents(),
    "GraphiQL's introspection": (get_introspection_query(descriptions=True, input_value_deprecation=True), {}),
}


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_the_page_and_the_benchmark_stay_well_within_every_limit(name: str) -> None:
    """The page's and the benchmark's documents (and GraphiQL's introspection) pass validation with the limits'
    rules, use at most a quarter of the tokens allowed, and cost at most half the budget per request."""
    query, variables = DOCUMENTS[name]
    document = parse(query)
    rules = [*specified_rules, alias_rule(LIMITS.aliases), depth_rule(LIMITS.depth, None)]
    errors = validate(SCHEMA._schema, document, rules)
    assert errors == [], errors
    assert tokens(query) <= LIMITS.tokens / 4
    spent = cost(query, variables)
    assert spent <= LIMITS.cost / 2, spent


# ---------------------------------------------------------------- over HTTP


def _refusal(body: dict[str, Any], code: str) -> dict[str, Any]:
    assert body.get("data") is None, body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == code, error
    zh, en = error["message"].split(" / ", 1)
    assert re.search(r"[\u4e00-\u9fff]", zh), error["message"]  # Chinese first, then English
    assert re.search(r"[a-z]{3}", en), error["message"]
    return error


async def test_a_body_declared_over_the_limit_is_refused_unread(client: AsyncClient) -> None:
    big = b'{"query": "{ __typename }", "x": "' + b"a" * LIMITS.graphql_body + b'"}'
    response = await client.post("/graphql", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413
    error = _refusal(response.json(), BAD_USER_INPUT)
    assert f"{LIMITS.graphql_body:,}" in error["message"]
    assert "connection" not in response.headers  # the little left unread is dropped, the connection kept
    huge = await client.post("/graphql", content=b"a" * (UNREAD_BODY + 2), headers={"content-type": "application/json"})
    assert huge.status_code == 413
    assert huge.headers["connection"] == "close"  # more than UNREAD_BODY left unread: never read, the connection closed
    small = await client.post("/graphql", json={"query": "{ __typename }"})
    assert small.status_code == 200
    assert small.json()["data"] == {"__typename": "Query"}


async def test_a_body_sent_without_a_length_is_read_only_to_the_limit(client: AsyncClient) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"query": "{ __typename }", "x": "'
        for _ in range(1000):  # 64 MB if it were all read
            sent += 65536
            yield b"a" * 65536

    response = await client.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    _refusal(response.json(), BAD_USER_INPUT)
    assert sent <= LIMITS.graphql_body + 2 * 65536
    assert response.headers["connection"] == "close"  # the rest, of unknown length, is never read


async def test_a_refusal_before_a_chunked_body_is_read_closes_the_connection(anonymous: AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ __typename }"}'

    unread = await anonymous.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
    assert unread.status_code == 401
    assert unread.headers["connection"] == "close"
    declared = await anonymous.post("/graphql", json={"query": "{ __typename }"})
    assert declared.status_code == 401
    assert "connection" not in declared.headers


async def test_other_routes_have_their_own_smaller_body_limit(anonymous: AsyncClient) -> None:
    response = await anonymous.post("/token", json={"login": "x" * LIMITS.form_body, "password": "y"})
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == BAD_USER_INPUT
    assert "请求体过大" in error["message"]


async def test_a_query_string_over_its_limit_is_refused(client: AsyncClient) -> None:
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(2000)) + " }"
    response = await client.get("/graphql", params={"query": query})
    assert response.status_code == 414
    _refusal(response.json(), BAD_USER_INPUT)


async def test_tokens_past_the_limit_stop_the_parser(client: AsyncClient) -> None:
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(LIMITS.tokens)) + " }"
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200
    error = _refusal(response.json(), BAD_USER_INPUT)
    assert str(LIMITS.tokens) in error["message"]
    assert "GRASSROOTS_MAX_TOKENS" in error["message"]
    spec = await client.post("/graphql", json={"query": query}, headers={"accept": "application/graphql-response+json"})
    assert spec.status_code == 400


async def test_aliases_past_the_limit_are_refused(client: AsyncClient) -> None:
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(LIMITS.aliases + 1)) + " }"
    error = _refusal((await client.post("/graphql", json={"query": query})).json(), QUERY_TOO_COMPLEX)
    assert error["extensions"]["found"] == LIMITS.aliases + 1
    assert error["extensions"]["limit"] == LIMITS.aliases
    within = "{ " + " ".join(f"a{i}: __typename" for i in range(LIMITS.aliases)) + " }"
    assert "errors" not in (await client.post("/graphql", json={"query": within})).json()


async def test_depth_past_the_limit_is_refused(client: AsyncClient) -> None:
    nested = "name"
    for level in reversed(range(LIMITS.depth)):  # compounds { community { compounds { … } } } under a community
        nested = ("compounds { %s }" if level % 2 == 0 else "community { %s }") % nested
    query = '{ community(code: "%s") { %s } }' % (COMMUNITY, nested)  # one level too deep
    error = _refusal((await client.post("/graphql", json={"query": query})).json(), QUERY_TOO_COMPLEX)
    assert f"{LIMITS.depth}" in error["message"]
    assert "GRASSROOTS_MAX_DEPTH" in error["message"]


async def test_a_list_argument_past_the_limit_is_refused(client: AsyncClient) -> None:
    ids = [f"id{i}" for i in range(LIMITS.list_items + 1)]
    body = (await client.post("/graphql", json={"query": "query($i: [ID!]!) { nodes(ids: $i) { id } }",
                                                "variables": {"i": ids}})).json()  # fmt: skip
    error = _refusal(body, BAD_USER_INPUT)
    assert "nodes(ids:)" in error["message"]
    assert error["extensions"]["found"] == len(ids)
    kinds = "[" + ", ".join(["building_without_group"] * (LIMITS.list_items + 1)) + "]"
    literal = '{ gaps(scope: "%s", kinds: %s, first: 1) { totalCount } }' % (SUITE_CITY, kinds)
    _refusal((await client.post("/graphql", json={"query": literal})).json(), BAD_USER_INPUT)


async def test_a_request_over_its_cost_budget_is_refused_before_it_runs(client: AsyncClient) -> None:
    """Every household of a street, with its building, compound and community: about 170,000 values."""
    query = '{ street(code: "%s") { communities { compounds { buildings { households { code room } } } } } }' % STREET
    expected = cost(query)
    assert expected > LIMITS.cost
    error = _refusal((await client.post("/graphql", json={"query": query})).json(), QUERY_TOO_COMPLEX)
    assert error["extensions"] == {"code": QUERY_TOO_COMPLEX, "cost": expected, "budget": LIMITS.cost}
    assert f"{expected:,}" in error["message"]
    assert f"{LIMITS.cost:,}" in error["message"]


async def test_the_cost_is_in_the_answer_when_asked(client: AsyncClient, small: dict[str, Any]) -> None:
    query = '{ street(code: "%s") { communities { code grids { code } } } }' % STREET
    asked = (await client.post("/graphql", json={"query": query}, headers={COST_HEADER: "1"})).json()
    assert "errors" not in asked
    assert asked["data"]["street"]["communities"]
    answer = asked["extensions"]["cost"]
    assert answer["requested"] == cost(query)
    assert answer["budget"] == LIMITS.cost
    assert answer["perMinute"]["budget"] == LIMITS.cost_per_minute
    assert 0 <= answer["perMinute"]["remaining"] <= LIMITS.cost_per_minute - answer["requested"]
    plain = (await client.post("/graphql", json={"query": query})).json()
    assert "cost" not in (plain.get("extensions") or {})


@pytest.fixture(scope="module")
async def stingy(settings: Settings, app: Starlette) -> AsyncIterator[AsyncClient]:
    """The app with a per-minute budget of two small requests, signed in as the suite's admin."""
    budget = {"GRASSROOTS_MAX_COST": 1000, "GRASSROOTS_COST_PER_MINUTE": 1000}
    async with own_app(settings, **budget) as running, running.client() as http:
        yield http


async def test_an_account_over_its_budget_per_minute_waits(stingy: AsyncClient, small: dict[str, Any]) -> None:
    query = '{ street(code: "%s") { communities { code name grids { code name } } } }' % STREET
    spent = cost(query)
    assert 1000 / 3 < spent <= 1000 / 2  # two fit in the minute, a third does not
    for _ in range(2):
        body = (await stingy.post("/graphql", json={"query": query})).json()
        assert "errors" not in body, body
    error = _refusal((await stingy.post("/graphql", json={"query": query})).json(), RATE_LIMITED)
    assert 1 <= error["extensions"]["retryAfter"] <= 60
    assert error["extensions"]["budget"] == 1000
    assert error["extensions"]["cost"] == spent
    assert "1,000" in error["message"]
    assert "retry in" in error["message"]
