"""Reading a scope's graph back as import rows: the Cypher `grassroots template --with-data` exports with.

The rules the queries rely on (and `loaders.export` writes by):

- **Current.** A node or relationship is read when its `until` is empty or today or later (`$today`): what a load
  ended (its `until` the day before the load, graph/validity.py) is history and is not exported; a fact that starts
  later is not ended, and is.
- **In the scope.** An area-bound node carries the codes of its areas (`cityCode` … `communityCode`,
  `core.areas`); it lies in a scope when its property of the scope's level holds the scope's code. A node is
  *exported* when it lies in the scope and is current (`_exported`).
- **A node row lists all its links.** Per link column, the codes of every current relationship of the column's type
  to the column's target labels, wherever the far node lies: loading the row then ends and makes nothing.
- **A link-sheet row** (a dated relationship) is read when it is current and either of its ends is exported.
- **What a row names is in the workbook too.** A node that an exported row names but that is not exported itself
  (the street above a community, a unit, a member of another community, a node ended since) is *needed*
  (`needed`): it is read by code, whole, with its own links — and what those name, until nothing new is named.
  The workbook then validates on its own, in an empty graph.

Every query is named and built once from the model: labels, relationship types and area properties are checked
against `core.model` and `core.areas` before they reach the text (Cypher takes no identifier as a parameter); every
value is a parameter. Rows come `PAGE` at a time in code order (`code > $after`, the code's uniqueness index), each
page a read transaction of its own: no read writes, and no page holds a whole label.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, LiteralString, cast

from core.model import LABELS, LINK_SHEETS, NODE_SHEETS, SHEET_BY_LABEL, SHEETS_BY_KEY, Sheet
from graph.driver import Graph, Rows
from graph.scope import AREA_PROPERTY, Scope

#: Rows a page holds (one read transaction each); codes asked at once for needed nodes.
PAGE, CODES = 5_000, 5_000
#: Every relationship type of the model: a node sheet's link columns' and the link sheets'.
RELATIONSHIPS: frozenset[str] = frozenset(
    {lk.rel for s in NODE_SHEETS for lk in s.links} | {s.rel for s in LINK_SHEETS}
)


class NotAnArea(ValueError):
    """A scope that is no area (a grid): an export is of a city, district, street or community."""


def _label(name: str) -> str:
    if name not in LABELS:
        raise ValueError(f"not a model label: {name!r}")
    return name


def _rel(name: str) -> str:
    if name not in RELATIONSHIPS:
        raise ValueError(f"not a model relationship: {name!r}")
    return name


def _labels(names: Iterable[str]) -> str:
    """A label expression naming any of `names` (`Community|Street`)."""
    return "|".join(_label(n) for n in names)


def _current(var: str) -> str:
    """`var` is not ended: its `until` is empty or not before $today."""
    return f"coalesce({var}.until >= date($today), true)"


def _exported(var: str, level: str) -> str:
    """The node `var` lies in the scope ($scope, a `level` area) and is current."""
    return f"(coalesce({var}.{AREA_PROPERTY[level]} = $scope, false) AND {_current(var)})"


def _step(node: str, rel: str, other: str, incoming: bool) -> str:
    """`(node)-[r:rel]->(other)`, or the other way round for an incoming link; `other` carries its labels."""
    return f"({other})-[r:{_rel(rel)}]->({node})" if incoming else f"({node})-[r:{_rel(rel)}]->({other})"


def _link_lists(sheet: Sheet) -> str:
    """Per link column of a node sheet, the codes of the nodes its current relationships reach, as a list."""
    parts = [
        f"COLLECT {{ MATCH {_step('n', lk.rel, f'm:{_labels(lk.targets)}', lk.incoming)} "
        f"WHERE {_current('r')} RETURN m.code AS c }}"
        for lk in sheet.links
    ]
    return "[" + ", ".join(parts) + "]"


@cache
def node_page(label: str, level: str) -> LiteralString:
    """A page of the exported `label` nodes of a `level` scope after code $after: code, properties, link lists."""
    n, sheet = _label(label), SHEET_BY_LABEL[label]
    return cast(
        LiteralString,
        f"MATCH (n:{n}) USING INDEX n:{n}(code) WHERE n.code > $after AND {_exported('n', level)}\n"
        f"WITH n ORDER BY n.code LIMIT $limit\n"
        f"RETURN n.code AS code, properties(n) AS props, {_link_lists(sheet)} AS links",
    )


@cache
def nodes_by_code(label: str) -> LiteralString:
    """The `label` nodes with the codes $codes, whatever their scope or dates: code, properties, link lists."""
    n, sheet = _label(label), SHEET_BY_LABEL[label]
    return cast(
        LiteralString,
        f"MATCH (n:{n}) WHERE n.code IN $codes\n"
        f"RETURN n.code AS code, properties(n) AS props, {_link_lists(sheet)} AS links ORDER BY code",
    )


@cache
def link_page(key: str, source: str, level: str) -> LiteralString:
    """A page of the `source` nodes (after code $after) with a link-sheet row to read: per node its code and its
    rows, [target code, the relationship's properties]."""
    sheet = SHEETS_BY_KEY[key]
    assert sheet.target is not None
    s, held = _label(source), f"{_current('r')} AND ({_exported('s', level)} OR {_exported('t', level)})"
    step = _step("s", sheet.rel, f"t:{_labels(sheet.target.targets)}", False)
    return cast(
        LiteralString,
        f"MATCH (s:{s}) USING INDEX s:{s}(code) WHERE s.code > $after AND EXISTS {{ MATCH {step} WHERE {held} }}\n"
        f"WITH s ORDER BY s.code LIMIT $limit\n"
        f"RETURN s.code AS code, COLLECT {{ MATCH {step} WHERE {held} RETURN [t.code, properties(r)] AS row }} AS rows",
    )


@cache
def named_outside(owner: str, rel: str, other: str, incoming: bool, level: str, by_code: bool) -> LiteralString:
    """The codes of `other` nodes that are not exported but that a current `rel` relationship from an `owner` node
    reaches: from the exported `owner` nodes (link sheets: a current relationship), or (`by_code`) from the `owner`
    nodes with the codes $codes."""
    first = "n.code IN $codes" if by_code else _exported("n", level)
    step = _step(f"n:{_label(owner)}", rel, f"m:{_label(other)}", incoming)
    return cast(
        LiteralString,
        f"MATCH {step} WHERE {first} AND {_current('r')} AND NOT {_exported('m', level)}\n"
        "RETURN DISTINCT m.code AS code",
    )


@dataclass(frozen=True)
class Export:
    """What an export reads: a scope (an area), the day it is current on, and the nodes its rows need besides."""

    scope: Scope
    today: date
    needed: dict[str, set[str]]

    def params(self, **more: Any) -> dict[str, Any]:
        """The parameters every query takes, and `more`."""
        return {"scope": self.scope.code, "today": self.today.isoformat(), **more}


def area_scope(scope: Scope) -> Scope:
    """The scope, when it is an area; `NotAnArea` (bilingual) for a grid."""
    if scope.level not in AREA_PROPERTY:
        raise NotAnArea(
            f"导出范围应为市、区、街道或社区的12位区划代码,不能是网格 {scope.code} / "
            f"an export's scope is a city, district, street or community area code, not the grid {scope.code}"
        )
    return scope


def _edges() -> Iterable[tuple[str, str, str, bool]]:
    """Every (owner, rel, other, incoming) an exported row names another node by: node sheets' link columns, and
    each end of the link sheets (the source names its target, the target its source)."""
    for sheet in NODE_SHEETS:
        for lk in sheet.links:
            yield from ((sheet.label, lk.rel, t, lk.incoming) for t in lk.targets)
    for sheet in LINK_SHEETS:
        assert sheet.source is not None
        assert sheet.target is not None
        for s in sheet.source.targets:
            for t in sheet.target.targets:
                yield s, sheet.rel, t, False
                yield t, sheet.rel, s, True


async def needed(graph: Graph, scope: Scope, today: date) -> Export:
    """The export of `scope` on `today`, with every node its rows name that it does not export itself: what the
    exported rows name, then what those nodes' own link columns name, until nothing new is named."""
    export = Export(area_scope(scope), today, defaultdict(set))
    level, found = scope.level, export.needed
    fresh: dict[str, set[str]] = defaultdict(set)
    for owner, rel, other, incoming in _edges():
        for row in await graph.read_rows(named_outside(owner, rel, other, incoming, level, False), export.params()):
            if row["code"] not in found[other]:
                found[other].add(row["code"])
                fresh[other].add(row["code"])
    while fresh:
        wave, fresh = fresh, defaultdict(set)
        for label, codes in wave.items():
            for lk in SHEET_BY_LABEL[label].links:
                for target in lk.targets:
                    cypher = named_outside(label, lk.rel, target, lk.incoming, level, True)
                    for chunk in _chunks(sorted(codes)):
                        for row in await graph.read_rows(cypher, export.params(codes=Rows(chunk))):
                            if row["code"] not in found[target]:
                                found[target].add(row["code"])
                                fresh[target].add(row["code"])
    return export


def _chunks(codes: list[str]) -> Iterable[list[str]]:
    return (codes[i : i + CODES] for i in range(0, len(codes), CODES))


async def node_rows(graph: Graph, export: Export, label: str) -> AsyncIterator[dict[str, Any]]:
    """The `label` rows of an export: its exported nodes a page at a time in code order, then the needed ones.
    Each: {"code", "props", "links": per link column the codes it names}."""
    after = ""
    while True:
        page = await graph.read_rows(node_page(label, export.scope.level), export.params(after=after, limit=PAGE))
        for row in page:
            yield row
        if len(page) < PAGE:
            break
        after = page[-1]["code"]
    for chunk in _chunks(sorted(export.needed.get(label, ()))):
        for row in await graph.read_rows(nodes_by_code(label), export.params(codes=Rows(chunk))):
            yield row


async def link_rows(graph: Graph, export: Export, key: str) -> AsyncIterator[tuple[str, str, dict[str, Any]]]:
    """A link sheet's rows of an export, (source code, target code, the relationship's properties), by source."""
    sheet = SHEETS_BY_KEY[key]
    assert sheet.source is not None
    for source in sheet.source.targets:
        after = ""
        while True:
            cypher = link_page(key, source, export.scope.level)
            page = await graph.read_rows(cypher, export.params(after=after, limit=PAGE))
            for row in page:
                for target, props in sorted(row["rows"], key=lambda r: (r[0], str(r[1].get("key", "")))):
                    yield row["code"], target, props
            if len(page) < PAGE:
                break
            after = page[-1]["code"]
