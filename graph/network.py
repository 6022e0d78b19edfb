"""Subgraphs for drawing, and the partner-unit network of an area.

`network` walks out from a root node one level per query (breadth first), keeping only nodes inside
the root's area and of the drawable labels, up to a node budget; households are collapsed into
counts on their buildings and central households unless asked for. Each node carries the gap kinds
it breaks (`graph.gaps` rules) so a drawing can mark them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any, LiteralString, cast

from neo4j import AsyncManagedTransaction

from core.model import LABELS
from graph.driver import Graph
from graph.entities import IN_SCOPE, in_scope, label_of_code, node_map, scope_params
from graph.gaps import RULES
from graph.metrics import HOUSEHOLD_HAS_CENTRAL, scope_filter
from graph.scope import LEVEL_LABEL, AreaNotFound, Scope, area_query
from graph.validity import all_in_force, in_force, rel_in_force, walk

#: Labels drawn by default, with the row of a hierarchical layout each sits on.
DRAWN: dict[str, int] = {
    "Street": 0,
    "StreetWorkingCommittee": 0,
    "Community": 1,
    "CommunityCommittee": 1,
    "Unit": 1,
    "ResidentsCommittee": 2,
    "ServiceCenter": 2,
    "Grid": 2,
    "GridBranch": 2,
    "Compound": 3,
    "BuildingGroup": 3,
    "RedStation": 3,
    "PropertyCompany": 3,
    "OwnersCommittee": 4,
    "Building": 4,
    "CentralHousehold": 5,
}
HOUSEHOLD_ROW = 6

STEP: LiteralString = (
    """
UNWIND $ids AS id
MATCH (a) WHERE elementId(a) = id
MATCH (a)-[r]-(m)
WHERE any(l IN labels(m) WHERE l IN $labels) AND """
    + rel_in_force("r")
    + " AND "
    + IN_SCOPE
    + """
RETURN elementId(a) AS from, elementId(r) AS rel, type(r) AS type, elementId(startNode(r)) AS source,
       elementId(m) AS id, """
    + node_map("m")
    + """ AS node
ORDER BY from, m.code
"""
)
_LIVES, _CONTACTS = walk("(a)<-[:IN]-(x:Household)"), walk("(a)-[:CONTACTS]->(x:Household)")
HOUSEHOLD_COUNTS: LiteralString = cast(
    LiteralString,
    f"""
UNWIND $ids AS id
MATCH (a) WHERE elementId(a) = id
RETURN id,
  CASE WHEN a:Building THEN COUNT {{ {_LIVES[0]} WHERE {_LIVES[1]} AND {in_force("x", "Household")} }}
       ELSE COUNT {{ {_CONTACTS[0]} WHERE {_CONTACTS[1]} AND {in_force("x", "Household")} }} END AS households,
  CASE WHEN a:Building
       THEN COUNT {{ {_LIVES[0]} WHERE {_LIVES[1]} AND {in_force("x", "Household")}
                    AND NOT {HOUSEHOLD_HAS_CENTRAL} }}
       ELSE 0 END AS uncovered
""",
)


@cache
def root_query(label: str) -> LiteralString:
    """The root node of a drawing, by code, inside the caller's scope."""
    return cast(
        LiteralString,
        f"MATCH (m:{_ident(label)} {{code: $code}}) WHERE {IN_SCOPE} "
        f"RETURN elementId(m) AS id, {node_map('m')} AS node",
    )


def _ident(label: str) -> str:
    if label not in LABELS:
        raise ValueError(label)
    return label


@cache
def gap_flags_query(label: str) -> LiteralString:
    """For nodes of `label` (by elementId), the gap kinds each breaks."""
    cases = [f"CASE WHEN {r.breaks} THEN '{r.kind}' END" for r in RULES if r.label == label]
    if not cases:
        return "UNWIND $ids AS id RETURN id, [] AS gaps"
    return cast(
        LiteralString,
        f"UNWIND $ids AS id MATCH (x:{label}) WHERE elementId(x) = id "
        f"RETURN id, [k IN [{', '.join(cases)}] WHERE k IS NOT NULL] AS gaps",
    )


HIDDEN_COUNTS: LiteralString = cast(
    LiteralString,
    f"""
UNWIND $ids AS id
MATCH (a) WHERE elementId(a) = id
MATCH (a)-[r]-(m)
WHERE any(l IN labels(m) WHERE l IN $hidden) AND {rel_in_force("r")} AND {IN_SCOPE}
WITH id, labels(m)[0] AS label, count(DISTINCT m) AS n
RETURN id, collect([label, n]) AS counts
""",
)


@cache
def hidden_gaps_query(label: str) -> LiteralString:
    """For drawn nodes (by elementId), how many of their neighbours of `label` (left out of the drawing) break a
    gap rule on $asOf — an aggregate of them shows how many red octagons it holds."""
    breaks = " OR ".join(f"({r.breaks})" for r in RULES if r.label == label)
    return cast(
        LiteralString,
        f"UNWIND $ids AS id MATCH (a) WHERE elementId(a) = id "
        f"MATCH (a)-[r]-(x:{_ident(label)}) WHERE {rel_in_force('r')} AND {in_scope('x')} AND ({breaks}) "
        f"RETURN id, count(DISTINCT x) AS n",
    )


