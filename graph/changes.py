"""What changed in a scope between two days: the dated facts that started or ended then, and the edits filed.

The parts, in order (`PARTS`): every node label that lies in an area (its start dates and its `until`), then every
link sheet's relationships (their start dates and `until`; in scope through their target, which always lies in an
area), then those labels' link columns (a building moved to another grid: the old link's `until`, the new one's
`since`; in scope through the row's node), then — for readers granted the audit log — the `_Audit` entries filed
inside the scope. A start on day d is a change on d (`started`); an `until` of d is a change on d, its last day in
force (`ended`); an audit entry is a change on the day it was filed (`edited`). Within a part, changes are ordered
by day, then entity code, then the date column, so keyset paging (`graph.paging.page_across`) walks them in a
stable order. Nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, LiteralString, cast

from neo4j import AsyncManagedTransaction

from core.model import LINK_SHEETS, NODE_SHEETS, Link, Sheet
from graph.driver import Graph
from graph.editing import audit_scope
from graph.metrics import scope_filter, scope_match
from graph.paging import page_across
from graph.scope import AreaNotFound, Scope, area_query
from graph.validity import REL_STARTS

#: Node labels that lie in an area (a unit and a property company serve the whole city: their links say where).
NODE_PARTS: tuple[Sheet, ...] = tuple(s for s in NODE_SHEETS if s.area_level or s.parent is not None)


@dataclass(frozen=True)
class ColumnPart:
    """A node sheet's link column as a part: its relationships start (`since`) and end (`until`) when a load or
    an edit changes the column of a node that existed (graph/validity.py)."""

    sheet: Sheet
    link: Link


#: Link columns of the node labels that lie in an area, in model order.
COLUMN_PARTS: tuple[ColumnPart, ...] = tuple(ColumnPart(s, lk) for s in NODE_PARTS for lk in s.links)
#: The parts in listing order: node sheets, link sheets, link columns, the audit log.
PARTS: tuple[Sheet | ColumnPart | None, ...] = (*NODE_PARTS, *LINK_SHEETS, *COLUMN_PARTS, None)
AUDIT_PART = len(PARTS) - 1
#: What each date column means, for people.
FIELD_NAMES: dict[str, str] = {
    "since": "起始日期 / since",
    "until": "终止日期 / until",
    "joinedAt": "入党日期 / joined",
    "raisedAt": "提出日期 / raised",
    "date": "日期 / date",
}


def _events(var: str, starts: tuple[str, ...], until: bool) -> LiteralString:
    """`[[column, day], …]` of an element's start columns and `until`, as a Cypher list."""
    columns = [*starts, *(["until"] if until else [])]
    return cast(LiteralString, "[" + ", ".join(f"['{c}', {var}.{c}]" for c in columns) + "]")


_IN_PERIOD: LiteralString = """
UNWIND {events} AS e
WITH {keep}, e[0] AS field, e[1] AS day
WHERE day IS NOT NULL AND day >= date($from) AND day <= date($to)
WITH {keep}, field, day, toString(day) + '|' + {code} + '|' + field AS key
WHERE key > $after
"""


@cache
def node_query(index: int, level: str) -> LiteralString:
    """A node part's changes inside a scope of `level`, after $after (a key), at most $first, in key order."""
    sheet = cast(Sheet, PARTS[index])
    events = _events("x", sheet.starts, sheet.ended_by is not None)
    period = _IN_PERIOD.replace("{events}", events).replace("{keep}", "x").replace("{code}", "x.code")
    return cast(
        LiteralString,
        f"""
{scope_match(sheet.label, Scope(level, ""))}
{period}
RETURN key, day, field, x {{.code, name: coalesce(x.name, x.title), label: labels(x)[0]}} AS entity,
       null AS related
ORDER BY key LIMIT $first
""",
    )


@cache
def link_query(index: int, level: str) -> LiteralString:
    """A link sheet's changes (its relationships' dates), in scope through the relationship's target."""
    sheet = cast(Sheet, PARTS[index])
    assert sheet.source is not None
    assert sheet.target is not None
    sources = "|".join(sheet.source.targets)
    parts = []
    for target in sheet.target.targets:
        inside = scope_filter(target, Scope(level, ""), "b")
        parts.append(f"MATCH (a:{sources})-[r:{sheet.rel}]->(b:{target}) WHERE {inside} RETURN a, r, b")
    union = "\n  UNION ALL\n  ".join(parts)
    events = _events("r", REL_STARTS, True)
    key = "b.code + '|' + elementId(r)"  # never the other end's code: it may lie outside the reader's area
    period = _IN_PERIOD.replace("{events}", events).replace("{keep}", "a, r, b").replace("{code}", key)
    return cast(
        LiteralString,
        f"""
CALL {{
  {union}
}}
{period}
RETURN key, day, field, b {{.code, name: coalesce(b.name, b.title), label: labels(b)[0]}} AS entity,
       a {{.code, name: coalesce(a.name, a.title), label: labels(a)[0]}} AS related
ORDER BY key LIMIT $first
""",
    )


