"""Coverage rollups: each community's coverage figures, stored beside it, so a city's coverage is a sum.

A whole city's figures touch two million households; summed from 515 rollup nodes they take
milliseconds. A `_Rollup` node (internal, like `_Migration`) per community holds its figures and
area codes; loads never touch it, so reloading a workbook leaves entities unchanged. `refresh`
recomputes the rollups of the given communities (every write path calls it: the loader after a
load, mutations for the communities they touch); reads refresh communities whose rollup is missing
or from an earlier day (property services end on a date)."""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any, LiteralString, cast

from neo4j import AsyncManagedTransaction

from graph.driver import Graph
from graph.metrics import METRIC_BY_KEY, METRICS

#: How a metric's entities are reached from their community (households: through grid and building,
#: which needs no index over two million nodes); default: the entity's own communityCode.
_REACH: dict[str, LiteralString] = {
    "Household": "MATCH (c:Community)<-[:IN]-(:Grid)<-[:IN]-(:Building)<-[:IN]-(x:Household) WHERE c.code IN $codes",
}
ALL_COMMUNITIES: LiteralString = "MATCH (c:Community) RETURN c.code AS code ORDER BY code"
STALE_COMMUNITIES: LiteralString = """
MATCH (c:Community) WHERE c.{level}Code = $scope
OPTIONAL MATCH (r:_Rollup {code: c.code})
WITH c, r WHERE r IS NULL OR r.coverageAsOf <> $asOf
RETURN c.code AS code
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


@cache
def rollup_query(key: str) -> LiteralString:
    """units and covered per community, for the communities in $codes."""
    m = METRIC_BY_KEY[key]
    reach = _REACH.get(m.label, cast(LiteralString, f"MATCH (x:{m.label}) WHERE x.communityCode IN $codes"))
    return cast(
        LiteralString,
        f"""
{reach} AND {m.eligible}
WITH x.communityCode AS community, CASE WHEN {m.covered} THEN 1 ELSE 0 END AS ok
RETURN community, count(*) AS units, sum(ok) AS covered
""",
    )


@cache
def stale_query(level: str) -> LiteralString:
    """Communities inside a scope of `level` whose rollup is missing or not from $asOf."""
    if level not in ("city", "district", "street", "community"):
        raise ValueError(level)
    return cast(LiteralString, STALE_COMMUNITIES.replace("{level}", level))


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


async def refresh_stale(graph: Graph, level: str, scope: str, as_of: str) -> int:
    """Refresh the communities inside a scope whose rollup is missing or out of date; how many were."""
    stale = [r["code"] for r in await graph.read_rows(stale_query(level), {"scope": scope, "asOf": as_of})]
    if stale:
        await refresh(graph, stale, as_of)
    return len(stale)


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
