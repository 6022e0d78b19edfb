"""The service supervises the local Neo4j it started: after a kill -9 the JVM is reaped (no zombie), restarted
with back-off and logged; requests meanwhile get fast 503s, then good answers again without a person; after too
many crashes the supervisor gives up and liveness (`/healthz`) says 503."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from pathlib import Path

import pytest
from httpx import ASGITransport, AsyncClient

from graph.local import Supervisor, free_port, supervised_database
from server import create_app
from tests.helpers import SUITE_ADMIN, bearer, ensure_account, make_settings

QUERY = {"query": "{ serverInfo { name } }"}
#: Seconds a request may take while Neo4j is down (the answer is a 503, not a wait).
FAST = 5.0
#: Seconds from kill -9 to a good answer: back-off (0.5 s) plus a JVM start on a loaded 2-core machine.
RECOVERY = 120.0


def _reaped(pid: int) -> bool:
    """The process is gone, or at least not a zombie (its parent waited for it)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "State:\tZ" not in status


async def _until(check: object, seconds: float) -> float:
    started = time.monotonic()
    while not check():  # type: ignore[operator]
        assert time.monotonic() - started < seconds, f"not within {seconds} s"
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def _down_fast(http: AsyncClient) -> None:
    started = time.monotonic()
    response = await http.post("/graphql", json=QUERY)
    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    ready = await http.get("/readyz")
    assert ready.status_code == 503
    assert "bolt" not in ready.text
    assert "7687" not in ready.text
    assert time.monotonic() - started < FAST


@pytest.mark.slow
@pytest.mark.integration  # starts a Neo4j of its own
async def test_a_killed_neo4j_is_reaped_restarted_and_served_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="graph.local")
    settings = make_settings(
        NEO4J_LOCAL_HOME=str(tmp_path / "neo4j"),
        NEO4J_LOCAL_PORT=free_port(),
        GRASSROOTS_DATA_DIR=str(tmp_path / "data"),
        GRASSROOTS_RESTART_BACKOFF=0.5,
        GRASSROOTS_RESTART_LIMIT=1,  # the second crash within the window is one too many
    )
    with supervised_database(settings, supervise=True) as (uri, supervisor):
        assert isinstance(supervisor, Supervisor)
        app = create_app(settings, uri=uri, supervisor=supervisor)
        async with app.router.lifespan_context(app):
            await ensure_account(app.state.graph, SUITE_ADMIN)
            transport = ASGITransport(app=app)
            async with AsyncClient(
                transport=transport, base_url="http://test", headers=bearer(settings, SUITE_ADMIN)
            ) as http:
                assert (await http.post("/graphql", json=QUERY)).status_code == 200
                first = supervisor.local.pid
                assert first is not None

                os.kill(first, signal.SIGKILL)
                killed = time.monotonic()
                await _until(lambda: _reaped(first), 10)  # waited for at once, never a zombie
                await _down_fast(http)
                assert (await http.get("/healthz")).status_code == 200  # it can still heal itself

                async def answered() -> bool:
                    response = await http.post("/graphql", json=QUERY)
                    return response.status_code == 200 and response.json()["data"]["serverInfo"][0]["name"] != ""

                while True:  # every request meanwhile is answered at once (a 503), never left waiting
                    asked = time.monotonic()
                    good = await answered()
                    assert time.monotonic() - asked < FAST, "a request waited while Neo4j restarted"
                    if good:
                        break
                    assert time.monotonic() - killed < RECOVERY, f"no good answer within {RECOVERY} s"
                    await asyncio.sleep(0.2)
                recovered = time.monotonic() - killed
                second = supervisor.local.pid
                assert second not in (None, first)
                await _until(lambda: supervisor.restarts == 1, 10)  # counted once start() returns
                assert (await http.get("/readyz")).status_code == 200
                died = [r.getMessage() for r in caplog.records if "died" in r.getMessage()]
                assert died
                assert "signal 9 (SIGKILL)" in died[0]
                assert str(first) in died[0]
                assert any("restarted" in r.getMessage() for r in caplog.records)
                print(f"kill -9 to the first good answer: {recovered:.1f} s")

                os.kill(second, signal.SIGKILL)  # a second crash within the window: the supervisor gives up
                await _until(lambda: supervisor.gave_up, 10)
                assert _reaped(second)
                health = await http.get("/healthz")
                assert health.status_code == 503
                assert health.json()["reason"].startswith("本地 Neo4j 多次崩溃")
                await _down_fast(http)
                assert any(r.levelno == logging.CRITICAL for r in caplog.records)
