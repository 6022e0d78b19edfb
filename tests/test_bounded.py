"""Bounded execution (issue 22): a request's read cap and its transactions at once, the query-shape LRU, the
per-account cap on requests in flight and the server-wide audit build queue — each hit and refused, the others
unaffected. The caps are made tiny in an app of the test's own (same Neo4j, same accounts)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import AsyncClient

from graph.bounds import RequestGraph, TooManyRoundTrips
from graph.driver import Graph
from graph.settings import PROJECT_ROOT, Settings
from tests.helpers import SUITE_ADMIN, OwnApp, ensure_account, own_app

CITY = "420600000000"
OTHER = "bounded-other"
ME = "{ me { login } }"


@pytest.fixture(scope="module")
async def tight(settings: Settings, small: dict[str, Any]) -> AsyncIterator[OwnApp]:
    """The real app with tiny caps: 3 reads a request, 2 at once, 2 requests per account, 1 audit build + 1 waiting."""
    async with own_app(
        settings,
        GRASSROOTS_MAX_ROUND_TRIPS=3,
        GRASSROOTS_REQUEST_CONCURRENCY=2,
        GRASSROOTS_ACCOUNT_CONCURRENCY=2,
        GRASSROOTS_AUDIT_BUILDS=1,
        GRASSROOTS_AUDIT_QUEUE=1,
        GRASSROOTS_AUDIT_WAIT=20,
    ) as running:
        await ensure_account(running.app.state.graph, SUITE_ADMIN)
        await ensure_account(running.app.state.graph, OTHER)
        yield running


async def test_reads_past_the_cap_are_refused_naming_it(tight: OwnApp) -> None:
    async with tight.client() as http:
        body = (
            await http.post("/graphql", json={"query": "{ %s }" % " ".join(f"a{i}: me {{ login }}" for i in range(5))})
        ).json()
        answered = [k for k, v in body["data"].items() if v is not None]
        assert len(answered) == 3, body
        assert len(body["errors"]) == 2
        for error in body["errors"]:
            assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
            assert "3" in error["message"]
            assert "GRASSROOTS_MAX_ROUND_TRIPS" in error["message"]
            assert " / " in error["message"]
        # the cap is the request's own: the next request reads again
        again = (await http.post("/graphql", json={"query": ME})).json()
        assert again == {"data": {"me": {"login": SUITE_ADMIN}}}


async def test_a_failing_field_under_a_shared_batch_is_an_error_not_a_crash(tight: OwnApp) -> None:
    """Past the cap inside DataLoader batches awaited by many fields (null propagation cancels some): errors with
    codes, never an escaped CancelledError or a 500."""
    query = (
        '{ street(code: "420602001000") { code } search(codePrefix: "WG-", types: [Grid], first: 5) { edges { node '
        "{ ... on Grid { buildings { households { code } } gridBranches { code } community { code } } } } } }"
    )
    async with tight.client() as http:
        response = await http.post("/graphql", json={"query": query})
    assert response.status_code == 200
    codes = {e["extensions"]["code"] for e in response.json()["errors"]}
    assert codes == {"QUERY_TOO_COMPLEX"}


async def test_a_request_runs_a_few_transactions_at_once_and_others_are_not_held(graph: Graph) -> None:
    running, most = 0, 0

    async def slow(tx: Any) -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await (await tx.run("RETURN 1 AS x")).consume()
        await asyncio.sleep(0.3)
        running -= 1
        return 1

    busy = RequestGraph(graph, max_round_trips=100, concurrency=2)
    other = RequestGraph(graph, max_round_trips=100, concurrency=2)
    start = time.perf_counter()
    many = asyncio.gather(*(busy.read(slow) for _ in range(6)))
    await asyncio.sleep(0.05)
    t0 = time.perf_counter()
    await other.read_rows("RETURN 1 AS x")
    beside = time.perf_counter() - t0
    assert await many == [1] * 6
    assert most <= 2 + 0  # `other` ran no slow work
    assert time.perf_counter() - start >= 0.85  # 6 × 0.3 s, two at a time
    assert beside < 0.5, beside
    assert busy.round_trips == 6
    assert busy.reads == 6


async def test_a_request_graph_refuses_reads_past_its_cap_but_never_writes(graph: Graph) -> None:
    view = RequestGraph(graph, max_round_trips=2)
    await view.read_rows("RETURN 1 AS x")
    await view.read_rows("RETURN 1 AS x")
    with pytest.raises(TooManyRoundTrips, match="GRASSROOTS_MAX_ROUND_TRIPS"):
        await view.read_rows("RETURN 1 AS x")
    assert (await view.write_rows("RETURN 1 AS x")) == [{"x": 1}]


def test_the_query_shape_cache_is_a_bounded_lru() -> None:
    code = """
