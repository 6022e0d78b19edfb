"""An admin manages the accounts inside its scope over the API: list, add, new password, disable — never beyond."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient

from graph.driver import Graph
from graph.settings import Settings
from tests.helpers import bearer, ensure_account

ADD = """mutation($l: String!, $r: AccountRole!, $s: String!) {
  addAccount(login: $l, role: $r, scope: $s, name: "新同事") { password account { login role scope { code } } } }"""
RESET = "mutation($l: String!) { resetPassword(login: $l) { password } }"
DISABLE = "mutation($l: String!) { disableAccount(login: $l) { login disabled } }"
LIST = "{ accounts { login scope { code } } }"
ME = "{ me { login } }"


async def _as(http: AsyncClient, headers: dict[str, str], query: str, **variables: Any) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    return response.json()


def _code(body: dict[str, Any]) -> str:
    return body["errors"][0]["extensions"]["code"]


async def test_an_admin_manages_only_the_accounts_inside_its_scope(
    anonymous: AsyncClient, graph: Graph, settings: Settings, small: dict[str, Any]
) -> None:
    mine, other = (c["code"] for c in small["data"].rows["Community"][:2])
    await ensure_account(graph, "admin.mine", "admin", mine)
    await ensure_account(graph, "editor.mine", "editor", mine)
    await ensure_account(graph, "admin.other", "admin", other)
    admin = bearer(settings, "admin.mine")

    added = await _as(anonymous, admin, ADD, l="new.colleague", r="viewer", s=mine)
    assert "errors" not in added, added
    made = added["data"]["addAccount"]
    assert made["account"] == {"login": "new.colleague", "role": "viewer", "scope": {"code": mine}}
    signed = await anonymous.post("/token", json={"login": "new.colleague", "password": made["password"]})
    assert signed.status_code == 200
    token = {"Authorization": f"Bearer {signed.json()['token']}"}
    assert (await _as(anonymous, token, ME))["data"]["me"]["login"] == "new.colleague"

    outside = await _as(anonymous, admin, ADD, l="far.away", r="viewer", s=other)
    assert _code(outside) == "FORBIDDEN"
    wider = await _as(anonymous, admin, ADD, l="too.wide", r="admin", s=small["data"].rows["Street"][0]["code"])
    assert _code(wider) == "FORBIDDEN"
    assert _code(await _as(anonymous, bearer(settings, "editor.mine"), ADD, l="by.editor", r="viewer", s=mine)) == (
        "FORBIDDEN"
    )
    listed = {a["login"] for a in (await _as(anonymous, admin, LIST))["data"]["accounts"]}
    assert {"admin.mine", "editor.mine", "new.colleague"} <= listed
    assert "admin.other" not in listed
    assert "suite-admin" not in listed  # a city's admin lies above a community's
    # another admin's account is as unknown as a missing one; one's own cannot be disabled
    assert _code(await _as(anonymous, admin, RESET, l="admin.other")) == "FORBIDDEN"
    assert _code(await _as(anonymous, admin, DISABLE, l="admin.mine")) == "FORBIDDEN"

    reset = await _as(anonymous, admin, RESET, l="new.colleague")
    assert reset["data"]["resetPassword"]["password"] != made["password"]
    assert (await anonymous.post("/graphql", json={"query": ME}, headers=token)).status_code == 401
    disabled = await _as(anonymous, admin, DISABLE, l="new.colleague")
    assert disabled["data"]["disableAccount"] == {"login": "new.colleague", "disabled": True}

    log = await _as(anonymous, admin, '{ auditLog(code: "new.colleague") { action actor after } }')
    entries = log["data"]["auditLog"]
    assert [e["action"] for e in entries] == ["disable account", "reset password", "add account"]
    assert {e["actor"] for e in entries} == {"admin.mine"}
    assert "password" not in str(entries).lower().replace("reset password", "")
