"""The benchmarks' own accounts: made in the benchmark's database, used through bearer tokens.

Every HTTP request to the service names an account (`access.web.RequireSignIn`). A benchmark adds the
accounts it signs in as (`grassroots user add` would do the same), with a generated password nobody
keeps, and signs their tokens with the secret of the data directory it gives the service it starts —
never the `make run` one. An account that already exists (a database given by NEO4J_URI) is used as it
is when its role and scope are the ones asked for; otherwise the benchmark stops rather than change it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from access import passwords
from access.accounts import FIRST_CITY, add
from access.tokens import Signer, secret
from core.access import Role
from graph import accounts as store
from graph.driver import Graph
from graph.scope import Scope
from graph.settings import Settings

#: How long a benchmark's tokens live (a run takes minutes; the province's page benchmark, longer).
TTL = timedelta(hours=12)


@dataclass(frozen=True)
class Account:
    """An account a benchmark signs in as: login, role, scope code."""

    login: str
    role: Role
    scope: str


async def _ensure(graph: Graph, account: Account) -> None:
    found = await store.find(graph, account.login)
    if found is None:
        name = f"benchmark {account.role.value}"
        await add(graph, account.login, account.role, Scope.parse(account.scope), passwords.generate(), name=name)
        return
    existing = found[0]
    if (existing.role, existing.scope, existing.disabled) != (account.role.value, account.scope, False):
        raise RuntimeError(
            f"the account {account.login} exists as {existing.role} of {existing.scope}"
            f"{' (disabled)' if existing.disabled else ''}, not {account.role.value} of {account.scope}: "
            "give the benchmark a database without it"
        )


def ensure(uri: str, password: str, *accounts: Account) -> None:
    """Add these accounts to the database at `uri` unless they are there already, as asked."""

    async def run() -> None:
        graph = Graph(Settings(_env_file=None, NEO4J_URI=uri, NEO4J_PASSWORD=password))  # type: ignore[call-arg]
        try:
            for account in accounts:
                await _ensure(graph, account)
        finally:
            await graph.close()

    asyncio.run(run())


def first_city(uri: str, password: str) -> str:
    """The code of the database's first city (an admin account of the whole city is scoped to it)."""

    async def run() -> str:
        graph = Graph(Settings(_env_file=None, NEO4J_URI=uri, NEO4J_PASSWORD=password))  # type: ignore[call-arg]
        try:
            return str((await graph.read_rows(FIRST_CITY))[0]["code"])
        finally:
            await graph.close()

    return asyncio.run(run())


def bearer(data_dir: Path, login: str) -> dict[str, str]:
    """The Authorization header of a fresh token for `login`, signed with `data_dir`'s secret."""
    return {"Authorization": f"Bearer {Signer(secret(data_dir)).issue(login, TTL)}"}