from graph import entities as ent
from schema.entities import plan_prefetch
hop = ent.Hop("Community", "IN_COMMUNITY", ("Grid",), False)
columns = ("name", "note", "x1", "x2", "x3", "x4", "x5")
levels = [ent.Level(("code",), (("grids", hop, ent.Level(tuple(sorted({"code", c})))),)) for c in columns]
for level in levels:
    ent.prefetch_query("Community", level)
info = ent.prefetch_query.cache_info()
print(info.maxsize, info.currsize)
"""
    env = {**os.environ, "GRASSROOTS_QUERY_CACHE": "4", "PYTHONPATH": str(PROJECT_ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=PROJECT_ROOT
    )
    assert out.stdout.split() == ["4", "4"], out


async def _held(http: AsyncClient, release: asyncio.Event) -> int:
    """A GraphQL request whose body arrives only once `release` is set: in flight until then."""

    async def body() -> AsyncIterator[bytes]:
        yield b'{"query": "'
        await release.wait()
        yield b'{ me { login } }"}'

    response = await http.post("/graphql", content=body(), headers={"content-type": "application/json"})
    return response.status_code


async def test_an_account_past_its_requests_in_flight_gets_429_others_do_not(tight: OwnApp) -> None:
    release = asyncio.Event()
    async with tight.client() as mine, tight.client(OTHER) as theirs:
        held = [asyncio.ensure_future(_held(mine, release)) for _ in range(2)]
        await asyncio.sleep(0.3)
        refused = await mine.post("/graphql", json={"query": ME})
        beside = await theirs.post("/graphql", json={"query": ME})
        release.set()
        assert await asyncio.gather(*held) == [200, 200]
        after = await mine.post("/graphql", json={"query": ME})
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "TOO_MANY_REQUESTS"
    assert " / " in error["message"]
    assert "2" in error["message"]
    assert beside.status_code == 200
    assert beside.json()["data"]["me"]["login"] == OTHER
    assert after.status_code == 200


async def test_audit_builds_wait_in_a_bounded_queue_then_429(tight: OwnApp) -> None:
    from reports.http import BuildQueue

    async with tight.client() as http, tight.client(OTHER) as other:
        await http.get(f"/reports/audit.zip?scope={CITY}")  # makes the app's queue
        queue: BuildQueue = tight.app.state.audit_builds
        async with queue.slot():  # the one build slot is taken
            waiting = asyncio.ensure_future(http.get(f"/reports/audit.xlsx?scope={CITY}"))
            await asyncio.sleep(0.3)
            assert queue.waiting == 1
            refused = await other.get(f"/reports/audit.xlsx?scope={CITY}")
            assert not waiting.done()
        done = await waiting
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "5"
    assert refused.json()["error"]["code"] == "TOO_MANY_REQUESTS"
    assert "GRASSROOTS_AUDIT_BUILDS" in refused.json()["error"]["message"]
    assert done.status_code == 200
    assert done.content[:2] == b"PK"
    assert queue.running == 0
    assert queue.waiting == 0


async def test_nodes_resolves_every_id_in_one_transaction(client: AsyncClient, small: dict[str, Any]) -> None:
    import base64

    graph: Graph = client._transport.app.state.graph  # type: ignore[attr-defined]
    rows = small["data"].rows
    ids = [
        base64.b64encode(f"{label}:{r['code']}".encode()).decode()
        for label in ("Household", "Building", "Grid")
        for r in rows[label][:40]
    ]
    ids.append(base64.b64encode(b"Grid:WG-000000000000-999").decode())  # absent
    before = graph.round_trips
    response = await client.post(
        "/graphql",
        json={
            "query": "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Entity { code type } } }",
            "variables": {"ids": ids},
        },
    )
    trips = graph.round_trips - before - 1  # the caller's account is read first
    nodes = response.json()["data"]["nodes"]
    assert trips == 1, trips
    assert len(nodes) == len(ids)
    assert nodes[-1] is None
    assert [n["code"] for n in nodes[:40]] == [r["code"] for r in rows["Household"][:40]]
    assert all(n is not None for n in nodes[:-1])
