"""Errors never leak (issue 22): a variable of the wrong type is BAD_USER_INPUT (200 for application/json, 400 for
application/graphql-response+json) with no traceback and no echo of its value, nothing of it in the log; a read
past NEO4J_QUERY_TIMEOUT is QUERY_TIMEOUT naming the limit."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from httpx import AsyncClient

from graph.driver import Graph, QueryTimeout
from graph.settings import Settings
from tests.helpers import make_settings

ID_AND_PHONE = "420602199001011237 13812345678"
#: Anything shaped like an ID number or a mobile phone.
PERSONAL = re.compile(r"\d{17}[\dXx]|1[3-9]\d{9}")

WRONG = [
    ('query($v: Int!) { gaps(scope: "420600000000", first: $v) { totalCount } }', "Int!"),
    ('query($v: Date) { coverage(scope: "420600000000", asOf: $v) { asOf } }', "Date"),
    ('query($v: [GapKind!]) { gaps(scope: "420600000000", kinds: $v) { totalCount } }', "[GapKind!]"),
    ('query($v: Boolean!) { network(root: "420600000000", households: $v) { truncated } }', "Boolean!"),
    ("query($v: [ID!]!) { nodes(ids: $v) { id } }", "[ID!]!"),
]


def _shown(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)


@pytest.mark.parametrize(("query", "type_"), WRONG)
async def test_a_wrong_typed_variable_is_bad_user_input_and_never_logged(
    client: AsyncClient, small: dict[str, Any], caplog: pytest.LogCaptureFixture, query: str, type_: str
) -> None:
    caplog.set_level(logging.DEBUG, logger="grassroots")
    caplog.set_level(logging.DEBUG, logger="schema")
    caplog.set_level(logging.INFO)
    value = {"Int!": ID_AND_PHONE, "Date": ID_AND_PHONE, "Boolean!": ID_AND_PHONE}.get(type_, [{"x": ID_AND_PHONE}])
    response = await client.post("/graphql", json={"query": query, "variables": {"v": value}})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "$v" in error["message"]
    assert type_ in error["message"]
    assert " / " in error["message"]
    assert "Traceback" not in response.text
    assert not PERSONAL.search(response.text)
    assert not PERSONAL.search(_shown(caplog)), _shown(caplog)
    assert not any(r.exc_info for r in caplog.records)
    assert any("graphql_request_refused" in r.getMessage() for r in caplog.records)

    spec = await client.post(
        "/graphql",
        json={"query": query, "variables": {"v": value}},
        headers={"accept": "application/graphql-response+json"},
    )
    assert spec.status_code == 400
    assert spec.headers["content-type"].startswith("application/graphql-response+json")
    assert "data" not in spec.json()
    assert spec.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_missing_or_null_variable_is_bad_user_input(client: AsyncClient, small: dict[str, Any]) -> None:
    query = 'query($v: Int!) { gaps(scope: "420600000000", first: $v) { totalCount } }'
    for variables in ({}, {"v": None}):
        body = (await client.post("/graphql", json={"query": query, "variables": variables})).json()
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
        assert "$v" in body["errors"][0]["message"]


async def test_a_variable_the_document_misuses_is_named_for_what_is_wrong(
    client: AsyncClient, small: dict[str, Any]
) -> None:
    """Validation errors on a variable (never used, used where another type belongs) say so — not that its value
    is invalid, which sent a user looking for a fault in values that were right."""
    unused = 'query($v: [String!]!) { gaps(scope: "420600000000", first: 0) { totalCount } }'
    body = (await client.post("/graphql", json={"query": unused, "variables": {"v": ["a"]}})).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    assert "未被使用" in body["errors"][0]["message"]
    assert "never used" in body["errors"][0]["message"]
    misplaced = 'query($v: String) { gaps(scope: "420600000000", first: $v) { totalCount } }'
    body = (await client.post("/graphql", json={"query": misplaced, "variables": {"v": "1"}})).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    assert "another type is expected" in body["errors"][0]["message"], body


#: A read that takes seconds on any data: Neo4j ends it past the time-out.
SLOW = "UNWIND range(1, 300000000) AS x WITH x WHERE x % 7 = 99 RETURN count(x) AS n"


async def test_a_read_past_the_time_out_is_query_timeout_naming_the_limit(settings: Settings) -> None:
    graph = Graph(make_settings(NEO4J_URI=settings.neo4j_uri, NEO4J_QUERY_TIMEOUT=0.5))
    try:
        with pytest.raises(QueryTimeout, match=r"0\.5 s .*NEO4J_QUERY_TIMEOUT") as raised:
            await graph.read_rows(SLOW)
        assert raised.value.seconds == 0.5
        assert (await graph.read_rows("RETURN 1 AS ok")) == [{"ok": 1}]  # the pool is fine afterwards
    finally:
        await graph.close()


async def test_a_graphql_read_past_the_time_out_answers_query_timeout(
    settings: Settings, small: dict[str, Any]
) -> None:
    """Through the schema: the resolver's read times out; the field's error is QUERY_TIMEOUT with the limit."""
    import strawberry

    from schema import build_schema
    from schema.common import Context

    graph = Graph(make_settings(NEO4J_URI=settings.neo4j_uri, NEO4J_QUERY_TIMEOUT=0.5))

    @strawberry.type
    class Slow:
        @strawberry.field
        async def slow(self, info: strawberry.Info) -> int:
            return (await info.context.graph.read_rows(SLOW))[0]["n"]

    schema = build_schema()
    try:
        ours = strawberry.Schema(query=Slow, extensions=schema.extensions)
        result = await ours.execute("{ slow }", context_value=Context(graph=graph))
    finally:
        await graph.close()
    (error,) = result.errors or []
    assert error.extensions == {"code": "QUERY_TIMEOUT"}
    assert "0.5 s" in error.message
    assert "NEO4J_QUERY_TIMEOUT" in error.message
