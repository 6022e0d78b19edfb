"""Test fixtures: the suite's own Neo4j (own port, own throw-away data directory), stopped afterwards.

Tests that need a Neo4j or a browser are marked `integration` here, from their fixtures; `make test-unit`
runs the others. Only what every test needs is imported at module level: Playwright and the benchmarks are
imported by the fixtures that use them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from httpx import ASGITransport, AsyncClient

from graph.driver import Graph
from graph.local import LocalNeo4j, free_port
from graph.migrations import migrate
from graph.settings import Settings
from loaders.demo import generate, write_demo
from loaders.load import load_file
from tests.helpers import SUITE_ADMIN, bearer, clear, ensure_account, make_settings, start_local

if TYPE_CHECKING:
    from playwright.async_api import Browser
    from starlette.applications import Starlette

#: Fixtures that start a Neo4j or a browser: a test whose fixture closure holds one of them is `integration`
#: (graph, settings, client, small, live_server … all depend on `neo4j_server`).
INTEGRATION_FIXTURES = frozenset({"neo4j_server", "browser"})


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `integration` every test that needs the suite's Neo4j or a browser, however indirectly.

    A test that starts a Neo4j of its own (`tests.helpers.start_local`) carries the marker itself."""
    for item in items:
        if INTEGRATION_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def neo4j_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNeo4j]:
    """The suite's own Neo4j, in a temporary directory on a free port; `LOAD CSV` reads its `import` folder
    (the load benchmark's peer, `tests/test_peer.py`)."""
    from bench.peer import server_config

    home = tmp_path_factory.mktemp("neo4j-home")
    (home / "import").mkdir()
    server = start_local(home, config=server_config(home / "import"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def settings(neo4j_server: LocalNeo4j, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings pointing at the suite's Neo4j, with a data directory of the suite's own (token secret)."""
    return make_settings(NEO4J_URI=neo4j_server.uri, GRASSROOTS_DATA_DIR=str(tmp_path_factory.mktemp("data")))


@pytest.fixture(scope="session")
async def graph(settings: Settings) -> AsyncIterator[Graph]:
    """One driver for the session."""
    g = Graph(settings)
    yield g
    await g.close()


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    """The app, its lifespan run (migrations applied), with the suite's admin account in the graph."""
    from server import create_app

    application = create_app(settings)
    async with application.router.lifespan_context(application):
        await ensure_account(application.state.graph, SUITE_ADMIN)
        yield application


@pytest.fixture(scope="session")
async def client(app: Starlette, settings: Settings) -> AsyncIterator[AsyncClient]:
    """An HTTP client on the app, signed in (bearer token) as the suite's admin of the whole test city."""
    async with AsyncClient(
        transport=ASGITransport(app=app), base_url="http://test", headers=bearer(settings, SUITE_ADMIN)
    ) as http:
        yield http


@pytest.fixture(scope="session")
async def anonymous(app: Starlette) -> AsyncIterator[AsyncClient]:
    """An HTTP client on the same app with no credentials."""
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
        yield http


SMALL_SEED = 3


@pytest.fixture(scope="module")
async def small(graph: Graph, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The small city loaded into an emptied graph; its manifest and generated rows."""
    await migrate(graph)
    await clear(graph)
    folder = tmp_path_factory.mktemp("api") / "small"
    facts = write_demo("small", SMALL_SEED, folder)
    await load_file(Path(folder), graph)
    return {"manifest": facts, "data": generate("small", SMALL_SEED)}


@pytest.fixture(scope="session")
def suite_headers(settings: Settings) -> dict[str, str]:
    """The Authorization header of the suite's admin (for requests to `live_server`)."""
    return bearer(settings, SUITE_ADMIN)


@pytest.fixture(scope="session")
def live_server(settings: Settings, app: Starlette) -> Iterator[str]:
    """The app served by a real uvicorn on a free loopback port (for browsers and spec audits): its base URL.

    The suite's admin (made by `app`) signs in to it with `TEST_PASSWORD` or `suite_headers`."""
    import threading
    import time

    import uvicorn

    from server import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    """Headless Debian chromium (Playwright downloads no browser)."""
    from playwright.async_api import async_playwright

    from tests.browser import CHROMIUM

    assert CHROMIUM, "chromium is missing: make setup installs it (apt-get install chromium)"
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        await b.close()
