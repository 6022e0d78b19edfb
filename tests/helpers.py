"""Helpers shared by the API tests: GraphQL over HTTP against the app."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient


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
