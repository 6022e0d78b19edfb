"""The executor's shortcuts (schema/execution.py) answer exactly what graphql-core's own path answers."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry

from graph.driver import Graph
from schema.api import Context, build_schema
from schema.execution import FastFieldsExecution

QUERIES = {
    "nested names": """query($street: String!) { street(code: $street) { name communities { name grids { name
        gridBranches { name buildingGroups { name } } } } } }""",
    "aliases of one relationship, different selections": """query($street: String!) { street(code: $street) {
        a: communities { code } b: communities { name grids { code } } c: communities { __typename centralCity } } }""",
    "identity fields need the code": """query($street: String!) { street(code: $street) { communities {
        id label type grids { id name } } } }""",
    "directives and fragments": """query($street: String!, $yes: Boolean!, $no: Boolean!) { street(code: $street) {
        communities { name @include(if: $yes) code @skip(if: $yes) ...C grids @include(if: $no) { code } } } }
        fragment C on Community { compounds { code } grids { ... on Grid { name __typename } } }""",
    "dated relationships left to a DataLoader below prefetched ones": """query($street: String!) {
        street(code: $street) { communities { name unitReports { __typename } grids { compounds { name } } } } }""",
}


@pytest.mark.parametrize("name", sorted(QUERIES))
async def test_shortcuts_answer_what_graphql_core_answers(graph: Graph, small: dict[str, Any], name: str) -> None:
    street = small["data"].rows["Street"][0]["code"]
    variables = {"street": street, "yes": True, "no": False}
    fast, plain = build_schema(), build_schema(shortcuts=False)
    assert fast.execution_context_class is not plain.execution_context_class
    got = await fast.execute(QUERIES[name], variable_values=variables, context_value=Context(graph=graph, request=None))
    want = await plain.execute(
        QUERIES[name], variable_values=variables, context_value=Context(graph=graph, request=None)
    )
    assert got.errors is None, got.errors
    assert want.errors is None, want.errors
    assert got.data == want.data
    assert any(isinstance(v, list) and v for v in got.data["street"].values()), "the street has communities"


@strawberry.type
class Thing:
    code: str
    name: str | None = None


@strawberry.type
class Things:
    @strawberry.field
    def things(self) -> list[Thing]:
        broken = Thing(code="b")
        broken.code = None  # type: ignore[assignment] - a non-null field with no value
        return [Thing(code="a", name="甲"), broken]


async def test_a_null_in_a_non_null_field_is_still_reported_where_it_is() -> None:
    """The plain-field paths hand unusual values to graphql-core, which reports them as it always does."""
    fast = strawberry.Schema(query=Things, execution_context_class=FastFieldsExecution)
    plain = strawberry.Schema(query=Things)
    got, want = await fast.execute("{ things { name code } }"), await plain.execute("{ things { name code } }")
    assert got.data is None
    assert got.errors is not None
    assert want.errors is not None
    assert [e.path for e in got.errors] == [e.path for e in want.errors] == [["things", 1, "code"]]
    assert [e.message for e in got.errors] == [e.message for e in want.errors]
