"""The load's per-row statements seek nodes by code even when Neo4j's index statistics are stale.

Index statistics are samples that Neo4j takes in the background some seconds after an index changed.
This test's own server never takes them, so a graph written without `load_file`'s closing resample
keeps its indexes sampled "empty" — the state a load met when it followed another on a graph emptied
just before. The planner then costs an index scan at nothing, and a per-row statement that scans
instead of seeking reads every node of a label for each row (a CI run's stale-link delete of a small
city passed the 60 s transaction timeout).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, LiteralString

import pytest

from core.model import LINK_SHEETS, NODE_SHEETS
from graph import entities, natural, statistics
from graph.driver import Graph
from graph.loading import NameBy, existing_codes, merge_links, stale_links, upsert_links, upsert_nodes
from graph.migrations import migrate
from loaders.demo import write_demo
from loaders.load import load_file, validate_file
from loaders.write import write_plan
from tests.helpers import graph_counts, make_settings, start_local


def per_row_statements() -> Iterator[tuple[str, LiteralString]]:
    """Every statement a load runs once per batch of rows on a graph that already has nodes, and the
    API's look-ups of a batch of codes (its DataLoaders)."""
    for sheet in NODE_SHEETS:
        label = sheet.label
        yield f"upsert {label}", upsert_nodes(label)
        yield f"upsert {label} by id", upsert_nodes(label, name_by=NameBy.ID)
        yield f"lookup {label}", existing_codes(label)
        for link in sheet.links:
            for target in link.targets:
                name = f"{label} {link.rel} {target}"
                yield f"stale {name}", stale_links(label, link.rel, target, link.incoming)
                yield f"merge {name}", merge_links(label, link.rel, target, link.incoming)
                yield f"merge {name} by id", merge_links(label, link.rel, target, link.incoming, name_by=NameBy.ID)
        for link in sheet.links:
            forward, backward = entities.node_hops(sheet, link)
            for hop in (forward, *backward):
                yield f"read {hop}", entities.hop_query(hop)
        yield f"read {label} by code", entities.by_code_query(label)
        if sheet.natural_key:  # a row without a code: its node found by natural key, a new code's number
            yield f"natural key {label}", natural.find_by_natural_key(label)
            yield f"top number {label}", natural.top_sequence(label)
    for sheet in LINK_SHEETS:
        outgoing, incoming = entities.link_sheet_hops(sheet)
        for hop in (*outgoing, *incoming):
            yield f"read {hop}", entities.hop_query(hop)
        assert sheet.source is not None
        assert sheet.target is not None
        for source in sheet.source.targets:
            for target in sheet.target.targets:
                yield f"links {source} {sheet.rel} {target}", upsert_links(source, sheet.rel, target)
                yield (
                    f"links {source} {sheet.rel} {target} by id",
                    upsert_links(source, sheet.rel, target, name_by=NameBy.ID),
                )


PARAMETERS: dict[str, Any] = {
    "rows": [], "pairs": [], "codes": [], "scope": None, "scopeProperty": None, "keys": [], "stems": [],
}  # fmt: skip


def _operators(plan: dict[str, Any]) -> Iterator[str]:
    yield plan["operatorType"].split("@")[0]
    for child in plan.get("children", []):
        yield from _operators(child)


@pytest.mark.slow
@pytest.mark.integration  # starts a Neo4j of its own
async def test_per_row_statements_seek_by_code_with_stale_index_statistics(tmp_path: Path) -> None:
    server = start_local(tmp_path / "neo4j", config="db.index_sampling.background_enabled=false")
    graph = Graph(make_settings(NEO4J_URI=server.uri))
    try:
        await migrate(graph)
        workbook = tmp_path / "small.xlsx"
        write_demo("small", 7, workbook)
        # a first load's writes (they CREATE: none of the statements below runs), without load_file's
        # closing resample: the indexes are full and their samples still say empty
        await write_plan(graph, await validate_file(workbook, graph))
        stale = statistics.outdated((await graph.read_rows(statistics.INDEXES))[0]["indexes"])
        assert ("RANGE", ("Household",), ("code",)) in stale
        scanning: dict[str, list[str]] = {}
        async with graph.driver.session() as session:
            for name, cypher in per_row_statements():
                result = await session.run(f"EXPLAIN {cypher}", PARAMETERS)
                plan = (await result.consume()).plan
                assert plan is not None, name
                scans = [op for op in _operators(plan) if "Scan" in op]
                if scans:
                    scanning[name] = scans
        assert scanning == {}
        # and the statements run: loading the same workbook again rewrites every node and its links
        before = await graph_counts(graph)
        result = await load_file(workbook, graph)
        assert await graph_counts(graph) == before
        assert sum(c["created"] + c["updated"] for c in result.summary.nodes.values()) == 0
        # and a load leaves its indexes sampled
        assert statistics.outdated((await graph.read_rows(statistics.INDEXES))[0]["indexes"]) == []
    finally:
        await graph.close()
        server.stop()
