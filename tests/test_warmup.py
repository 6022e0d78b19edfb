"""The warm-up after a start (graph/warmup.py): it reads every stored node of the model once, changes nothing, runs
by itself when the service starts (GRASSROOTS_WARM_UP) and again after each restart of the local Neo4j."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from graph import warmup
from graph.driver import Graph
from graph.settings import Settings
from tests.helpers import make_settings

#: The whole stored graph, to compare before and after: every node's labels and properties, every relationship's.
EVERYTHING = """
CALL () { MATCH (n) RETURN collect([labels(n), properties(n)]) AS nodes }
CALL () { MATCH (a)-[r]->(b) RETURN collect([elementId(a), type(r), properties(r), elementId(b)]) AS rels }
RETURN nodes, rels
"""
COUNT = "MATCH (n) WHERE any(label IN labels(n) WHERE label IN $labels) RETURN count(n) AS n"


class _Done(logging.Handler):
    """Counts the warm-ups that finished (their log line), and wakes whoever waits for the next."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0
        self.changed = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "warm-up done" in record.getMessage():
            self.count += 1
            self.changed.set()

    async def reach(self, count: int, within: float = 60) -> None:
        async with asyncio.timeout(within):
            while self.count < count:
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
def done() -> Any:
    handler = _Done()
    logger = logging.getLogger("grassroots.warmup")
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old)


def _sorted(state: dict[str, Any]) -> tuple[list[str], list[str]]:
    return sorted(map(repr, state["nodes"])), sorted(map(repr, state["rels"]))


async def test_the_warm_up_reads_every_node_of_the_model_and_writes_nothing(
    graph: Graph, small: dict[str, Any]
) -> None:
    before = _sorted((await graph.read_rows(EVERYTHING))[0])
    trips = graph.round_trips
    warmed = await warmup.warm(graph)
    assert warmed is not None
    assert warmed.complete
    expected = (await graph.read_rows(COUNT, {"labels": sorted(warmup.WARMED)}))[0]["n"]
    assert warmed.nodes == expected > 1000  # the small city: every organization, building and household
    assert warmed.labels == len(warmup.WARMED)
    assert graph.round_trips - trips > len(warmup.WARMED)  # one count and one read per label that has nodes
    assert _sorted((await graph.read_rows(EVERYTHING))[0]) == before


async def test_the_warm_up_runs_again_after_each_restart(graph: Graph, small: dict[str, Any], done: _Done) -> None:
    restarts = 0
    task = asyncio.create_task(warmup.warm_after_starts(graph, lambda: restarts, every=0.05))
    try:
        for expected in (1, 2):
            await done.reach(expected)
            await asyncio.sleep(0.3)  # no more warm-ups while nothing restarts
            assert done.count == expected
            restarts += 1
    finally:
        task.cancel()
    # Without a local Neo4j to watch, one warm-up, and the task ends.
    await asyncio.wait_for(warmup.warm_after_starts(graph, None, every=0.05), timeout=60)
    assert done.count == 3


@pytest.mark.parametrize("on", [True, False])
async def test_the_service_warms_up_after_its_start_when_asked(
    settings: Settings, small: dict[str, Any], done: _Done, on: bool
) -> None:
    from server import create_app

    app = create_app(make_settings(**{**_env(settings), "GRASSROOTS_WARM_UP": on}))
    async with app.router.lifespan_context(app):
        if on:
            await done.reach(1)
        else:
            await asyncio.sleep(1.0)
    assert done.count == (1 if on else 0)


def _env(settings: Settings) -> dict[str, object]:
    return {"NEO4J_URI": settings.neo4j_uri, "GRASSROOTS_DATA_DIR": str(settings.data_dir)}
