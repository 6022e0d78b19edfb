"""The service over a real Neo4j: health, readiness, GraphQL answering from the server."""

from __future__ import annotations

import pytest
from httpx import AsyncClient
from pydantic import ValidationError

from tests.helpers import make_settings


async def test_healthz_says_the_process_is_up(client: AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ready_when_neo4j_answers(client: AsyncClient, settings) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body == {"status": "ready"}  # no address, database name or version


async def test_graphql_answers_from_neo4j_community(client: AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ serverInfo { name versions edition } }"})
    assert response.status_code == 200
    components = response.json()["data"]["serverInfo"]
    kernel = [c for c in components if c["name"] == "Neo4j Kernel"]
    assert len(kernel) == 1
    assert kernel[0]["edition"] == "community"
    assert kernel[0]["versions"][0].startswith("5.26.")


async def test_invalid_query_is_a_client_error_without_stack_trace(client: AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ noSuchField }"})
    body = response.json()
    assert body["errors"][0]["message"].startswith("Cannot query field 'noSuchField'")
    assert "Traceback" not in response.text


def test_uri_scheme_is_checked() -> None:
    with pytest.raises(ValidationError, match="unsupported scheme"):
        make_settings(NEO4J_URI="http://localhost:7474")
    for uri in ("bolt://h:7687", "neo4j://h:7687", "neo4j+s://x.databases.neo4j.io"):
        assert make_settings(NEO4J_URI=uri).effective_uri == uri


def test_no_uri_means_the_embedded_local_server() -> None:
    settings = make_settings(NEO4J_LOCAL_PORT=17999)
    assert settings.uses_local
    assert settings.effective_uri == "bolt://127.0.0.1:17999"
    assert not make_settings(NEO4J_URI="bolt://db:7687").uses_local