@cache
def column_query(index: int, level: str) -> LiteralString:
    """A link column's changes (its relationships' `since` and `until`), in scope through the row's node."""
    part = cast(ColumnPart, PARTS[index])
    sheet, link = part.sheet, part.link
    targets = "|".join(link.targets)
    pattern = f"(x)<-[r:{link.rel}]-(b:{targets})" if link.incoming else f"(x)-[r:{link.rel}]->(b:{targets})"
    key = "x.code + '|' + elementId(r)"  # never the other end's code: it may lie outside the reader's area
    period = _IN_PERIOD.replace("{events}", _events("r", ("since",), True)).replace("{keep}", "x, r, b")
    return cast(
        LiteralString,
        f"""
{scope_match(sheet.label, Scope(level, ""))}
MATCH {pattern}
{period.replace("{code}", key)}
RETURN key, day, field, x {{.code, name: coalesce(x.name, x.title), label: labels(x)[0]}} AS entity,
       b {{.code, name: coalesce(b.name, b.title), label: labels(b)[0]}} AS related
ORDER BY key LIMIT $first
""",
    )


#: The audit entries filed inside the scope ($scope, $scopeProperty) in the period, after $after, in key order.
AUDIT_QUERY: LiteralString = """
MATCH (a:_Audit) WHERE ($scope IS NULL OR a[$scopeProperty] = $scope)
  AND date(a.at) >= date($from) AND date(a.at) <= date($to)
WITH a, toString(a.at) + '|' + a.id AS key
WHERE key > $after
RETURN key, date(a.at) AS day, 'edited' AS field, {code: a.code, name: null, label: a.label} AS entity,
       null AS related, a.actor AS actor, a.action AS action
ORDER BY key LIMIT $first
"""


@dataclass(frozen=True)
class Change:
    """One change: the part it belongs to, its key there (its position), the day, the date column, the entity
    and, for a relationship, the other end; for an edit, who and what."""

    part: int
    key: str
    day: Any
    field: str
    entity: dict[str, Any]
    related: dict[str, Any] | None
    actor: str | None = None
    action: str | None = None

    @property
    def kind(self) -> str:
        """started, ended or edited."""
        return {"until": "ended", "edited": "edited"}.get(self.field, "started")

    @property
    def relation(self) -> str | None:
        """For a relationship's change, what it is: its link sheet (任职 / Role), or its node sheet's link column
        (楼栋·所属网格 / Building.grid)."""
        part = PARTS[self.part]
        if isinstance(part, ColumnPart):
            return f"{part.sheet.zh}·{part.link.zh} / {part.sheet.key}.{part.link.en}"
        return f"{part.zh} / {part.key}" if part is not None and not part.is_node else None


@dataclass
class ChangePage:
    """A page of changes and whether more follow."""

    changes: list[Change]
    has_next: bool


async def changes(
    graph: Graph,
    scope: Scope,
    first_day: str,
    last_day: str,
    first: int,
    after: tuple[int, str] | None,
    with_audit: bool,
) -> ChangePage:
    """Changes inside `scope` from `first_day` to `last_day` (ISO dates, both included), `first` of them after
    `after`; the audit log's entries only `with_audit`. One read transaction. Raises AreaNotFound."""
    return await graph.read(_changes, scope, first_day, last_day, first, after, with_audit)


async def _changes(
    tx: AsyncManagedTransaction,
    scope: Scope,
    first_day: str,
    last_day: str,
    first: int,
    after: tuple[int, str] | None,
    with_audit: bool,
) -> ChangePage:
    params: dict[str, Any] = {
        "scope": scope.code,
        "community": scope.community,
        "from": first_day,
        "to": last_day,
        "asOf": last_day,  # a grid holds what lies in it on the period's last day
    }
    if await (await tx.run(area_query(scope.level), params)).single() is None:
        raise AreaNotFound(scope.code)

    async def fetch(index: int, start: str, limit: int) -> list[Change]:
        part = PARTS[index]
        asked = {**params, "after": start, "first": limit}
        if part is None:
            query, asked = AUDIT_QUERY, {**asked, **audit_scope(scope)}
        elif isinstance(part, ColumnPart):
            query = column_query(index, scope.level)
        elif part.is_node:
            query = node_query(index, scope.level)
        else:
            query = link_query(index, scope.level)
        result = await tx.run(query, asked)
        return [Change(index, r["key"], r["day"], r["field"], r["entity"], r["related"],
                       r.get("actor"), r.get("action")) async for r in result]  # fmt: skip

    parts = [i for i, part in enumerate(PARTS) if part is not None or with_audit]
    found, has_next = await page_across(parts, first, after, fetch)
    return ChangePage(found, has_next)
