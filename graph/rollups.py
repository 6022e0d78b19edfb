"""Coverage rollups: each community's coverage figures for one day, stored beside it, so a city's coverage is a sum.

A whole city's figures touch two million households; summed from 515 rollup nodes they take
milliseconds. A `_Rollup` node (internal, like `_Migration`) per community holds its figures on the day it was
made (`coverageAsOf`) and its area codes. The rule: **only writers write rollups** — the loader after a load,
an edit for the communities it touched, and `keep_current`, the service's task that remakes them when the day
turns (dated facts start and end on days). A read never does: it sums the rollups made for its own day and
counts the other communities itself, in its read transaction (`stale_query`, `live_query`), so what one reader
asks can never change what another sees.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date
from functools import cache
from typing import Any, LiteralString, cast

from neo4j import AsyncManagedTransaction

from graph.driver import Graph
from graph.metrics import METRIC_BY_KEY, METRICS
from graph.validity import in_force

log = logging.getLogger(__name__)

#: How a metric's entities are reached from their community (households: through grid and building,
#: which needs no index over two million nodes); default: the entity's own communityCode.
_REACH: dict[str, LiteralString] = {
    "Household": "MATCH (c:Community)<-[:IN]-(:Grid)<-[:IN]-(:Building)<-[:IN]-(x:Household) WHERE c.code IN $codes",
}
ALL_COMMUNITIES: LiteralString = "MATCH (c:Community) RETURN c.code AS code ORDER BY code"
#: Communities inside a scope with no rollup made for $asOf, and the child area of the scope each lies in.
STALE_COMMUNITIES: LiteralString = """
MATCH (c:Community) WHERE c.{level}Code = $scope
  AND NOT EXISTS { MATCH (r:_Rollup {code: c.code}) WHERE r.coverageAsOf = $asOf }
RETURN c.code AS code, c.{child}Code AS child
"""
#: Whether any community's rollup was made for another day than $asOf (`keep_current`'s question).
ANY_OUTDATED: LiteralString = """
MATCH (c:Community) WHERE NOT EXISTS { MATCH (r:_Rollup {code: c.code}) WHERE r.coverageAsOf = $asOf }
RETURN count(c) > 0 AS outdated
"""
SAVE: LiteralString = """
UNWIND $rows AS row
MATCH (c:Community {code: row.code})
MERGE (r:_Rollup {code: row.code})
SET r = row.props, r.code = c.code, r.cityCode = c.cityCode, r.districtCode = c.districtCode,
    r.streetCode = c.streetCode, r.communityCode = c.communityCode
"""
#: Rollups of communities that no longer exist (pruned) would still add to their street's sums.
DROP_ORPHANS: LiteralString = """
MATCH (r:_Rollup) WHERE NOT EXISTS { MATCH (:Community {code: r.code}) }
DELETE r
RETURN count(*) AS dropped
"""


def units_property(key: str) -> LiteralString:
    """The rollup property holding a metric's unit count."""
    return cast(LiteralString, f"coverage_{METRIC_BY_KEY[key].key}_units")


def covered_property(key: str) -> LiteralString:
    """The rollup property holding a metric's covered count."""
    return cast(LiteralString, f"coverage_{METRIC_BY_KEY[key].key}_covered")


def reach_from(community: str, label: str) -> LiteralString:
    """`MATCH (x:label) WHERE <x lies in the community node bound to `community`>` (households through their
    grid and building)."""
    if label == "Household":
        path = f"({community})<-[:IN]-(:Grid)<-[:IN]-(:Building)<-[:IN]-(x:Household)"
        return cast(LiteralString, f"MATCH {path} WHERE true")
    return cast(LiteralString, f"MATCH (x:{label}) WHERE x.communityCode = {community}.code")


@cache
def rollup_query(key: str) -> LiteralString:
    """units and covered per community, for the communities in $codes."""
    m = METRIC_BY_KEY[key]
    reach = _REACH.get(m.label, cast(LiteralString, f"MATCH (x:{m.label}) WHERE x.communityCode IN $codes"))
    return cast(
        LiteralString,
        f"""
{reach} AND {in_force("x", m.label)} AND {m.eligible}
WITH x.communityCode AS community, CASE WHEN {m.covered} THEN 1 ELSE 0 END AS ok
RETURN community, count(*) AS units, sum(ok) AS covered
""",
    )


@cache
def stale_query(level: str) -> LiteralString:
    """Communities inside a scope of `level` with no rollup made for $asOf, each with its child area's code."""
    if level not in ("city", "district", "street"):
        raise ValueError(level)
    child = {"city": "district", "district": "street", "street": "community"}[level]
    return cast(LiteralString, STALE_COMMUNITIES.replace("{level}", level).replace("{child}", child))


async def refresh(graph: Graph, communities: list[str], as_of: str, chunk: int = 100, concurrent: int = 2) -> int:
    """Recompute the rollups of `communities` (all of them when empty), a chunk per transaction,
    `concurrent` chunks at a time (chunks share no community, so they never wait on each other's locks)."""
    if not communities:
        await graph.write_rows(DROP_ORPHANS)
    codes = communities or [r["code"] for r in await graph.read_rows(ALL_COMMUNITIES)]
    chunks = [codes[i : i + chunk] for i in range(0, len(codes), chunk)]

    async def write(mine: list[list[str]]) -> None:
        for part in mine:
            await graph.write(_refresh, part, as_of)

    await asyncio.gather(*(write(chunks[i::concurrent]) for i in range(concurrent)))
    return len(codes)


async def live_rows(
    tx: AsyncManagedTransaction, keys: tuple[str, ...], codes: list[str], as_of: str
) -> list[tuple[str, str, int, int]]:
    """(community, metric key, units, covered) of `codes` on `as_of`, counted in the caller's read transaction."""
    out: list[tuple[str, str, int, int]] = []
    if not codes:
        return out
    for key in keys:
        async for r in await tx.run(rollup_query(key), {"codes": codes, "asOf": as_of}):
            out.append((r["community"], key, r["units"], r["covered"]))
    return out


async def keep_current(graph: Graph, today: Callable[[], date] = date.today, every: float = 60.0) -> None:
    """The service's writer of rollups for the present: whenever a community's rollup is not from today (the day
    turned, a load was interrupted), remake them all. Runs until cancelled; a failure is logged and retried."""
    while True:
        day = today().isoformat()
        try:
            rows = await graph.read_rows(ANY_OUTDATED, {"asOf": day})
            if rows and rows[0]["outdated"]:
                count = await refresh(graph, [], day)
                log.info("rollups_remade communities=%d as_of=%s", count, day)
        except Exception as exc:  # the database away, a migration running: try again next time
            log.warning("rollups_not_remade error=%s", type(exc).__name__)
        await asyncio.sleep(every)


async def _refresh(tx: AsyncManagedTransaction, codes: list[str], as_of: str) -> None:
    props: dict[str, dict[str, Any]] = {c: {"coverageAsOf": as_of} for c in codes}
    for m in METRICS:
        for p in props.values():
            p[units_property(m.key)] = 0
            p[covered_property(m.key)] = 0
        async for r in await tx.run(rollup_query(m.key), {"codes": codes, "asOf": as_of}):
            if r["community"] in props:
                props[r["community"]][units_property(m.key)] = r["units"]
                props[r["community"]][covered_property(m.key)] = r["covered"]
    for p in props.values():
        p["householdCount"] = p[units_property("households")]
    await (await tx.run(SAVE, {"rows": [{"code": c, "props": p} for c, p in props.items()]})).consume()
