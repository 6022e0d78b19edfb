"""Accounts in the graph: one `_User` node per login (internal, like `_Migration`; never read by the API's
entity queries, which name their labels).

A `_User` holds the display name, role, scope code, the password's argon2 hash (never the password), the
`pii` grant, whether it is disabled, when it was created and last signed in, and `validAfter`: tokens issued
before it are refused (set when the password changes or the account is disabled).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString

from neo4j import AsyncManagedTransaction

from graph.driver import Graph

CREATE: LiteralString = """
CREATE (u:_User {login: $login, name: $name, role: $role, scope: $scope, pii: $pii, passwordHash: $hash,
                 disabled: false, createdAt: datetime(), validAfter: datetime()})
"""
GET: LiteralString = "MATCH (u:_User {login: $login}) RETURN u {.*} AS user"
LIST: LiteralString = "MATCH (u:_User) RETURN u {.*} AS user ORDER BY u.login"
COUNT: LiteralString = "MATCH (u:_User) RETURN count(u) AS n"
SET_PASSWORD: LiteralString = """
MATCH (u:_User {login: $login}) SET u.passwordHash = $hash, u.validAfter = datetime() RETURN count(u) AS n
"""
DISABLE: LiteralString = """
MATCH (u:_User {login: $login}) SET u.disabled = true, u.validAfter = datetime() RETURN count(u) AS n
"""
SIGNED_IN: LiteralString = "MATCH (u:_User {login: $login}) SET u.lastLoginAt = datetime()"


@dataclass(frozen=True)
class Account:
    """A `_User` as read (no password hash: `password_hash` reads it separately)."""

    login: str
    name: str
    role: str
    scope: str
    pii: bool
    disabled: bool
    created_at: datetime
    valid_after: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, node: dict[str, Any]) -> Account:
        """An account from a `_User`'s properties."""
        last = node.get("lastLoginAt")
        return cls(
            node["login"],
            node.get("name") or "",
            node["role"],
            node["scope"],
            bool(node.get("pii")),
            bool(node.get("disabled")),
            node["createdAt"].to_native(),
            node["validAfter"].to_native(),
            last.to_native() if last is not None else None,
        )


async def create(graph: Graph, login: str, name: str, role: str, scope: str, pii: bool, hash_: str) -> None:
    """Create an account (the login's uniqueness constraint refuses a second one)."""
    params = {"login": login, "name": name, "role": role, "scope": scope, "pii": pii, "hash": hash_}
    await graph.write_rows(CREATE, params)


async def find(graph: Graph, login: str) -> tuple[Account, str] | None:
    """The account with this login and its password hash, or None."""
    rows = await graph.read_rows(GET, {"login": login})
    if not rows:
        return None
    node = rows[0]["user"]
    return Account.of(node), node["passwordHash"]


async def all_accounts(graph: Graph) -> list[Account]:
    """Every account, by login."""
    return [Account.of(r["user"]) for r in await graph.read_rows(LIST)]


async def count(graph: Graph) -> int:
    """How many accounts there are."""
    return int((await graph.read_rows(COUNT))[0]["n"])


async def set_password(graph: Graph, login: str, hash_: str) -> bool:
    """Replace the password's hash, refusing tokens issued before; False when no such account."""
    return bool((await graph.write_rows(SET_PASSWORD, {"login": login, "hash": hash_}))[0]["n"])


async def disable(graph: Graph, login: str) -> bool:
    """Disable an account and refuse its tokens from now on; False when no such account."""
    return bool((await graph.write_rows(DISABLE, {"login": login}))[0]["n"])


async def signed_in(tx: AsyncManagedTransaction, login: str) -> None:
    """Record a successful sign-in."""
    await (await tx.run(SIGNED_IN, {"login": login})).consume()
