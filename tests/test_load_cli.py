"""`grassroots load` into a database with no schema yet: migrations run alongside validation, before any write."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from cli import InBackground
from core.model import LINK_SHEETS, NODE_SHEETS
from graph.driver import Graph
from graph.migrations import MIGRATIONS, applied_versions, migrate
from graph.password import neo4j_password
from graph.settings import PROJECT_ROOT, Settings
from loaders.demo import write_demo
from loaders.load import load_file
from tests.helpers import SHOW_CONSTRAINTS, SHOW_INDEXES, clear, graph_counts, schema_state


async def _drop_schema(graph: Graph) -> None:
    """Back to a database that was never migrated: no constraints, no indexes, no migration records."""
    for row in await graph.read_rows(SHOW_CONSTRAINTS):
        await graph.write_rows(f"DROP CONSTRAINT {row['name']}")  # type: ignore[arg-type] - names from SHOW
    for row in await graph.read_rows(SHOW_INDEXES):
        if row["type"] != "LOOKUP":  # the label and type lookups come with every database
            await graph.write_rows(f"DROP INDEX {row['name']}")  # type: ignore[arg-type]
    await graph.write_rows("MATCH (m:_Migration) DELETE m")


@pytest.mark.slow
async def test_a_load_into_an_unmigrated_database_migrates_it_first(
    graph: Graph, settings: Settings, tmp_path: Path
) -> None:
    await migrate(graph)
    migrated = await schema_state(graph)
    data = tmp_path / "small"
    manifest = write_demo("small", 5, data)
    await clear(graph)
    await _drop_schema(graph)
    assert await applied_versions(graph) == []
    env = {
        **os.environ,
        "NEO4J_URI": settings.effective_uri,
        "NEO4J_USER": settings.neo4j_user,
        "NEO4J_PASSWORD": neo4j_password(settings),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", "load", str(data), env=env, cwd=PROJECT_ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=600)
    assert proc.returncode == 0, out.decode()[-2000:]
    assert await applied_versions(graph) == [m.version for m in MIGRATIONS]
    assert await schema_state(graph) == migrated  # every constraint and index, as a migrated database has them
    assert (await graph_counts(graph))["nodes"] == sum(manifest["entities"][s.key] for s in NODE_SHEETS)


async def test_in_background_hands_its_failure_to_the_caller(settings: Settings) -> None:
    async def fail(graph: Graph) -> None:
        await graph.read_rows("RETURN 1 AS one")
        raise LookupError("the work failed")

    work = InBackground(fail, settings, settings.effective_uri)
    with pytest.raises(LookupError, match="the work failed"):
        await work.done()
    work.join()


async def test_before_writes_is_awaited_after_validation_and_before_any_write(graph: Graph, tmp_path: Path) -> None:
    await migrate(graph)
    await clear(graph)
    data = tmp_path / "small"
    write_demo("small", 5, data)
    seen: list[int] = []

    async def before_writes() -> None:
        seen.append((await graph_counts(graph))["nodes"])

    result = await load_file(data, graph, before_writes=before_writes)
    assert seen == [0]
    assert (await graph_counts(graph))["nodes"] == result.summary.rows - sum(
        result.plan.valid_count(s.key) for s in LINK_SHEETS
    )
