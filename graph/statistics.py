"""Index statistics brought up to date after a bulk write, so the next plans see the graph as it is.

Neo4j plans with samples of each index, retaken in the background a while after an index changed by
more than `db.index_sampling.update_percentage` (5 %). Until then an index filled by a load still
reads "empty", and the planner costs a scan of it at nothing: reads and rollups right after a first
load could scan a label per row. `refresh` asks for those samples at once and waits for them;
`by_code` is the look-up that does not depend on them at all.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, LiteralString, cast

from neo4j.exceptions import ClientError

from graph.driver import Graph

log = logging.getLogger(__name__)

INDEXES: LiteralString = "CALL db.stats.retrieve('GRAPH COUNTS') YIELD data RETURN data.indexes AS indexes"
NAMES: LiteralString = (
    "SHOW INDEXES YIELD name, type, labelsOrTypes, properties WHERE properties IS NOT NULL "
    "RETURN name, type, labelsOrTypes, properties"
)
RESAMPLE: LiteralString = "UNWIND $names AS name CALL db.resampleIndex(name)"
#: Neo4j's own threshold (db.index_sampling.update_percentage): an index is outdated past it.
OUTDATED = 0.05

Key = tuple[str, tuple[str, ...], tuple[str, ...]]


def by_code(var: str, label: str, value: str) -> LiteralString:
    """MATCH one node of `label` (an identifier the caller has checked) by code, with a seek of its
    uniqueness index whatever the samples say.

    An index sampled "empty" (a graph emptied just before, not resampled since) lets the planner scan every
    node of a label for each row of a batch. `USING INDEX SEEK` pins the seek (a plain `USING INDEX` does
    not); tests/test_plans.py checks every per-row statement against such stale samples."""
    return cast(LiteralString, f"MATCH ({var}:{label} {{code: {value}}}) USING INDEX SEEK {var}:{label}(code)")


def _key(index: dict[str, Any]) -> Key:
    labels = index.get("labels") or index.get("relationshipTypes") or index.get("labelsOrTypes") or []
    return (str(index.get("indexType") or index.get("type")), tuple(labels), tuple(index.get("properties") or []))


def outdated(indexes: list[dict[str, Any]]) -> list[Key]:
    """The indexes whose sample is older than the changes since (GRAPH COUNTS entries)."""
    return [
        _key(i)
        for i in indexes
        if i.get("properties") and (i.get("updatesSinceEstimation") or 0) > OUTDATED * (i.get("totalSize") or 0)
    ]


async def refresh(graph: Graph, within: float = 120.0) -> list[str]:
    """Resample the outdated indexes and wait for the samples (at most `within` s); names those still outdated.

    Best effort: on a server where the load's user may not run these procedures (an admin-only
    `db.stats.retrieve` under role-based access), Neo4j's background sampling is left to do it."""
    try:
        return await _refresh(graph, within)
    except ClientError as error:
        log.warning("索引统计未刷新，留给 Neo4j 自动采样 / statistics left to Neo4j's sampling: %s", error.message)
        return []


async def _refresh(graph: Graph, within: float) -> list[str]:
    names = {_key(row): row["name"] for row in await graph.read_rows(NAMES)}

    async def stale() -> list[str]:
        return [names[k] for k in outdated((await graph.read_rows(INDEXES))[0]["indexes"]) if k in names]

    left = await stale()
    if not left:
        return []
    await graph.write_rows(RESAMPLE, {"names": left})
    deadline = time.monotonic() + within
    wait = 0.05
    while True:
        left = await stale()
        if not left or time.monotonic() >= deadline:
            if left:
                log.warning("索引采样未完成 / indexes still being sampled after %.0f s: %s", within, ", ".join(left))
            return left
        await asyncio.sleep(wait)
        wait = min(wait * 2, 1.0)