@dataclass
class Drawing:
    """Nodes and edges of a drawn subgraph; `truncated` when the node budget cut it short."""

    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)  # elementId → node map
    depth: dict[str, int] = field(default_factory=dict)
    edges: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # elementId → (source, target, type)
    gaps: dict[str, list[str]] = field(default_factory=dict)
    households: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: node elementId → {label: how many neighbours of that label the drawing leaves out (`types`)}
    hidden: dict[str, dict[str, int]] = field(default_factory=dict)
    #: node elementId → {label: how many of those left-out neighbours break a gap rule}
    hidden_gaps: dict[str, dict[str, int]] = field(default_factory=dict)
    truncated: bool = False
    root: str | None = None
    #: the index in the ladder of the level of detail drawn (`network`'s `ladder`)
    detail: int = 0


@dataclass(frozen=True)
class Detail:
    """A level of detail: the labels a drawing keeps (None: every drawn label) and its node budget."""

    labels: tuple[str, ...] | None
    max_nodes: int


def scope_of_node(label: str, node: dict[str, Any]) -> Scope | None:
    """The area a drawing from this node stays in: the area itself, else the node's community."""
    for level, area_label in LEVEL_LABEL.items():
        if area_label == label:
            return Scope(level, node["code"])
    if node.get("communityCode"):
        return Scope("community", node["communityCode"])
    return None


async def network(
    graph: Graph,
    code: str,
    depth: int,
    with_households: bool,
    caller: Scope | None,
    as_of: str,
    ladder: tuple[Detail, ...],
) -> Drawing | None:
    """The subgraph around `code`, or None when no such node lies inside the caller's scope.

    `ladder` holds levels of detail, most detail first; the drawing is of the first whose walk stays within its
    node budget (the last, truncated, when none does), all in one read transaction: a level that overflows is
    left as soon as it does, and only the level drawn pays for its gap flags and counts. A level keeps the walk
    to its labels — a community's chain without its buildings — and counts on each drawn node its neighbours of
    the drawn labels left out (`Drawing.hidden`), so a drawing can show them as one aggregate to open on demand."""
    if not ladder:
        raise ValueError("a ladder holds at least one level of detail")
    return await graph.read(_network, code, depth, with_households, caller, as_of, ladder)


async def _network(
    tx: AsyncManagedTransaction,
    code: str,
    depth: int,
    with_households: bool,
    caller: Scope | None,
    as_of: str,
    ladder: tuple[Detail, ...],
) -> Drawing | None:
    node_row = None
    for label in label_of_code(code):
        node_row = await (await tx.run(root_query(label), {"code": code, **scope_params(caller, as_of)})).single()
        if node_row is not None:
            break
    if node_row is None:
        return None
    root = node_row["node"]
    area = scope_of_node(root["_label"], root)
    if caller is not None and (area is None or not area.within(caller)):
        area = caller  # a root above the caller's scope (or city-wide) is drawn with the caller's area only
    # the drawing stays inside its area: no areas above it are drawn (but the root itself)
    params = {**scope_params(area, as_of), "above": []}
    for step, detail in enumerate(ladder):
        labels = [label for label in DRAWN if detail.labels is None or label in detail.labels]
        hidden = [label for label in DRAWN if label not in labels]
        level = {**params, "labels": labels + (["Household"] if with_households else [])}
        last = step == len(ladder) - 1
        drawing = Drawing(root=node_row["id"], detail=step)
        drawing.nodes[node_row["id"]] = root
        drawing.depth[node_row["id"]] = 0
        await _walk(tx, drawing, level, depth, detail.max_nodes, stop_early=not last)
        if drawing.truncated and not last:
            continue
        await _finish(tx, drawing, level, hidden, as_of)
        return drawing
    raise AssertionError("unreachable: the last level of detail is always drawn")


async def _walk(
    tx: AsyncManagedTransaction, drawing: Drawing, params: dict[str, Any], depth: int, max_nodes: int, stop_early: bool
) -> None:
    """Breadth first from the root, one query per hop, up to `max_nodes`: past it the drawing is `truncated`
    and, with `stop_early` (a level the ladder will not draw), the walk ends there."""
    frontier = [next(iter(drawing.nodes))]
    for level in range(1, depth + 1):
        if not frontier or drawing.truncated:
            break
        following: list[str] = []
        async for r in await tx.run(STEP, {**params, "ids": frontier}):
            if r["id"] not in drawing.nodes:
                if len(drawing.nodes) >= max_nodes:
                    drawing.truncated = True
                    if stop_early:
                        return
                    continue
                drawing.nodes[r["id"]] = r["node"]
                drawing.depth[r["id"]] = level
                following.append(r["id"])
            if r["rel"] not in drawing.edges:
                source = r["source"]
                target = r["id"] if source == r["from"] else r["from"]
                drawing.edges[r["rel"]] = (source, target, r["type"])
        frontier = following


