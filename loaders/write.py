"""Batched, idempotent graph writes: `UNWIND` batches in managed write transactions, one per batch.

The Cypher is built once per (sheet, link, label) from the model's identifiers — labels and
relationship types, which Cypher cannot take as parameters; every value is a parameter.
Nodes are upserted with MERGE on `code` and `SET n = props` (so loading the same rows twice
changes nothing); a node sheet's link columns replace that node's relationships of the type, so a
building moved to another group moves; link sheets MERGE dated relationships by their key.
"""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, LiteralString, cast

from neo4j import AsyncManagedTransaction

from graph.driver import Graph
from graph.model import LABELS, NODE_SHEETS, SHEET_BY_LABEL, SHEETS, Kind, Link, Sheet
from loaders.validate import AREA_KEYS, Plan, Row

BATCH = 5000
_IDENT = re.compile(r"[A-Z][A-Za-z]*|[A-Z][A-Z_]*")


def _ident(name: str) -> str:
    if not _IDENT.fullmatch(name):
        raise ValueError(f"not a model identifier: {name!r}")
    return name


def node_fields(label: str) -> tuple[tuple[str, bool], ...]:
    """(property, is_date) in payload order after `code`: the sheet's columns, then the area codes."""
    sheet = SHEET_BY_LABEL[label]
    fields = [(c.name, c.kind is Kind.DATE) for c in sheet.columns if c.name != "code"]
    return (*fields, *((k, False) for k in AREA_KEYS))


@cache
def upsert_nodes(label: str) -> LiteralString:
    """MERGE nodes by code, replace their properties, say what changed.

    Rows travel as lists ([code, value...] in `node_fields` order, dates as ISO text) — far cheaper for the
    driver to pack than maps; Neo4j builds the property map and parses the dates.
    """
    if label not in LABELS:
        raise ValueError(label)
    entries = ["code: r[0]"]
    for i, (name, is_date) in enumerate(node_fields(label), start=1):
        entries.append(f"{_prop(name)}: " + (f"date(r[{i}])" if is_date else f"r[{i}]"))
    props = ", ".join(entries)
    return cast(
        LiteralString,
        f"""
UNWIND $rows AS r
MERGE (n:{_ident(label)} {{code: r[0]}})
WITH n, r, properties(n) AS before
SET n = {{{props}}}
WITH r, before, properties(n) AS after
WITH r, before = {{code: r[0]}} AS created, before = after AS unchanged
RETURN sum(CASE WHEN created THEN 1 ELSE 0 END) AS created,
       sum(CASE WHEN NOT created AND NOT unchanged THEN 1 ELSE 0 END) AS updated,
       sum(CASE WHEN unchanged THEN 1 ELSE 0 END) AS unchanged,
       collect(CASE WHEN NOT created THEN r[0] END) AS existed
""",
    )


def _prop(name: str) -> str:
    if not re.fullmatch(r"[a-z][A-Za-z0-9]*", name):
        raise ValueError(f"not a model property: {name!r}")
    return name


@cache
def replace_links(label: str, rel: str, target: str, incoming: bool) -> tuple[LiteralString, LiteralString]:
    """Delete this node's `rel` links to `target` nodes not listed, then MERGE the listed ones."""
    n, r, t = _ident(label), _ident(rel), _ident(target)
    pattern = f"(old:{t})-[r:{r}]->(n)" if incoming else f"(n)-[r:{r}]->(old:{t})"
    delete = f"""
UNWIND $rows AS row
MATCH (n:{n} {{code: row[0]}})
MATCH {pattern}
WHERE NOT old.code IN row[1]
DELETE r
"""
    merge = f"(m)-[:{r}]->(n)" if incoming else f"(n)-[:{r}]->(m)"
    create = f"""
UNWIND $pairs AS p
MATCH (n:{n} {{code: p[0]}})
MATCH (m:{t} {{code: p[1]}})
MERGE {merge}
"""
    return cast(LiteralString, delete), cast(LiteralString, create)


@cache
def upsert_links(source: str, rel: str, target: str) -> LiteralString:
    """MERGE dated relationships of a link sheet by (source, target, key); replace their properties."""
    s, r, t = _ident(source), _ident(rel), _ident(target)
    return cast(
        LiteralString,
        f"""
UNWIND $rows AS row
MATCH (a:{s} {{code: row.source}})
MATCH (b:{t} {{code: row.target}})
MERGE (a)-[l:{r} {{key: row.key}}]->(b)
WITH l, row, properties(l) AS before
SET l = row.props
RETURN sum(CASE WHEN before = {{key: row.key}} THEN 1 ELSE 0 END) AS created,
       sum(CASE WHEN before <> {{key: row.key}} AND before <> row.props THEN 1 ELSE 0 END) AS updated,
       sum(CASE WHEN before = row.props THEN 1 ELSE 0 END) AS unchanged
""",
    )


