"""A read never writes (issue 23): many clients asking about today and about past days at once each get the answer
their own day gives when asked alone, and the stored coverage rollups are, checked over Bolt, exactly what they
were — also after an audit workbook of a past day."""

from __future__ import annotations

import asyncio
import contextlib
import random
from datetime import date
from typing import Any

from httpx import AsyncClient

from graph import rollups
from graph.driver import Graph
from graph.settings import Settings
from tests.helpers import data_of

CITY = "420600000000"
TODAY = date.today().isoformat()
DAYS = (TODAY, "2024-06-30", "2021-01-01", "1999-09-09")
ROLLUPS = "MATCH (r:_Rollup) RETURN r.code AS code, properties(r) AS props ORDER BY code"
ASK = """query($s: String!, $d: Date) {
  coverage(scope: $s, asOf: $d) { scope { figures { metric units covered } }
                                  children { area { code } figures { metric units covered } } }
  gaps(scope: $s, first: 0, asOf: $d) { totalCount counts { kind count } }
}"""


async def _stored(graph: Graph) -> list[dict[str, Any]]:
    return await graph.read_rows(ROLLUPS)


async def test_past_and_present_readers_at_once_each_get_their_own_day(
    client: AsyncClient, graph: Graph, settings: Settings, small: dict[str, Any]
) -> None:
    alone = {day: await data_of(client, ASK, s=CITY, d=day) for day in DAYS}
    # the days differ (else this proves nothing): dated facts start between them
    assert alone["1999-09-09"]["coverage"] != alone[TODAY]["coverage"]
    assert alone["2021-01-01"]["gaps"] != alone[TODAY]["gaps"]
    before = await _stored(graph)
    assert before, "the load made no rollups"

    days = [DAYS[i % len(DAYS)] for i in range(40)]
    random.Random(23).shuffle(days)
    at_once = asyncio.Semaphore(settings.account_concurrency)  # as many as one account may have in flight

    async def ask(day: str) -> dict[str, Any]:
        async with at_once:
            return await data_of(client, ASK, s=CITY, d=day)

    answers = await asyncio.gather(*(ask(day) for day in days))
    wrong = [day for day, answer in zip(days, answers, strict=True) if answer != alone[day]]
    assert wrong == []

    response = await client.get(f"/reports/audit.xlsx?scope={CITY}&asOf=1999-09-09")
    assert response.status_code == 200
    assert await _stored(graph) == before


async def test_the_service_makes_missing_and_old_rollups_as_a_load_makes_them(
    graph: Graph, small: dict[str, Any]
) -> None:
    """`keep_current` (the service's writer) makes the rollup a community lacks and remakes those an older version
    made — the same timelines the load made — and leaves current ones alone."""
    made = await _stored(graph)
    first, *rest = [r["code"] for r in made]
    assert len(rest) >= 3, "too few communities to tell remade from untouched"
    await graph.write_rows("MATCH (r:_Rollup {code: $c}) DELETE r", {"c": first})
    await graph.write_rows("MATCH (r:_Rollup) WHERE r.code IN $cs SET r.version = 1", {"cs": rest[:2]})
    await graph.write_rows("MATCH (r:_Rollup) WHERE r.code IN $cs SET r.untouched = true", {"cs": rest[2:]})
    # a current stretch that ended long ago, its figures wrong: moved on to today from the arrays, not recounted
    stale_stretch = (
        "SET r.currentFrom = date('2000-01-01'), r.currentUntil = date('2000-01-02'), r.now_units_households = -1"
    )
    await graph.write_rows(f"MATCH (r:_Rollup) WHERE r.code IN $cs {stale_stretch}", {"cs": rest[2:3]})
    task = asyncio.ensure_future(rollups.keep_current(graph, every=0.05))
    try:
        for _ in range(200):
            now = await _stored(graph)
            if len(now) == len(made) and all(
                r["props"]["version"] == rollups.VERSION and r["props"]["now_units_households"] >= 0 for r in now
            ):
                break
            await asyncio.sleep(0.1)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    remade = {r["code"]: r["props"] for r in now if not r["props"].pop("untouched", False)}
    assert sorted(remade) == sorted([first, *rest[:2]])  # the current ones were not remade
    assert remade == {r["code"]: r["props"] for r in made if r["code"] in remade}
    moved_on = {r["code"]: r["props"] for r in now if r["code"] == rest[2]}
    assert moved_on == {r["code"]: r["props"] for r in made if r["code"] == rest[2]}
