"""`python -m bench recovery`: seconds from kill -9 of the supervised local Neo4j to the service's first good
GraphQL answer (the median of `RUNS` kills of one server), over a real uvicorn on loopback.

The service and its Neo4j run as `grassroots serve` runs them (`graph.local.supervised_database`, default
back-off); the benchmark adds its own admin account to a fresh, empty store in a temporary directory.
"""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from access.passwords import generate, hash_password
from bench import signin
from bench.report import median, write_section
from graph import accounts as store
from graph.driver import Graph
from graph.local import free_port, supervised_database
from graph.settings import Settings

RUNS = 3
QUERY = {"query": "{ serverInfo { name } }"}
LOGIN = "bench-recovery"


async def _account(settings: Settings, uri: str) -> None:
    """The benchmark's admin, straight into the empty store (no city to check its scope against)."""
    graph = Graph(settings, uri=uri)
    try:
        if await store.find(graph, LOGIN) is None:
            await store.create(graph, LOGIN, LOGIN, "admin", "420600000000", False, hash_password(generate()))
    finally:
        await graph.close()


def _recover(base: str, headers: dict[str, str], pid: int) -> tuple[float, int, int]:
    """Kill -9 `pid`, then ask until a good answer: its seconds, the 503s answered meanwhile, and the requests
    not answered within 10 s."""

    async def run() -> tuple[float, int, int]:
        unavailable = slow = 0
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as http:
            os.kill(pid, signal.SIGKILL)
            killed = time.perf_counter()
            while True:
                try:
                    response = await http.post("/graphql", json=QUERY)
                except httpx.TimeoutException:  # counted as not answered: the next one is sent at once
                    slow += 1
                    continue
                if response.status_code == 200 and response.json().get("data"):
                    return time.perf_counter() - killed, unavailable, slow
                unavailable += response.status_code == 503
                await asyncio.sleep(0.1)

    return asyncio.run(run())


def main() -> None:
    seconds: list[float] = []
    refused: list[int] = []
    timeouts: list[int] = []
    with tempfile.TemporaryDirectory(prefix="bench-recovery-") as tmp:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            NEO4J_LOCAL_HOME=str(Path(tmp) / "neo4j"),
            NEO4J_LOCAL_PORT=free_port(),
            GRASSROOTS_DATA_DIR=str(Path(tmp) / "data"),
            NEO4J_HEAP="1g",
            NEO4J_PAGECACHE="512m",
            GRASSROOTS_RESTART_LIMIT=RUNS + 1,
        )
        from server import create_app

        with supervised_database(settings, supervise=True) as (uri, supervisor):
            assert supervisor is not None
            asyncio.run(_account(settings, uri))
            port = free_port()
            app = create_app(settings, uri=uri, supervisor=supervisor)
            server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
            thread = threading.Thread(target=server.run, daemon=True)
            thread.start()
            while not server.started:
                time.sleep(0.05)
            try:
                headers = signin.bearer(settings.data_dir, LOGIN)
                for _ in range(RUNS):
                    pid = supervisor.local.pid
                    assert pid is not None
                    took, unavailable, slow = _recover(f"http://127.0.0.1:{port}", headers, pid)
                    seconds.append(took)
                    refused.append(unavailable)
                    timeouts.append(slow)
                    while supervisor.restarts < len(seconds):  # counted once start() returns
                        time.sleep(0.1)
            finally:
                server.should_exit = True
                thread.join(timeout=10)
    write_section(
        "recovery",
        "\n".join(
            [
                "## Self-healing local Neo4j / 本地 Neo4j 自动恢复",
                "",
                f"`python -m bench recovery`: kill -9 of the supervised local Neo4j (empty store, heap 1g, page cache "
                f"512m, default back-off {settings.restart_backoff:.0f} s), then one GraphQL request every 0.1 s over "
                "a real uvicorn until a good answer; the requests meanwhile are fast 503s (`SERVICE_UNAVAILABLE`).",
                "",
                "| measure | median | runs |",
                "|---|---|---|",
                f"| kill -9 → first good GraphQL answer | {median(seconds):.1f} s | "
                + ", ".join(f"{v:.1f}" for v in seconds)
                + " |",
                "| 503 answers meanwhile | " + f"{median(refused):.0f} | " + ", ".join(map(str, refused)) + " |",
                "| requests not answered within 10 s meanwhile | "
                + f"{median(timeouts):.0f} | "
                + ", ".join(map(str, timeouts))
                + " |",
                "",
                f"Host load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.",
            ]
        ),
    )
    print(f"kill -9 to the first good answer: median {median(seconds):.1f} s of {seconds}")


if __name__ == "__main__":
    main()