@cache
def propagate_area(child: str, rel: str, parent: str) -> LiteralString:
    """Copy the parent's area codes to children whose codes differ (after a move)."""
    c, r, p = _ident(child), _ident(rel), _ident(parent)
    sets = ", ".join(f"c.{k} = p.{k}" for k in AREA_KEYS)
    differs = " OR ".join(f"coalesce(c.{k}, '') <> coalesce(p.{k}, '')" for k in AREA_KEYS)
    return cast(LiteralString, f"MATCH (c:{c})-[:{r}]->(p:{p}) WHERE {differs} SET {sets} RETURN count(c) AS moved")


@cache
def lookup_codes(label: str) -> LiteralString:
    """Codes of `label` already in the graph, with their area codes."""
    fields = ", ".join(f"n.{k} AS {k}" for k in AREA_KEYS)
    return cast(LiteralString, f"MATCH (n:{_ident(label)}) WHERE n.code IN $codes RETURN n.code AS code, {fields}")


@dataclass
class Summary:
    """What a load did, per entity: created, updated, unchanged; relationships created and deleted."""

    nodes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    links: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    rows: int = 0
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # phase → wall time


def node_payload(row: Row, fields: tuple[tuple[str, bool], ...]) -> list[Any]:
    """A node's row as sent: [code, values in `node_fields` order]; dates as ISO text, absent as null."""
    props, area = row.props, row.area
    out: list[Any] = [row.code]
    for name, is_date in fields:
        value = props.get(name) if name in props else area.get(name) or None
        out.append(value.isoformat() if is_date and value is not None else value)
    return out


def _batches(items: list[Any], size: int = BATCH) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def write_plan(graph: Graph, plan: Plan, progress: Callable[[int], None] | None = None) -> Summary:
    """Write every valid row: nodes first (parents first), then relationships; one transaction per batch."""
    summary = Summary()
    tick = progress or (lambda _n: None)
    existed: dict[str, set[str]] = {}
    started = time.perf_counter()
    for sheet in NODE_SHEETS:
        rows = plan.valid_rows(sheet.key)
        existed[sheet.label] = set()
        fields = node_fields(sheet.label)
        for batch in _batches(rows):
            payload = [node_payload(r, fields) for r in batch]
            result, codes = await graph.write(_upsert, upsert_nodes(sheet.label), {"rows": payload})
            summary.nodes[sheet.label].update(result)
            existed[sheet.label].update(codes)
            tick(len(batch))
    summary.seconds["nodes"] = time.perf_counter() - started
    started = time.perf_counter()
    for sheet in SHEETS:
        rows = plan.valid_rows(sheet.key)
        if sheet.is_node:
            for link in sheet.links:
                await _write_node_links(graph, sheet, link, rows, summary, existed[sheet.label])
        else:
            await _write_link_sheet(graph, sheet, rows, summary, tick)
    summary.seconds["relationships"] = time.perf_counter() - started
    started = time.perf_counter()
    await _propagate(graph, summary)
    summary.seconds["area propagation"] = time.perf_counter() - started
    summary.rows = sum(len(plan.valid_rows(s.key)) for s in SHEETS)
    return summary


async def _write_node_links(
    graph: Graph, sheet: Sheet, link: Link, rows: list[Row], summary: Summary, existed: set[str]
) -> None:
    """Replace each row's links of this column; nodes created by this load have none to delete."""
    for target in link.targets:
        delete, create = replace_links(sheet.label, link.rel, target, link.incoming)
        for batch in _batches(rows):
            listed = [[r.code, [c for lbl, c in r.resolved.get(link.en, ()) if lbl == target]] for r in batch]
            pairs = [[code, c] for code, targets in listed for c in targets]
            stale = [x for x in listed if x[0] in existed]
            if not pairs and not stale:
                continue
            counters = await graph.write(_replace, delete, create, stale, pairs)
            summary.links[f"{sheet.label}-{link.rel}->{target}"].update(counters)


async def _write_link_sheet(
    graph: Graph, sheet: Sheet, rows: list[Row], summary: Summary, tick: Callable[[int], None]
) -> None:
    assert sheet.source is not None
    assert sheet.target is not None
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        (src_label, src), (dst_label, dst) = r.resolved[sheet.source.en][0], r.resolved[sheet.target.en][0]
        key = str(r.props.get("role", ""))
        groups[(src_label, dst_label)].append(
            {"source": src, "target": dst, "key": key, "props": {**r.props, "key": key}}
        )
    for (src_label, dst_label), items in groups.items():
        for batch in _batches(items):
            result = await graph.write(_counts, upsert_links(src_label, sheet.rel, dst_label), {"rows": batch})
            summary.links[sheet.key].update(result)
            tick(len(batch))


