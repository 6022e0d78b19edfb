"""Schema migrations: every entity's code is unique, and a second run changes nothing."""

from __future__ import annotations

import pytest
from neo4j.exceptions import ConstraintError

from core.model import LABELS
from graph.driver import Graph
from graph.loading import node_fields
from graph.migrations import MIGRATIONS, applied_versions, migrate
from tests.helpers import schema_state


async def test_migrations_are_applied_once_and_idempotent(graph: Graph) -> None:
    await migrate(graph)  # whatever the suite did before, the schema is now current
    before = await schema_state(graph)
    versions = await applied_versions(graph)
    assert versions == [m.version for m in MIGRATIONS]

    assert await migrate(graph) == []
    assert await schema_state(graph) == before
    assert await applied_versions(graph) == versions
    migration_nodes = await graph.read_rows("MATCH (m:_Migration) RETURN count(m) AS n")
    assert migration_nodes == [{"n": len(MIGRATIONS)}]


async def test_every_entity_has_a_unique_code_constraint(graph: Graph) -> None:
    await migrate(graph)
    rows = await graph.read_rows(
        "SHOW CONSTRAINTS YIELD type, labelsOrTypes, properties "
        "WHERE type = 'UNIQUENESS' AND properties = ['code'] RETURN labelsOrTypes[0] AS label"
    )
    assert {r["label"] for r in rows} >= LABELS


async def test_indexes_are_online(graph: Graph) -> None:
    await migrate(graph)
    rows = await graph.read_rows("SHOW INDEXES YIELD name, state WHERE state <> 'ONLINE' RETURN name, state")
    assert rows == []


async def test_every_index_is_on_a_property_the_model_writes(graph: Graph) -> None:
    """An index on a property no load writes stays empty and misleads whoever reads the schema."""
    await migrate(graph)
    rows = await graph.read_rows(
        "SHOW INDEXES YIELD name, entityType, labelsOrTypes, properties "
        "WHERE entityType = 'NODE' AND properties IS NOT NULL RETURN name, labelsOrTypes[0] AS label, properties"
    )
    written = {label: {"code", *(name for name, _ in node_fields(label))} for label in LABELS}
    indexed = [(r["name"], r["label"], p) for r in rows if r["label"] in written for p in r["properties"]]
    assert [(name, label, p) for name, label, p in indexed if p not in written[label]] == []
    assert {r["label"] for r in rows} & LABELS  # the check saw the model's indexes


async def test_code_uniqueness_is_enforced(graph: Graph) -> None:
    await migrate(graph)
    await graph.write_rows("MERGE (:Street {code: 'test-unique-1'})")
    try:
        with pytest.raises(ConstraintError):
            await graph.write_rows("CREATE (:Street {code: 'test-unique-1'})")
    finally:
        await graph.write_rows("MATCH (s:Street {code: 'test-unique-1'}) DETACH DELETE s")


def test_model_doc_is_generated_from_the_current_model() -> None:
    from reports.modeldoc import DOC, render

    assert DOC.read_text(encoding="utf-8") == render(), "docs/model.md is stale: run python -m reports.modeldoc"
