"""Helpers shared by the tests: settings and Neo4j servers of their own, emptying and counting the graph, the
schema's state, GraphQL over HTTP against the app. Tests import these from here, never from one another."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from httpx import ASGITransport, AsyncClient

from graph.driver import Graph
from graph.local import LocalNeo4j, free_port
from graph.settings import PROJECT_ROOT, Settings

# ---------------------------------------------------------------- settings and servers

#: The password of every Neo4j the tests start.
TEST_PASSWORD = "test-password-1"


def make_settings(**overrides: object) -> Settings:
    """Settings for tests: never the `make run` data; values given by their environment names."""
    base: dict[str, object] = {
        "NEO4J_USER": "neo4j",
        "NEO4J_PASSWORD": TEST_PASSWORD,
        "NEO4J_HEAP": os.environ.get("TEST_NEO4J_HEAP", "1g"),
        "NEO4J_PAGECACHE": os.environ.get("TEST_NEO4J_PAGECACHE", "512m"),
        "NEO4J_MAX_RETRY_TIME": 1.0,
        "NEO4J_CONNECTION_TIMEOUT": 2.0,
        # One suite admin runs the whole suite's requests: no share of database time per minute for it (the share
        # is tested on an app of its own, tests/test_fairness.py; the traffic benchmark runs with the default).
        "GRASSROOTS_ACCOUNT_DB_SECONDS": 0,
        # The suite loads and clears cities under the apps' feet: no background writer of rollups in its apps
        # (`keep_current` is tested on its own, tests/test_asof_reads.py).
        "GRASSROOTS_ROLLUP_CHECK_SECONDS": 0,
        "GRASSROOTS_WARM_UP": False,  # tests count round trips; tests/test_warmup.py turns it on
        # Loopback as by default, plus the ASGI test clients' base URL `http://test`.
        "GRASSROOTS_ALLOWED_HOSTS": "127.0.0.1,localhost,::1,[::1],test",
    }
    base.update(overrides)
    return Settings(_env_file=None, **base)  # type: ignore[call-arg]


def start_local(home: Path, port: int | None = None, config: str = "") -> LocalNeo4j:
    """A started local Neo4j in `home` on a free (or given) port, with extra settings `config` ("name=value;...").

    A test that calls this starts a Java process: mark it `@pytest.mark.integration` (conftest.py marks only
    the tests that use the suite's own server)."""
    settings = make_settings(NEO4J_LOCAL_HOME=str(home), NEO4J_LOCAL_PORT=port or free_port())
    local = LocalNeo4j.from_settings(settings)
    local.config = config
    return local.start()


# ---------------------------------------------------------------- the graph

#: Nodes, their properties and the relationships; migration records, rollups and accounts left out.
COUNTS = """
MATCH (n) WHERE NOT n:_Migration AND NOT n:_Rollup AND NOT n:_User AND NOT n:_Load
WITH count(n) AS nodes, sum(size(keys(n))) AS props
OPTIONAL MATCH ()-[r]->()
RETURN nodes, props, count(r) AS rels
"""

#: Every node (label, code, each property as text) in a stable order: two graphs equal iff their fingerprints do.
#: Properties are sorted by name: `keys(n)` lists them in storage order, which differs between a node CREATEd
#: with a map and one MERGEd then SET, and with the order the database first saw each property name (a
#: reload after a killed load once differed from a clean load only in that order, in the full suite).
FINGERPRINT = """
MATCH (n) WHERE NOT n:_Migration AND NOT n:_Rollup AND NOT n:_User AND NOT n:_Load
WITH n ORDER BY labels(n)[0], n.code
RETURN collect([labels(n)[0], n.code, COLLECT { UNWIND keys(n) AS k WITH k ORDER BY k RETURN [k, toString(n[k])] }])
       AS nodes
"""


async def clear(graph: Graph) -> None:
    """Delete every node but the migration records and the suite's own admin (`SUITE_ADMIN`)."""
    while True:
        rows = await graph.write_rows(
            "MATCH (n) WHERE NOT n:_Migration AND NOT (n:_User AND n.login = $keep) "
            "WITH n LIMIT 20000 DETACH DELETE n RETURN count(*) AS deleted",
            {"keep": SUITE_ADMIN},
        )
        if rows[0]["deleted"] == 0:
            return


# ---------------------------------------------------------------- accounts

#: The account the suite's `client` signs in as: an admin of the city every test city is (襄阳市).
SUITE_ADMIN = "suite-admin"
SUITE_CITY = "420600000000"


async def ensure_account(
    graph: Graph, login: str, role: str = "admin", scope: str = SUITE_CITY, *, pii: bool = False
) -> None:
    """An account in the graph (made with TEST_PASSWORD, its scope unchecked) unless one has this login."""
    from access.passwords import hash_password
    from graph import accounts as store

    if await store.find(graph, login) is None:
        await store.create(graph, login, login, role, scope, pii, hash_password(TEST_PASSWORD))


def bearer(settings: Settings, login: str) -> dict[str, str]:
    """The Authorization header of a fresh token for `login`, signed with the settings' data directory's secret."""
    from datetime import timedelta

    from access.tokens import Signer, secret

    token = Signer(secret(settings.data_dir)).issue(login, timedelta(hours=4))
    return {"Authorization": f"Bearer {token}"}


@dataclass
class OwnApp:
    """An app of a test's own (other settings than the suite's), running: the app and its settings."""

    app: Any
    settings: Settings

    def client(self, login: str | None = SUITE_ADMIN) -> AsyncClient:
        """An HTTP client on the app, signed in as `login` (None: no credentials)."""
        headers = bearer(self.settings, login) if login is not None else {}
        return AsyncClient(transport=ASGITransport(app=self.app), base_url="http://test", headers=headers)


@asynccontextmanager
async def own_app(suite: Settings, **overrides: object) -> AsyncIterator[OwnApp]:
    """The real app with `overrides` (environment names) on the suite's Neo4j and data directory (so the suite's
    tokens are signed with its secret), started like the service and stopped afterwards."""
    from server import create_app

    settings = make_settings(NEO4J_URI=suite.neo4j_uri, GRASSROOTS_DATA_DIR=str(suite.data_dir), **overrides)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield OwnApp(app, settings)


async def graph_counts(graph: Graph) -> dict[str, Any]:
    """The graph's `COUNTS`: {"nodes", "props", "rels"}."""
    return (await graph.read_rows(COUNTS))[0]


# ---------------------------------------------------------------- the schema

SHOW_CONSTRAINTS = "SHOW CONSTRAINTS YIELD name, type, labelsOrTypes, properties RETURN *"
SHOW_INDEXES = "SHOW INDEXES YIELD name, type, labelsOrTypes, properties, state RETURN *"


async def schema_state(graph: Graph) -> list[dict[str, Any]]:
    """Every constraint and index (indexes with their state), sorted by name: equal on equally migrated databases."""
    rows = await graph.read_rows(SHOW_CONSTRAINTS) + await graph.read_rows(SHOW_INDEXES)
    return sorted(rows, key=lambda r: (r["name"], "state" in r))


# ---------------------------------------------------------------- GraphQL over HTTP


async def gql(client: AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    """POST a query; return the whole response body (data and errors)."""
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


async def data_of(client: AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    """The data of a query that must not fail."""
    body = await gql(client, query, **variables)
    assert "errors" not in body, body["errors"]
    return body["data"]


# ---------------------------------------------------------------- the command line

#: The `grassroots` command of this environment.
GRASSROOTS = Path(sys.executable).with_name("grassroots")


def run_cli(
    settings: Settings,
    *args: str,
    stdin: str | None = None,
    data_dir: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`grassroots …` against the suite's Neo4j (NEO4J_URI set: the CLI starts nothing); `data_dir` is its
    GRASSROOTS_DATA_DIR (the token secret's home); `env`: more environment variables. Run as `python -m cli` from
    this checkout: the `grassroots` script runs the checkout the virtual environment was installed from, which a
    git worktree sharing it is not."""
    env = {
        **os.environ,
        "NEO4J_URI": settings.neo4j_uri or "",
        "NEO4J_USER": "neo4j",
        "NEO4J_PASSWORD": TEST_PASSWORD,
        **(env or {}),
    }
    if data_dir is not None:
        env["GRASSROOTS_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
