"""The history of loads: one `_Load` node per `grassroots load` that wrote, newest first.

A `_Load` holds the input's file name and SHA-256, who loaded it (`actor`, `actorKind`: "account" for the
GRASSROOTS_LOAD_AS account, "os" for the operating-system user of an operator's own load), when (`at`), the
loaded scope (`scope`, `scopeLevel`: the narrowest area holding its rows, `loaders.effect.load_scope`), how many
rows, and two JSON strings: `counts` (per sheet and per link column: created, updated, unchanged, ended) and
`effect` (the scope's gap counts and coverage before → after). It is filed under its scope's area codes
(`cityCode` … `communityCode`), as `_Audit` entries are, so a reader sees only the loads whose scope lies inside
its own (`graph.editing.audit_scope`); a load of no one area (units only, several cities) has no area codes and
only a reader of everything sees it. A load refused by validation wrote nothing and is not recorded: the
history is of what changed the graph (the refusal is on the loader's terminal, with every problem).
`previous` is the load of the same scope just before. Nothing here writes but `record`.
"""

from __future__ import annotations

from typing import Any, LiteralString

from core.areas import path
from graph.driver import Graph
from graph.editing import audit_scope
from graph.scope import Scope

#: One load. $area: the scope's area codes by property ({} for a load of no one area).
RECORD: LiteralString = """
CREATE (l:_Load {id: randomUUID(), at: datetime(), file: $file, sha256: $sha256, actor: $actor,
                 actorKind: $actorKind, scope: $scope, scopeLevel: $scopeLevel, rows: $rows, counts: $counts,
                 effect: $effect})
SET l += $area
RETURN l.id AS id, toString(l.at) AS at
"""
_FIELDS: LiteralString = (
    "l {.id, .file, .sha256, .actor, .actorKind, .scope, .scopeLevel, .rows, .counts, .effect, at: toString(l.at)}"
)
#: The newest loads filed inside a scope (`audit_scope`'s parameters), before $before (an ISO time) if given.
LOADS: LiteralString = (
    "MATCH (l:_Load) WHERE ($scope IS NULL OR l[$scopeProperty] = $scope) "
    "AND ($before IS NULL OR l.at < datetime($before)) "
    f"RETURN {_FIELDS} AS entry ORDER BY l.at DESC LIMIT $first"
)
#: The load of the same scope just before load $id, if the reader's scope holds it.
PREVIOUS: LiteralString = (
    "MATCH (n:_Load {id: $id}) MATCH (l:_Load) WHERE l.scope = n.scope AND l.at < n.at "
    "AND ($scope IS NULL OR l[$scopeProperty] = $scope) "
    f"RETURN {_FIELDS} AS entry ORDER BY l.at DESC LIMIT 1"
)


def area_of(scope: Scope | None) -> dict[str, str]:
    """The area codes a load of `scope` is filed under (none for a load of no one area)."""
    if scope is None:
        return {}
    return path(scope.community, "community" if scope.level == "grid" else scope.level)


async def record(graph: Graph, entry: dict[str, Any], scope: Scope | None) -> tuple[str, str]:
    """Write one `_Load` (`RECORD`'s parameters but $area and the scope's); its id and time."""
    params = {**entry, "scope": scope.code if scope else None, "scopeLevel": scope.level if scope else None,
              "area": area_of(scope)}  # fmt: skip
    rows = await graph.write_rows(RECORD, params)
    return rows[0]["id"], rows[0]["at"]


async def loads(graph: Graph, scope: Scope | None, first: int, before: str | None = None) -> list[dict[str, Any]]:
    """The newest loads filed inside `scope` (None: all), at most `first`."""
    params = {"first": first, "before": before, **audit_scope(scope)}
    return [r["entry"] for r in await graph.read_rows(LOADS, params)]


async def previous(graph: Graph, load_id: str, scope: Scope | None) -> dict[str, Any] | None:
    """The load of the same scope just before `load_id`, when `scope` (None: all) holds it."""
    rows = await graph.read_rows(PREVIOUS, {"id": load_id, **audit_scope(scope)})
    return rows[0]["entry"] if rows else None
