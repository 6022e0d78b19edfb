"""Reading entities and their relationships in batches: the Cypher behind the GraphQL entity types.

Every query takes a list of codes (a DataLoader's batch) and the caller's scope, so a nested GraphQL
request costs one query per relationship level, whatever the number of rows. Identifiers (labels,
relationship types) come from `core.model`; codes and the scope are parameters. City-wide entities
(units, property companies) carry no area codes and are visible from every scope.

The query builders are memoised by query shape (`shape_cache`): a bounded LRU of GRASSROOTS_QUERY_CACHE
texts each. A nested look-up's shape is the client's selection, so shapes are unbounded in number; every new
one costs Neo4j a fresh plan, and kept forever they would grow the process without end.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, LiteralString, cast

from neo4j import AsyncManagedTransaction

from core.areas import AREA_LEVELS, level_of, path
from core.model import LABELS, NODE_SHEETS, Link, Sheet
from graph.driver import Graph
from graph.paging import page_across
from graph.scope import AREA_PROPERTY, Scope
from graph.settings import get_settings
from graph.statistics import by_code
from graph.validity import in_force, rel_in_force

#: The query builders' memo: the last GRASSROOTS_QUERY_CACHE query texts of each, by shape.
shape_cache = lru_cache(maxsize=get_settings().query_cache_size)


def in_scope(var: str) -> LiteralString:
    """Visible from the caller's scope on the day $asOf, for the node bound to `var`: in force that day
    (graph/validity.py: an ended branch is not shown today, though it is there for the days it was in force), and
    no scope, a city-wide node, its area matches — or it is one of the areas the scope lies in ($above), which
    `node_map` shows by code and name."""
    if not var.isidentifier():
        raise ValueError(var)
    return cast(
        LiteralString,
        f"({in_force(var, None)} AND ($scope IS NULL OR {var}.cityCode IS NULL OR {var}[$scopeProperty] = $scope "
        f"OR {var}.code IN $above))",
    )


IN_SCOPE: LiteralString = in_scope("m")


def node_map(var: str) -> LiteralString:
    """The node bound to `var` as a map with its `_label`: every property, but only code and name of an area
    above the caller's scope (a street's viewer sees which district and city it lies in, nothing more)."""
    if not var.isidentifier():
        raise ValueError(var)
    return cast(
        LiteralString,
        f"CASE WHEN {var}.code IN $above THEN {var} {{.code, .name, _label: labels({var})[0]}} "
        f"ELSE {var} {{.*, _label: labels({var})[0]}} END",
    )


def scope_params(scope: Scope | None, as_of: str | None = None) -> dict[str, Any]:
    """$scope, $scopeProperty, $above and $asOf (default today) for IN_SCOPE and `node_map` (a grid scope reads as
    its community)."""
    day = as_of or date.today().isoformat()
    if scope is None:
        return {"scope": None, "scopeProperty": "code", "above": [], "asOf": day}
    if scope.level == "grid":
        return {"scope": scope.community, "scopeProperty": "communityCode", "above": above(scope.community),
                "asOf": day}  # fmt: skip
    return {"scope": scope.code, "scopeProperty": AREA_PROPERTY[scope.level], "above": above(scope.code), "asOf": day}


def above(code: str) -> list[str]:
    """The codes of the areas an area lies in, widest first, not itself."""
    return [c for c in path(code, level_of(code).key).values() if c != code]


def _labels(labels: tuple[str, ...]) -> LiteralString:
    for label in labels:
        if label not in LABELS:
            raise ValueError(label)
    return cast(LiteralString, "|".join(labels))


@shape_cache
def by_code_query(label: str) -> LiteralString:
    """Nodes of `label` by code, inside the scope."""
    return cast(
        LiteralString,
        f"UNWIND $codes AS code {by_code('m', _labels((label,)), 'code')} WHERE {IN_SCOPE} "
        f"RETURN code, {node_map('m')} AS node",
    )


@dataclass(frozen=True)
class Hop:
    """A relationship read from one side: from `label` along `rel` to nodes of `targets`."""

    label: str
    rel: str
    targets: tuple[str, ...]
    outgoing: bool
    props: bool = False  # a link sheet's dated relationship: return its properties too


@shape_cache
def hop_query(hop: Hop) -> LiteralString:
    """For each code in $codes, the related nodes inside the scope (and the relationship's properties)."""
    rel = hop.rel if hop.rel.replace("_", "").isalpha() and hop.rel.isupper() else ""
    if not rel:
        raise ValueError(hop.rel)
    arrow = f"-[r:{rel}]->" if hop.outgoing else f"<-[r:{rel}]-"
    props = ", properties(r) AS props" if hop.props else ", null AS props"
    # a link sheet's relationships are listed with their dates (a past role too); a link column's in force only
    held = "" if hop.props else f" AND {rel_in_force('r')}"
    return cast(
        LiteralString,
        f"""
UNWIND $codes AS code
{by_code("n", _labels((hop.label,)), "code")}
MATCH (n){arrow}(m:{_labels(hop.targets)})
WHERE {IN_SCOPE}{held}
RETURN code, {node_map("m")} AS node{props}
ORDER BY code, m.code
""",
    )


def node_hops(sheet: Sheet, link: Link) -> tuple[Hop, list[Hop]]:
    """A node sheet's link column as a forward hop, and the reverse hop from each target label."""
    outgoing = not link.incoming
    forward = Hop(sheet.label, link.rel, link.targets, outgoing)
    backward = [Hop(t, link.rel, (sheet.label,), not outgoing) for t in link.targets]
    return forward, backward


def link_sheet_hops(sheet: Sheet) -> tuple[list[Hop], list[Hop]]:
    """A link sheet's dated relationship, read from each source label and from each target label."""
    assert sheet.source is not None
    assert sheet.target is not None
    out = [Hop(s, sheet.rel, sheet.target.targets, True, props=True) for s in sheet.source.targets]
    back = [Hop(t, sheet.rel, sheet.source.targets, False, props=True) for t in sheet.target.targets]
    return out, back


async def nodes_by_code(graph: Graph, label: str, codes: list[str], scope: Scope | None) -> dict[str, dict[str, Any]]:
    """code → node map (properties plus `_label`) for the codes found inside the scope."""
    rows = await graph.read_rows(by_code_query(label), {"codes": codes, **scope_params(scope)})
    return {r["code"]: r["node"] for r in rows}


async def nodes_by_labels(
    graph: Graph, codes: dict[str, list[str]], scope: Scope | None
) -> dict[tuple[str, str], dict[str, Any]]:
    """(label, code) → node map for the codes of several labels found inside the scope: one read transaction,
    one statement per label (`nodes(ids:)`, however many ids)."""
    return await graph.read(_by_labels, codes, scope_params(scope))


async def _by_labels(
    tx: AsyncManagedTransaction, codes: dict[str, list[str]], params: dict[str, Any]
) -> dict[tuple[str, str], dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for label, wanted in codes.items():
        result = await tx.run(by_code_query(label), {"codes": wanted, **params})
        async for record in result:
            found[(label, record["code"])] = record["node"]
    return found


async def follow(
    graph: Graph, hop: Hop, codes: list[str], scope: Scope | None
) -> dict[str, list[tuple[dict[str, Any], dict[str, Any] | None]]]:
    """code → [(related node, relationship properties or None)], in the related nodes' code order."""
    out: dict[str, list[tuple[dict[str, Any], dict[str, Any] | None]]] = defaultdict(list)
    rows = await graph.read_rows(hop_query(hop), {"codes": codes, **scope_params(scope)})
    for r in rows:
        out[r["code"]].append((r["node"], r["props"]))
    return out


# ---------------------------------------------------------------- one query for a nested selection
@dataclass(frozen=True)
class Level:
    """What a nested selection reads at one level: the columns, and the relationships to follow below.

    The rows come back as maps of those columns only (no label: the caller knows each level's), with
    the rows below under `_prefetched`.
    """

    columns: tuple[str, ...]
    below: tuple[tuple[str, Hop, Level], ...] = ()  # (field name, hop, the level below)


#: The labels an area above the caller's scope can have; only their code and name are shown (`node_map`).
AREA_LABELS = frozenset(level.label for level in AREA_LEVELS)


def _column(var: str, label: str, column: str) -> str:
    """One selected column of a prefetched `label` row; null for an area above the scope, but its code and name."""
    if column in ("code", "name") or label not in AREA_LABELS:
        return f".{column}"
    return f"{column}: CASE WHEN {var}.code IN $above THEN null ELSE {var}.{column} END"


def _projection(var: str, label: str, level: Level, depth: int) -> str:
    """Only the selected columns: every level's label is known (a prefetched hop has one target label)."""
    for column in level.columns:
        if not column.isidentifier():
            raise ValueError(column)
    parts = [_column(var, label, c) for c in level.columns or ("code",)]
    nested = []
    for name, hop, below in level.below:
        child = f"m{depth + 1}"
        rel = f"r{depth + 1}"
        arrow = f"-[{rel}:{hop.rel}]->" if hop.outgoing else f"<-[{rel}:{hop.rel}]-"
        held = "" if hop.props else f" AND {rel_in_force(rel)}"
        nested.append(
            f"{name}: COLLECT {{ MATCH ({var}){arrow}({child}:{_labels(hop.targets)}) WHERE {in_scope(child)}{held} "
            f"RETURN {child} {{{_projection(child, hop.targets[0], below, depth + 1)}}} AS row ORDER BY {child}.code }}"
        )
    if nested:
        parts.append("_prefetched: {" + ", ".join(nested) + "}")
    return ", ".join(parts)


@shape_cache
def prefetch_query(label: str, level: Level) -> LiteralString:
    """One entity by $code with the nested relationships of `level`, in one Cypher query."""
    projection = _projection("m0", label, level, 0)
    return cast(
        LiteralString,
        f"{by_code('m0', _labels((label,)), '$code')} WHERE {in_scope('m0')} RETURN m0 {{{projection}}} AS node",
    )


async def prefetch(graph: Graph, label: str, code: str, level: Level, scope: Scope | None) -> dict[str, Any] | None:
    """One entity with every relationship of `level` below it, nested, in one query (or None)."""
    return await graph.read(_first_node, prefetch_query(label, level), {"code": code, **scope_params(scope)})


async def _first_node(tx: AsyncManagedTransaction, cypher: LiteralString, params: dict[str, Any]) -> Any:
    """The `node` column of the first record, as the driver decoded it (maps need no `Record.data()` pass)."""
    record = await (await tx.run(cypher, params)).single()
    return record["node"] if record else None


# ---------------------------------------------------------------- search
SEARCHABLE: tuple[str, ...] = tuple(s.label for s in NODE_SHEETS if any(c.name in ("name", "title") for c in s.columns))


#: The text a search by name reads: a list entry's (需求、资源、服务) title, everything else's name.
TITLED: frozenset[str] = frozenset(s.label for s in NODE_SHEETS if any(c.name == "title" for c in s.columns))


def matches(label: str) -> LiteralString:
    """Nodes whose name (a title for the lists) contains $name and whose code starts with $prefix, inside the
    scope. The property is named, not coalesced: a CONTAINS on one property can use its text index."""
    text = "title" if label in TITLED else "name"
    return cast(
        LiteralString,
        f"($name IS NULL OR m.{text} CONTAINS $name) AND ($prefix IS NULL OR m.code STARTS WITH $prefix) AND "
        f"{IN_SCOPE}",
    )


@shape_cache
def search_query(label: str) -> LiteralString:
    """A page of `label` nodes matching a search, by code, after $after."""
    return cast(
        LiteralString,
        f"MATCH (m:{_labels((label,))}) WHERE {matches(label)} AND m.code > $after "
        f"RETURN {node_map('m')} AS node ORDER BY m.code LIMIT $first",
    )


@shape_cache
def search_count_query(label: str) -> LiteralString:
    """How many nodes of `label` match a search."""
    return cast(LiteralString, f"MATCH (m:{_labels((label,))}) WHERE {matches(label)} RETURN count(m) AS n")


@dataclass
class SearchPage:
    """One page of a search over several labels, the total, and whether more follow."""

    nodes: list[dict[str, Any]]
    total: int | None
    has_next: bool


async def search(
    graph: Graph,
    labels: tuple[str, ...],
    name: str | None,
    prefix: str | None,
    scope: Scope | None,
    first: int,
    after: tuple[int, str] | None,
    count: bool,
) -> SearchPage:
    """Search `labels` in order, each by code; one read transaction."""
    return await graph.read(_search, labels, name, prefix, scope, first, after, count)


async def _search(
    tx: AsyncManagedTransaction,
    labels: tuple[str, ...],
    name: str | None,
    prefix: str | None,
    scope: Scope | None,
    first: int,
    after: tuple[int, str] | None,
    count: bool,
) -> SearchPage:
    params: dict[str, Any] = {"name": name, "prefix": prefix, **scope_params(scope)}
    total = None
    if count:
        total = 0
        for label in labels:
            record = await (await tx.run(search_count_query(label), params)).single()
            total += record["n"] if record else 0

    async def fetch(index: int, start: str, limit: int) -> list[dict[str, Any]]:
        result = await tx.run(search_query(labels[index]), {**params, "after": start, "first": limit})
        return [r["node"] async for r in result]

    found, has_next = await page_across(range(len(labels)), first, after, fetch)
    return SearchPage(found, total, has_next)


def label_of_code(code: str) -> tuple[str, ...]:
    """The labels a code can belong to, from its shape (own prefix, area level, or credit code)."""
    prefix = code.split("-", 1)[0]
    own = tuple(s.label for s in NODE_SHEETS if s.prefix and s.prefix == prefix)
    if own:
        return own
    if len(code) == 12 and code.isdigit():
        return (level_of(code).label,)
    if len(code) == 18:
        return ("Unit", "PropertyCompany")
    return ()
