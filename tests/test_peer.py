"""The load benchmark's peer (`bench.peer`, Neo4j's own LOAD CSV) writes the graph the loader writes.

The benchmark compares the two by time; that only means something if they do the same work. Here the
small city is loaded both ways into the suite's Neo4j and compared label by label, type by type, and by
the area codes every node carries.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from core.model import LABELS, SHEETS
from graph.driver import Graph
from graph.local import LocalNeo4j
from graph.migrations import migrate
from loaders.demo import write_demo
from loaders.load import load_file
from tests.helpers import clear


async def _graph(graph: Graph) -> dict[str, object]:
    """Counts per label and type, and per label how many nodes each area code (community, else street) has."""
    from bench import peer  # here, not at module level: a unit run collects this module and imports no benchmark

    out: dict[str, object] = dict(await peer.counts(graph))
    for label in sorted(LABELS):
        out[f"{label} areas"] = sorted(
            (r["c"], r["n"])
            for r in await graph.read_rows(
                f"MATCH (n:{label}) RETURN coalesce(n.communityCode, n.streetCode, '') AS c, count(*) AS n"  # type: ignore[arg-type]
            )
        )
    return out


async def test_the_peer_writes_the_graph_the_loader_writes(graph: Graph, neo4j_server: LocalNeo4j, tmp_path: Path):
    from bench import peer

    folder = tmp_path / "small"
    write_demo("small", 5, folder)
    await migrate(graph)
    await clear(graph)
    await load_file(folder, graph)
    ours = await _graph(graph)

    await clear(graph)
    for csv in folder.glob("*.csv"):
        shutil.copy(csv, neo4j_server.home / "import" / csv.name)
    steps = peer.statements("file://", {f.stem for f in folder.glob("*.csv")})
    assert [key for key, _ in steps][-5:] == [s.key for s in SHEETS if not s.is_node]
    for _, cypher in steps:
        await peer.run(graph, cypher)
    theirs = await _graph(graph)
    await clear(graph)

    assert sum(ours[label] for label in LABELS) > 15_000  # type: ignore[misc]
    assert all(ours[rel] for rel in peer.REL_TYPES)  # every relationship type of the model is in the small city
    assert theirs == ours