async def _propagate(graph: Graph, summary: Summary) -> None:
    """After moves, children inherit their new parent's area codes."""
    moved = any(c["updated"] for c in summary.nodes.values()) or any(c["deleted"] for c in summary.links.values())
    if not moved:
        return
    for sheet in NODE_SHEETS:
        parent = sheet.parent
        if parent is None or sheet.area_level:
            continue
        for target in parent.targets:
            await graph.write_rows(propagate_area(sheet.label, parent.rel, target))


async def _counts(tx: AsyncManagedTransaction, cypher: LiteralString, params: dict[str, Any]) -> Counter[str]:
    result = await tx.run(cypher, params)
    record = await result.single()
    return Counter({k: int(v or 0) for k, v in (record.data() if record else {}).items()})


async def _upsert(
    tx: AsyncManagedTransaction, cypher: LiteralString, params: dict[str, Any]
) -> tuple[Counter[str], list[str]]:
    record = await (await tx.run(cypher, params)).single()
    assert record is not None
    counts = Counter({k: int(record[k] or 0) for k in ("created", "updated", "unchanged")})
    return counts, list(record["existed"])


async def _replace(
    tx: AsyncManagedTransaction,
    delete: LiteralString,
    create: LiteralString,
    listed: list[dict[str, Any]],
    pairs: list[dict[str, Any]],
) -> Counter[str]:
    deleted = created = 0
    if listed:
        deleted = (await (await tx.run(delete, {"rows": listed})).consume()).counters.relationships_deleted
    if pairs:
        created = (await (await tx.run(create, {"pairs": pairs})).consume()).counters.relationships_created
    return Counter({"created": created, "deleted": deleted})


@cache
def prune_nodes(label: str) -> LiteralString:
    """Delete `label` nodes inside the area that the workbook no longer lists."""
    return cast(
        LiteralString,
        f"""
MATCH (n:{_ident(label)})
WHERE (n.districtCode IN $districts OR n.streetCode IN $streets OR n.communityCode IN $communities)
  AND NOT n.code IN $codes
WITH n LIMIT 10000
DETACH DELETE n
RETURN count(*) AS deleted
""",
    )


@cache
def prune_links(source: str, rel: str, target: str) -> LiteralString:
    """Delete a link sheet's relationships inside the area that the workbook no longer lists."""
    s, r, t = _ident(source), _ident(rel), _ident(target)
    inside = " OR ".join(
        f"{n}.{k} IN ${v}"
        for n in ("a", "b")
        for k, v in (("districtCode", "districts"), ("streetCode", "streets"), ("communityCode", "communities"))
    )
    return cast(
        LiteralString,
        f"""
MATCH (a:{s})-[l:{r}]->(b:{t})
WHERE ({inside}) AND NOT [a.code, b.code, coalesce(l.key, '')] IN $keys
DELETE l
RETURN count(*) AS deleted
""",
    )


def prune_area(plan: Plan) -> dict[str, list[str]]:
    """The workbook's own area: its highest area sheet's codes, else the communities its rows lie in."""
    for key, level in (("District", "districts"), ("Street", "streets"), ("Community", "communities")):
        rows = plan.valid_rows(key)
        if rows:
            return {"districts": [], "streets": [], "communities": [], level: sorted({r.code for r in rows})}
    communities = sorted(
        {
            r.area["communityCode"]
            for rows in plan.rows.values()
            for r in rows
            if not r.bad and r.area.get("communityCode")
        }
    )
    return {"districts": [], "streets": [], "communities": communities}


async def prune(graph: Graph, plan: Plan, summary: Summary) -> None:
    """With --prune: remove, inside the workbook's area only, what its sheets no longer list."""
    area = prune_area(plan)
    if not any(area.values()):
        return
    present = {s.key for s in SHEETS if plan.rows.get(s.key)}
    for sheet in reversed(SHEETS):  # children first
        if sheet.key not in present:
            continue
        if sheet.is_node:
            if sheet.label in {"City", "Unit", "PropertyCompany"}:
                continue  # city-wide entities are never pruned by an area's workbook
            codes = [r.code for r in plan.valid_rows(sheet.key)]
            while True:
                rows = await graph.write_rows(prune_nodes(sheet.label), {**area, "codes": codes})
                summary.nodes[sheet.label]["deleted"] += rows[0]["deleted"]
                if rows[0]["deleted"] < 10000:
                    break
        else:
            assert sheet.source is not None
            assert sheet.target is not None
            keys = []
            for r in plan.valid_rows(sheet.key):
                keys.append(
                    [r.resolved[sheet.source.en][0][1], r.resolved[sheet.target.en][0][1], str(r.props.get("role", ""))]
                )
            for src in sheet.source.targets:
                for dst in sheet.target.targets:
                    rows = await graph.write_rows(prune_links(src, sheet.rel, dst), {**area, "keys": keys})
                    summary.links[sheet.key]["deleted"] += rows[0]["deleted"]