async def _finish(
    tx: AsyncManagedTransaction, drawing: Drawing, params: dict[str, Any], hidden: list[str], as_of: str
) -> None:
    """The drawn nodes' gap flags, collapsed household counts and, for the labels left out, hidden counts."""
    by_label: dict[str, list[str]] = {}
    for node_id, node in drawing.nodes.items():
        by_label.setdefault(node["_label"], []).append(node_id)
    for label, ids in by_label.items():
        if any(r.label == label for r in RULES):
            async for r in await tx.run(gap_flags_query(label), {"ids": ids, "asOf": as_of}):
                drawing.gaps[r["id"]] = list(r["gaps"])
    counted = by_label.get("Building", []) + by_label.get("CentralHousehold", [])
    if counted:
        async for r in await tx.run(HOUSEHOLD_COUNTS, {"ids": counted, "asOf": as_of}):
            drawing.households[r["id"]] = (r["households"], r["uncovered"])
    if hidden:
        async for r in await tx.run(HIDDEN_COUNTS, {**params, "hidden": hidden, "ids": list(drawing.nodes)}):
            drawing.hidden[r["id"]] = {label: int(n) for label, n in r["counts"]}
        ids = list(drawing.hidden)
        for label in {label for counts in drawing.hidden.values() for label in counts}:
            if ids and any(rule.label == label for rule in RULES):
                async for r in await tx.run(hidden_gaps_query(label), {**params, "ids": ids}):
                    if r["n"]:
                        drawing.hidden_gaps.setdefault(r["id"], {})[label] = int(r["n"])


# ---------------------------------------------------------------- partner units


@cache
def partner_query(level: str) -> LiteralString:
    """Partner units ↔ communities inside a scope on $asOf: reports and committee memberships in force that day,
    services delivered by then (graph/validity.py), and the hours."""
    inside = f"{scope_filter('Community', Scope(level, ''), 'c')} AND {in_force('c', 'Community')}"
    served = f"{scope_filter('Service', Scope(level, ''), 's')} AND {in_force('s', 'Service')}"
    unit = in_force("u", "Unit")
    return cast(
        LiteralString,
        f"""
CALL () {{
  MATCH (u:Unit)-[r:REPORTED_TO]->(c:Community) WHERE {inside} AND {rel_in_force("r")} AND {unit} RETURN u, c
  UNION
  MATCH (u:Unit)-[r:MEMBER_UNIT_OF]->(o:CommunityCommittee)-[lr:LEADS]->(c:Community)
  WHERE {inside} AND {all_in_force("r", "lr", "o:CommunityCommittee")} AND {unit} RETURN u, c
  UNION
  MATCH (s:Service)-[dr:DELIVERED_BY]->(u:Unit) WHERE {served} AND {rel_in_force("dr")} AND {unit}
  MATCH (c:Community {{code: s.communityCode}}) RETURN u, c
}}
WITH DISTINCT u, c
CALL (u, c) {{
  OPTIONAL MATCH (u)-[r:REPORTED_TO]->(c) WHERE {rel_in_force("r")}
  RETURN min(r.date) AS reportedOn, max(r.receiptReturned) AS receiptReturned
}}
CALL (u, c) {{
  OPTIONAL MATCH (s:Service)-[dr:DELIVERED_BY]->(u)
  WHERE s.communityCode = c.code AND {all_in_force("dr", "s:Service")}
  RETURN count(s) AS services, coalesce(sum(s.hours), 0) AS hours
}}
RETURN u {{.*, _label: 'Unit'}} AS unit, c {{.*, _label: 'Community'}} AS community, reportedOn, receiptReturned,
       EXISTS {{ (u)-[r:MEMBER_UNIT_OF]->(o:CommunityCommittee)-[lr:LEADS]->(c)
                 WHERE {all_in_force("r", "lr", "o:CommunityCommittee")} }} AS committeeMember, services, hours
ORDER BY u.code, c.code
""",
    )


async def partner_network(graph: Graph, scope: Scope, as_of: str) -> tuple[str, list[dict[str, Any]]]:
    """The scope's name, and one row per (unit, community) pair linked on `as_of` by a report, a membership or a
    service delivered by then."""
    return await graph.read(_partners, scope, as_of)


async def _partners(tx: AsyncManagedTransaction, scope: Scope, as_of: str) -> tuple[str, list[dict[str, Any]]]:
    own = await (await tx.run(area_query(scope.level), {"scope": scope.code})).single()
    if own is None:
        raise AreaNotFound(scope.code)
    level, params = scope.level, {"scope": scope.code, "community": scope.community, "asOf": as_of}
    if level == "grid":  # partner units serve communities: a grid reads its community's network
        level, params = "community", {"scope": scope.community, "community": scope.community, "asOf": as_of}
    rows = [r.data() async for r in await tx.run(partner_query(level), params)]
    return own["name"], rows
