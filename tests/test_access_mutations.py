"""Mutations by each role, inside and outside its scope: allowed, or FORBIDDEN with the graph unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

from graph.driver import Graph
from graph.settings import Settings
from tests.helpers import FINGERPRINT, SUITE_CITY, bearer, ensure_account

UPDATE = "mutation($i: GridBranchInput!) { updateGridBranch(input: $i) { actor code after } }"
MOVE = "mutation($b: String!, $g: String!) { moveBuilding(building: $b, toGroup: $g) { actor } }"
AUDIT_LOG = "{ auditLog(first: 5) { code actor } }"


async def _as(http: AsyncClient, settings: Settings, login: str, query: str, **variables: Any) -> dict[str, Any]:
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=bearer(settings, login)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _fingerprint(graph: Graph) -> Any:
    return (await graph.read_rows(FINGERPRINT))[0]["nodes"]


@pytest.fixture(scope="module")
async def places(graph: Graph, small: dict[str, Any]) -> dict[str, Any]:
    """Two communities of the small city, a grid branch in each, and one account per role and scope."""
    rows = small["data"].rows
    mine, other = rows["Community"][0]["code"], rows["Community"][1]["code"]
    branches = {c: next(b for b in rows["GridBranch"] if b["code"].split("-")[1] == c) for c in (mine, other)}
    street = rows["Street"][0]["code"]
    grid = next(g["code"] for g in rows["Grid"] if g["community_code"] == mine)
    accounts = {
        "street.editor": ("editor", street),
        "mine.editor": ("editor", mine),
        "mine.admin": ("admin", mine),
        "mine.auditor": ("auditor", mine),
        "mine.viewer": ("viewer", mine),
        "grid.editor": ("editor", grid),
        "city.viewer": ("viewer", SUITE_CITY),
    }
    for login, (role, scope) in accounts.items():
        await ensure_account(graph, login, role, scope)
    return {"mine": mine, "other": other, "branches": branches, "rows": rows}


@pytest.mark.parametrize(
    ("login", "inside", "outside"),
    [
        ("street.editor", True, True),
        ("mine.admin", True, False),
        ("mine.editor", True, False),
        ("mine.auditor", False, False),
        ("mine.viewer", False, False),
        ("city.viewer", False, False),
        ("grid.editor", False, False),  # a grid's account reads; edits are filed by community
    ],
)
async def test_each_role_writes_only_inside_its_scope(
    anonymous: AsyncClient, graph: Graph, settings: Settings, places: dict[str, Any],
    login: str, inside: bool, outside: bool,
) -> None:  # fmt: skip
    for community, allowed in ((places["mine"], inside), (places["other"], outside)):
        branch = places["branches"][community]
        before = await _fingerprint(graph)
        body = await _as(anonymous, settings, login, UPDATE, i={"code": branch["code"], "name": f"{login}改名"})
        if allowed:
            assert "errors" not in body, body
            assert body["data"]["updateGridBranch"]["actor"] == login
            assert body["data"]["updateGridBranch"]["after"]["name"] == f"{login}改名"
        else:
            assert body["data"] is None
            error = body["errors"][0]
            assert error["extensions"]["code"] == "FORBIDDEN", error
            assert await _fingerprint(graph) == before, "a refused edit changed the graph"


async def test_an_edit_may_not_move_an_entity_out_of_the_editors_scope(
    anonymous: AsyncClient, graph: Graph, settings: Settings, places: dict[str, Any]
) -> None:
    branch = places["branches"][places["mine"]]
    foreign = next(c["code"] for c in places["rows"]["CommunityCommittee"] if c["community_code"] == places["other"])
    before = await _fingerprint(graph)
    moved = {"code": branch["code"], "committeeCode": foreign, "gridCodes": [], "compoundCodes": []}
    body = await _as(anonymous, settings, "mine.editor", UPDATE, i=moved)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    assert places["other"] in body["errors"][0]["message"]
    assert await _fingerprint(graph) == before


async def test_a_building_of_another_community_cannot_be_moved(
    anonymous: AsyncClient, graph: Graph, settings: Settings, places: dict[str, Any]
) -> None:
    rows = places["rows"]
    building = next(b["code"] for b in rows["Building"] if b["code"].split("-")[1] == places["other"])
    group = next(g["code"] for g in rows["BuildingGroup"] if g["code"].split("-")[1] == places["other"])
    before = await _fingerprint(graph)
    body = await _as(anonymous, settings, "mine.editor", MOVE, b=building, g=group)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    assert await _fingerprint(graph) == before


async def test_the_audit_log_shows_each_reader_only_its_own_area(
    anonymous: AsyncClient, settings: Settings, places: dict[str, Any]
) -> None:
    await _as(anonymous, settings, "street.editor", UPDATE,
              i={"code": places["branches"][places["other"]]["code"], "name": "别处的改名"})  # fmt: skip
    mine = await _as(anonymous, settings, "mine.auditor", AUDIT_LOG)
    codes = {e["code"] for e in mine["data"]["auditLog"]}
    assert codes
    assert all(code.split("-")[1] == places["mine"] for code in codes), codes
    street = await _as(anonymous, settings, "street.editor", AUDIT_LOG)
    assert {e["code"].split("-")[1] for e in street["data"]["auditLog"]} >= {places["other"]}
    refused = await _as(anonymous, settings, "mine.viewer", AUDIT_LOG)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "查看者" in refused["errors"][0]["message"]
