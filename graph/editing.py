"""The Cypher an API edit runs besides a load's statements: an entity read back as its import row, a
removal, the audit log (`_Audit` nodes: who, when, what, before and after)."""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any, LiteralString, cast

from neo4j import AsyncManagedTransaction

from core.areas import COMMUNITY, STREET
from core.model import NODE_SHEETS, SHEET_BY_LABEL
from graph.scope import AREA_PROPERTY, Scope

#: An audit entry, filed under the area codes of what it changed ($area: cityCode … communityCode).
AUDIT: LiteralString = """
CREATE (a:_Audit {id: randomUUID(), at: datetime(), actor: $actor, action: $action, label: $label, code: $code,
                  before: $before, after: $after})
SET a += $area
RETURN a.id AS id, toString(a.at) AS at
"""
#: The latest entries filed inside the scope ($scope, $scopeProperty from `audit_scope`).
AUDIT_LOG: LiteralString = """
MATCH (a:_Audit) WHERE ($code IS NULL OR a.code = $code) AND ($actor IS NULL OR a.actor = $actor)
  AND ($scope IS NULL OR a[$scopeProperty] = $scope)
RETURN a {.id, .actor, .action, .label, .code, .before, .after, at: toString(a.at)} AS entry
ORDER BY a.at DESC
LIMIT $first
"""
GROUPS_COVERING: LiteralString = (
    "MATCH (g:BuildingGroup)-[r:COVERS]->(:Building {code: $code}) WHERE r.until IS NULL RETURN g.code AS code"
)


def audit_scope(scope: Scope | None) -> dict[str, Any]:
    """$scope and $scopeProperty for `AUDIT_LOG` (a grid reads its community's entries: edits are filed by
    community)."""
    if scope is None:
        return {"scope": None, "scopeProperty": "code"}
    if scope.level == "grid":
        return {"scope": scope.community, "scopeProperty": COMMUNITY.property}
    return {"scope": scope.code, "scopeProperty": AREA_PROPERTY[scope.level]}


async def record_audit(tx: AsyncManagedTransaction, params: dict[str, Any]) -> tuple[str, str]:
    """Write one `_Audit` entry (`AUDIT`'s parameters); its id and time."""
    record = await (await tx.run(AUDIT, params)).single()
    assert record is not None
    return record["id"], record["at"]


@cache
def state_query(label: str) -> LiteralString:
    """A node's properties and, per link column, the codes it links to now (the row that would recreate it; a
    closed link is history, graph/validity.py)."""
    sheet = SHEET_BY_LABEL[label]
    parts = []
    for i, link in enumerate(sheet.links):
        pattern = f"(m)-[r:{link.rel}]->(n)" if link.incoming else f"(n)-[r:{link.rel}]->(m)"
        labels = " OR ".join(f"m:{t}" for t in link.targets)
        parts.append(f"COLLECT {{ MATCH {pattern} WHERE r.until IS NULL AND ({labels}) "
                     f"RETURN m.code ORDER BY m.code }} AS link{i}")  # fmt: skip
    links = (", " + ", ".join(parts)) if parts else ""
    return cast(LiteralString, f"MATCH (n:{label} {{code: $code}}) RETURN properties(n) AS props{links}")


async def read_state(tx: AsyncManagedTransaction, label: str, code: str) -> dict[str, Any] | None:
    """The entity as a row keyed by English header (None when absent); dates as ISO text."""
    record = await (await tx.run(state_query(label), {"code": code})).single()
    if record is None:
        return None
    sheet = SHEET_BY_LABEL[label]
    props = record["props"]
    row: dict[str, Any] = {}
    for column in sheet.columns:
        value = props.get(column.name)
        row[column.en] = value.iso_format() if hasattr(value, "iso_format") else value
    for i, link in enumerate(sheet.links):
        codes = list(record[f"link{i}"])
        row[link.en] = codes if link.many else (codes[0] if codes else None)
    row["_area"] = {k: props.get(k) for k in (COMMUNITY.property, STREET.property)}
    return row


@cache
def end_query(label: str) -> LiteralString:
    """End one node of `label`: its last day in force is $endedOn (it keeps its relationships and its history:
    asked about an earlier day, it is there)."""
    if label not in SHEET_BY_LABEL:
        raise ValueError(label)
    return cast(LiteralString, f"MATCH (n:{label} {{code: $code}}) SET n.until = date($endedOn)")


@cache
def children_query(label: str) -> LiteralString:
    """How many entities in force on $endedOn's morrow have this node as their parent (hierarchy link), by label."""
    still = "coalesce(c.until > date($endedOn), true)"
    parts = []
    for sheet in NODE_SHEETS:
        for link in sheet.links:
            if link.parent and label in link.targets:
                child = f"(c:{sheet.label})"
                arrow = f"(n)-[r:{link.rel}]->{child}" if link.incoming else f"(n)<-[r:{link.rel}]-{child}"
                parts.append(f"{{label: '{sheet.label}', n: COUNT {{ {arrow} WHERE {still} AND r.until IS NULL }}}}")
    return cast(LiteralString, f"MATCH (n:{label} {{code: $code}}) RETURN [{', '.join(parts)}] AS children")


async def children(tx: AsyncManagedTransaction, label: str, code: str, ended_on: date) -> dict[str, int]:
    """How many entities still in force after `ended_on` hang from this node (its children in the hierarchy),
    by label; none are left out."""
    record = await (await tx.run(children_query(label), {"code": code, "endedOn": ended_on.isoformat()})).single()
    return {c["label"]: c["n"] for c in (record["children"] if record else []) if c["n"]}


async def end_node(tx: AsyncManagedTransaction, label: str, code: str, ended_on: date) -> None:
    """End one node: `ended_on` is its last day in force."""
    await (await tx.run(end_query(label), {"code": code, "endedOn": ended_on.isoformat()})).consume()
