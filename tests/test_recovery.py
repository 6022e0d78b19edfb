"""Neo4j goes away and comes back: /readyz and GraphQL say so fast, and recover without a restart."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from httpx import ASGITransport, AsyncClient

from server import create_app
from tests.helpers import SUITE_ADMIN, bearer, ensure_account, make_settings, start_local

QUERY = {"query": "{ serverInfo { name edition } }"}


@pytest.mark.slow
@pytest.mark.integration  # starts a Neo4j of its own
async def test_service_reports_outage_fast_and_recovers(tmp_path: Path) -> None:
    server = start_local(tmp_path / "neo4j")
    port = server.port
    settings = make_settings(NEO4J_URI=server.uri, GRASSROOTS_DATA_DIR=str(tmp_path / "data"))
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            await ensure_account(app.state.graph, SUITE_ADMIN)  # before its token: a token older than it is refused
            async with AsyncClient(
                transport=ASGITransport(app=app), base_url="http://test", headers=bearer(settings, SUITE_ADMIN)
            ) as http:
                assert (await http.get("/readyz")).status_code == 200
                first = (await http.post("/graphql", json=QUERY)).json()
                assert first["data"]["serverInfo"][0]["edition"] == "community"

                server.kill()

                started = time.monotonic()
                ready = await http.get("/readyz")
                assert ready.status_code == 503
                assert "unavailable" in ready.json()["reason"]
                assert time.monotonic() - started < 5.0

                started = time.monotonic()
                response = await http.post("/graphql", json=QUERY)  # the caller's account cannot be read either
                body = response.json()
                elapsed = time.monotonic() - started
                assert response.status_code == 503
                assert body.get("data") is None
                error = body["errors"][0]
                assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
                assert error["message"].startswith("图数据库暂不可用 / The graph database is unavailable")
                assert "Traceback" not in str(body)
                assert elapsed < 5.0
                assert (await http.get("/healthz")).status_code == 200  # the process itself is fine

                server = start_local(tmp_path / "neo4j", port=port)

                deadline = time.monotonic() + 30
                while (await http.get("/readyz")).status_code != 200:
                    assert time.monotonic() < deadline, "the service did not recover within 30 s"
                    await asyncio.sleep(0.2)
                again = (await http.post("/graphql", json=QUERY)).json()
                assert again["data"]["serverInfo"][0]["name"] == "Neo4j Kernel"
    finally:
        server.stop()
