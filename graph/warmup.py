"""Warm Neo4j's page cache after a start: the stored graph read once, label by label, smallest first.

Neo4j Community keeps no page-cache profile across restarts (Enterprise's warm-up does), so after a start the
first readers pay for every page they touch from disk: a first visit of a city's community took ~9 s, more than
an account's share of database time. `warm` reads each label's index entries, nodes, their properties and their
outgoing relationships with theirs, one short read transaction each, smallest labels first — the organization
network the page draws is in memory within a second or two, the two million households last. It only reads,
changes nothing another reader sees, and gives up at its first error: a warm-up is an optimisation, the service
answers without it (slower at first).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import LiteralString, cast

from neo4j.exceptions import Neo4jError

from core.model import LABELS
from graph.driver import Graph, GraphUnavailable, QueryTimeout

log = logging.getLogger("grassroots.warmup")

#: What is read: the model's labels and the coverage rollups every coverage answer reads (graph/rollups.py).
WARMED: frozenset[str] = LABELS | {"_Rollup"}


def _ident(label: str) -> str:
    if label not in WARMED:
        raise ValueError(label)
    return label


@cache
def count_query(label: str) -> LiteralString:
    """How many nodes carry `label` (Neo4j's count store: no page of the nodes is read)."""
    return cast(LiteralString, f"MATCH (n:{_ident(label)}) RETURN count(n) AS n")


@cache
def warm_query(label: str) -> LiteralString:
    """Read every node of `label` with its properties and outgoing relationships with theirs, and its code's
    index entries: the pages a later query of these nodes needs are then in the page cache."""
    return cast(
        LiteralString,
        f"""
CALL () {{ MATCH (n:{_ident(label)}) WHERE n.code >= '' RETURN count(n.code) AS indexed }}
MATCH (n:{_ident(label)})
RETURN count(n) AS nodes, indexed,
       sum(size(keys(properties(n)))) + sum(COUNT {{ MATCH (n)-[r]->() WHERE size(keys(properties(r))) >= 0 }})
         AS values
""",
    )


@dataclass(frozen=True)
class Warmed:
    """What a warm-up read: labels, nodes, and seconds."""

    labels: int
    nodes: int
    seconds: float
    complete: bool = True


async def warm(graph: Graph) -> Warmed | None:
    """Read the whole stored graph once, smallest labels first; None when the database went away meanwhile."""
    started = time.monotonic()
    sizes: dict[str, int] = {}
    nodes = 0
    try:
        sizes = {label: (await graph.read_rows(count_query(label)))[0]["n"] for label in WARMED}
        for label in sorted(sizes, key=lambda lb: (sizes[lb], lb)):
            if sizes[label]:
                row = (await graph.read_rows(warm_query(label)))[0]
                nodes += int(row["nodes"])
    except GraphUnavailable as exc:
        log.info("预热中止,稍后重试 / warm-up stopped, to try again: %s", exc.reason)
        return None
    except (QueryTimeout, Neo4jError) as exc:  # e.g. a label too big to read within NEO4J_QUERY_TIMEOUT
        log.warning("预热未完成 / warm-up left unfinished: %s", type(exc).__name__)
        return Warmed(len(sizes), nodes, time.monotonic() - started, complete=False)
    warmed = Warmed(len(sizes), nodes, time.monotonic() - started)
    log.info("预热完成 / warm-up done: %d labels, %d nodes in %.1f s", warmed.labels, warmed.nodes, warmed.seconds)
    return warmed


async def warm_after_starts(graph: Graph, restarts: Callable[[], int] | None, every: float = 5.0) -> None:
    """Warm once now, and again after each restart of the local Neo4j (`restarts` counts them; None when this
    service does not start Neo4j); runs until cancelled."""
    warmed_at = None
    while True:
        count = restarts() if restarts is not None else 0
        if count != warmed_at and await warm(graph) is not None:
            warmed_at = count
        if restarts is None and warmed_at is not None:
            return
        await asyncio.sleep(every)
