"""A fuzz of the real app with hypothesis-graphql (issue 22): generated queries (its own, invalid ones, and deeper
ones of ours) and variables of every type and of the wrong type, on the small city. However wrong the request:
no INTERNAL_SERVER_ERROR, no unhandled exception or traceback in the log, no ID-number or phone-shaped string
in any log record. Read-only: mutations are not generated (the `small` city is shared by the module).
Bounded: a few hundred examples, no deadline, well under 90 s."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import re
from datetime import date
from typing import Any

import graphql
import pytest
from httpx import AsyncClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, queries

from schema.export import SDL

#: Anything shaped like an ID number or a mobile phone.
PERSONAL = re.compile(r"\d{17}[\dXx]|1[3-9]\d{9}")
ID_AND_PHONE = "420602199001011237 13812345678"
SCHEMA = graphql.build_schema(SDL.read_text(encoding="utf-8"))
SCALARS = {
    "Date": st.dates(date(2000, 1, 1), date(2030, 12, 31)).map(lambda d: graphql.StringValueNode(value=d.isoformat())),
    "JSON": st.just(graphql.StringValueNode(value="{}")),
}
#: Root fields whose answers are bounded on the small city (auditLog/accessLog/accounts too).
CODES = st.sampled_from(["420600000000", "420602000000", "420602001000", "420602001001", "WG-420602001001-01", ""])
#: Wrong values for any variable: the ID number and phone, numbers, lists, objects, nulls.
JUNK = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.just(ID_AND_PHONE)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


def _root_args() -> list[tuple[str, str, str]]:
    """(root field, argument, its type) of every Query argument."""
    query = SCHEMA.query_type
    assert query is not None
    return [(name, arg, str(a.type)) for name, f in query.fields.items() for arg, a in f.args.items()]


ARGS = _root_args()


def _leaf(type_: Any) -> str:
    named = graphql.get_named_type(type_)
    if isinstance(named, graphql.GraphQLObjectType | graphql.GraphQLInterfaceType):
        return "{ __typename }"
    return ""


@st.composite
def deep_queries(draw: st.DrawFn, depth: int = 6) -> str:
    """A query `depth` levels deep along relationship fields with no required arguments (deeper than the
    library's), starting from a look-up by code."""
    query = SCHEMA.query_type
    assert query is not None
    root = draw(st.sampled_from(["street", "community", "grid", "compound", "building"]))
    types = [graphql.get_named_type(query.fields[root].type)]
    names: list[str] = []
    for _ in range(depth):
        fields = [
            (n, f)
            for n, f in types[-1].fields.items()
            if not any(graphql.is_required_argument(a) for a in f.args.values())
            and isinstance(graphql.get_named_type(f.type), graphql.GraphQLObjectType)
        ]
        if not fields:
            break
        name, field = draw(st.sampled_from(fields))
        names.append(name)
        types.append(graphql.get_named_type(field.type))
    text = "{ __typename }"
    for name, owner in reversed(list(zip(names, types, strict=False))):
        text = "{ %s%s %s }" % ("code " if "code" in owner.fields else "", name, text)
    return '{ %s(code: "%s") %s }' % (root, draw(CODES), text)


@st.composite
def variable_requests(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """One root field with one argument passed as a variable of its declared type, given a value of any type."""
    root, arg, type_ = draw(st.sampled_from(ARGS))
    field = SCHEMA.query_type.fields[root]  # type: ignore[union-attr]
    others = ", ".join(
        f'{a}: "420602001000"' for a, d in field.args.items() if a != arg and graphql.is_required_argument(d)
    )
    args = f"{arg}: $v" + (f", {others}" if others else "")
    return f"query($v: {type_}) {{ {root}({args}) {_leaf(field.type)} }}", {"v": draw(JUNK)}


REQUESTS = st.one_of(
    queries(SCHEMA, custom_scalars=SCALARS, allow_x00=False).map(lambda q: (q, {})),
    queries(SCHEMA, custom_scalars=SCALARS, allow_x00=False, mode=Mode.NEGATIVE).map(lambda q: (q, {})),
    deep_queries().map(lambda q: (q, {})),
    variable_requests(),
)


async def test_the_fuzz_finds_no_server_error_and_no_leak(
    client: AsyncClient, small: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    seen: list[tuple[str, dict[str, Any], int, dict[str, Any]]] = []
    loop = asyncio.get_running_loop()

    def post(query: str, variables: dict[str, Any]) -> None:
        future = asyncio.run_coroutine_threadsafe(
            client.post("/graphql", json={"query": query, "variables": variables}), loop
        )
        response = future.result(timeout=60)
        seen.append((query, variables, response.status_code, response.json()))

    @settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(REQUESTS)
    def fuzz(request: tuple[str, dict[str, Any]]) -> None:
        post(*request)

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        await loop.run_in_executor(pool, fuzz)

    assert len(seen) >= 150
    internal = [(q, v, b) for q, v, _, b in seen if "INTERNAL_SERVER_ERROR" in str(b)]
    assert not internal, internal[:3]
    assert all(status in (200, 400) for _, _, status, _ in seen), {s for *_, s, _ in seen}
    assert not any("Traceback" in str(b) for *_, b in seen)
    assert any(b.get("data") for *_, b in seen)  # the fuzz reached resolvers, not only refusals
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], [
        r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR
    ][:3]
    leaked = [r.getMessage() for r in caplog.records if PERSONAL.search(f"{r.getMessage()} {r.exc_text or ''}")]
    assert not leaked, leaked[:3]
